// node:crypto in the browser build, for the synchronous hashes and random bytes the shared code uses
// (fingerprints, entity caps, ids): @noble/hashes and crypto.getRandomValues. Signing, SCRAM and key
// generation in the console use WebCrypto directly (src/keys/webcrypto-signing.ts, src/client/sasl-scram.ts);
// anything else from node:crypto is absent here on purpose.
import { sha1 } from '@noble/hashes/legacy.js';
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { sha3_256, sha3_384, sha3_512 } from '@noble/hashes/sha3.js';
import { Buffer } from 'buffer';

const HASHES: Record<string, (data: Uint8Array) => Uint8Array> = {
  sha1, sha224, sha256, sha384, sha512, 'sha3-256': sha3_256, 'sha3-384': sha3_384, 'sha3-512': sha3_512,
};

export function createHash(name: string) {
  const fn = HASHES[name.toLowerCase()];
  if (!fn) throw new Error(`hash ${name} is not available in the browser build`);
  const parts: Uint8Array[] = [];
  const hash = {
    update(data: string | Uint8Array, enc?: string) {
      parts.push(typeof data === 'string' ? Buffer.from(data, (enc ?? 'utf8') as BufferEncoding) : data);
      return hash;
    },
    digest(enc?: string) {
      const out = Buffer.from(fn(Buffer.concat(parts)));
      return enc ? out.toString(enc as BufferEncoding) : out;
    },
  };
  return hash;
}

/** crypto.hash (Node ≥ 20.12): one-shot digest; output encoding 'hex' by default, 'buffer' for bytes. */
export function hash(name: string, data: string | Uint8Array, outputEncoding: string = 'hex'): string | Buffer {
  const digest = createHash(name).update(data).digest();
  return outputEncoding === 'buffer' ? digest : digest.toString(outputEncoding as BufferEncoding);
}

export function randomBytes(n: number): Buffer {
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(n)));
}

export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) throw new RangeError('Input buffers must have the same byte length');
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

// The rest of what shared modules import from node:crypto: reached only on Node-only paths (KeyObject keys,
// private key files, OpenPGP, the server). Calling one says so instead of failing obscurely.
const unavailable = (name: string) => (): never => {
  throw new Error(`node:crypto ${name} is not available in the browser console`);
};
export const createHmac = unavailable('createHmac');
export const createPublicKey = unavailable('createPublicKey');
export const createPrivateKey = unavailable('createPrivateKey');
export const diffieHellman = unavailable('diffieHellman');
export const createCipheriv = unavailable('createCipheriv');
export const generateKeyPair = unavailable('generateKeyPair');
export const pbkdf2Sync = unavailable('pbkdf2Sync');
export const scrypt = unavailable('scrypt');
export const scryptSync = unavailable('scryptSync');
export const sign = unavailable('sign');
export const verify = unavailable('verify');
export const X509Certificate = unavailable('X509Certificate');
export const constants = {};
export const randomUUID = (): string => globalThis.crypto.randomUUID();
