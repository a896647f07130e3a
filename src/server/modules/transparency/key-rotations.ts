// A domain's log key rotations (docs/transparency.md "Log key and rotation"): `pepkeys kt rotate-key` signs
// "the new key follows the old one" with the old key, appends that statement to DATA/kt/DOMAIN.rotations.xml
// (one <key-rotation/> per line, oldest first; public, so no secrecy needed), keeps the old key file under
// its key id, and puts the new key in its place. The server serves the statements (<key-rotations/> IQ), so
// a client that pinned the old key can follow the chain to the new one. Run with the server stopped.
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { parseXml } from '../../../xml/index.ts';
import { buildKeyRotation, parseKeyRotation, signKeyRotation, verifyKeyRotation, type KeyRotation } from '../../../transparency/key-rotation.ts';
import { logKeyId, rawEd25519PublicKey } from '../../../transparency/tree-head.ts';
import { loadOrCreateLogKey, logKeyPath, LogKeyError } from './log-key.ts';

export function rotationsPath(dataDir: string, domain: string): string {
  return join(dataDir, 'kt', `${domain}.rotations.xml`);
}

/** The domain's statements, oldest first; a statement that does not verify stops the server (a corrupt file). */
export function loadRotations(dataDir: string, domain: string): KeyRotation[] {
  let text: string;
  try {
    text = readFileSync(rotationsPath(dataDir, domain), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return text.split('\n').filter((l) => l.trim()).map((line, i) => {
    const r = parseKeyRotation(parseXml(line));
    if (r.domain !== domain || !verifyKeyRotation(r)) throw new LogKeyError(`${rotationsPath(dataDir, domain)}: statement ${i + 1} is not a valid rotation of ${domain}'s log key`);
    return r;
  });
}

/** Replaces the domain's log key with a new one, signed over by the old one. Returns the statement. */
export function rotateLogKey(dataDir: string, domain: string, time = Date.now()): { rotation: KeyRotation; retired: string } {
  const { key: old, created } = loadOrCreateLogKey(dataDir, domain);
  if (created) throw new LogKeyError(`${domain} had no log key yet (one was created now); there is nothing to rotate`);
  const { privateKey } = generateKeyPairSync('ed25519');
  const rotation = signKeyRotation(domain, old, privateKey, time);
  const path = logKeyPath(dataDir, domain);
  const retired = join(dataDir, 'kt', `${domain}.${logKeyId(rawEd25519PublicKey(old)).slice(0, 16)}.retired.ed25519.pem`);
  // The statement first: if anything below fails, the old key is still in place and the statement is
  // harmless (it names a key nobody signs with).
  appendFileSync(rotationsPath(dataDir, domain), `${buildKeyRotation(rotation).toString()}\n`, { mode: 0o644 });
  writeFileSync(`${path}.new`, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  renameSync(path, retired);
  renameSync(`${path}.new`, path);
  return { rotation, retired };
}
