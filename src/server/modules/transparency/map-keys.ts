// Each served domain's keys for the verifiable map (Stage 2, docs/transparency.md "VRF and labels"), beside
// its log key and made the same way: created on first start with mode 0600 in a 0700 DATA/kt/, loaded
// afterwards, refused when readable by others, carried by `pepkeys backup`/`restore`.
//   DATA/kt/DOMAIN.vrf.ed25519.pem   the VRF secret key: an Ed25519 seed, as PKCS#8 (RFC 9381 uses RFC 8032 keys)
//   DATA/kt/DOMAIN.commit-secret     32 random bytes, from which each label's commitment nonce is derived
// Neither can be rotated without re-labelling (VRF) or re-committing (secret) the whole map.
import { chmodSync, closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { vrfKeyPairFromSeed, type VrfKeyPair } from '../../../transparency/vrf.ts';

export interface MapKeys {
  vrf: VrfKeyPair;
  commitSecret: Uint8Array;
}

export const COMMIT_SECRET_LENGTH = 32;

export class MapKeyError extends Error {
  readonly code = 'KT_MAP_KEY';
}

export const vrfKeyPath = (dataDir: string, domain: string) => join(dataDir, 'kt', `${domain}.vrf.ed25519.pem`);
export const commitSecretPath = (dataDir: string, domain: string) => join(dataDir, 'kt', `${domain}.commit-secret`);

/** The file's bytes, undefined when it does not exist; a file others may read or write is refused. */
function readPrivate(path: string): Buffer | undefined {
  try {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) throw new MapKeyError(`${path} is readable or writable by others (mode ${mode.toString(8)}); chmod 600 it`);
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Writes a new key file whole or not at all: written and synced under a temporary name, then linked into
 * place, which fails if another process made the key meanwhile (then that key is used). A crash never
 * leaves an empty or partial key file that would stop the next start.
 */
function writePrivate(dataDir: string, path: string, content: string | Uint8Array): void {
  mkdirSync(join(dataDir, 'kt'), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  // 'w': a file of this name is a leftover of a crashed process of the same pid (pid 1 in a container).
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, typeof content === 'string' ? Buffer.from(content) : content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    chmodSync(tmp, 0o600);
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
}

function seedOf(pem: Buffer | string, path: string): Uint8Array {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new MapKeyError(`${path} is not an Ed25519 key`);
  return new Uint8Array(Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url'));
}

export function loadOrCreateMapKeys(dataDir: string, domain: string): MapKeys & { created: boolean } {
  let created = false;
  const vrfPath = vrfKeyPath(dataDir, domain);
  let pem = readPrivate(vrfPath);
  if (pem === undefined) {
    const { privateKey } = generateKeyPairSync('ed25519');
    writePrivate(dataDir, vrfPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    pem = readFileSync(vrfPath);
    created = true;
  }
  const secretPath = commitSecretPath(dataDir, domain);
  let secret = readPrivate(secretPath);
  if (secret === undefined) {
    writePrivate(dataDir, secretPath, randomBytes(COMMIT_SECRET_LENGTH));
    secret = readFileSync(secretPath);
    created = true;
  }
  if (secret.length !== COMMIT_SECRET_LENGTH) throw new MapKeyError(`${secretPath} is not ${COMMIT_SECRET_LENGTH} bytes`);
  return { vrf: vrfKeyPairFromSeed(seedOf(pem, vrfPath)), commitSecret: new Uint8Array(secret), created };
}
