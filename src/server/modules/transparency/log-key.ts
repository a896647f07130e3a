// Each served domain's Ed25519 log key, which signs its tree heads: DATA/kt/DOMAIN.ed25519.pem (PKCS#8),
// created on first use with mode 0600 in a 0700 directory. A key file readable by others is refused rather
// than used: anyone who can read it can sign heads for the domain. Rotation is docs/transparency.md's.
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync, createPrivateKey, type KeyObject } from 'node:crypto';
import { join } from 'node:path';

export function logKeyPath(dataDir: string, domain: string): string {
  return join(dataDir, 'kt', `${domain}.ed25519.pem`);
}

export class LogKeyError extends Error {
  readonly code = 'KT_LOG_KEY';
}

export function loadOrCreateLogKey(dataDir: string, domain: string): { key: KeyObject; created: boolean } {
  const path = logKeyPath(dataDir, domain);
  let pem: string | undefined;
  try {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) throw new LogKeyError(`log key ${path} is readable or writable by others (mode ${mode.toString(8)}); chmod 600 it`);
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (pem !== undefined) {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new LogKeyError(`log key ${path} is not an Ed25519 key`);
    return { key, created: false };
  }
  mkdirSync(join(dataDir, 'kt'), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  // 'wx': never replace a key another process wrote meanwhile.
  writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { key: privateKey, created: true };
}
