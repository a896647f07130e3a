// Hash agility for XEP-0189 0.14 fingerprints: the 'algo' attribute names a hash function, default "sha-256".
// Names follow the IANA "Hash Function Textual Names" registry (RFC 4572 §5), which is what XMPP specs use.
import { createHash, timingSafeEqual } from 'node:crypto';
import { DEFAULT_PRINT_ALGO } from '../protocol/xep0189.ts';
import { KeyError } from './errors.ts';

const NODE_NAMES = {
  'sha-1': 'sha1',
  'sha-224': 'sha224',
  'sha-256': 'sha256',
  'sha-384': 'sha384',
  'sha-512': 'sha512',
  'sha3-256': 'sha3-256',
  'sha3-384': 'sha3-384',
  'sha3-512': 'sha3-512',
} as const;

export type HashAlgo = keyof typeof NODE_NAMES;

export const DEFAULT_HASH: HashAlgo = DEFAULT_PRINT_ALGO;

/** Digest size in bytes, used to tell hex from base64 print encodings. */
const SIZES: Record<HashAlgo, number> = {
  'sha-1': 20, 'sha-224': 28, 'sha-256': 32, 'sha-384': 48, 'sha-512': 64, 'sha3-256': 32, 'sha3-384': 48, 'sha3-512': 64,
};

export function isHashAlgo(name: string): name is HashAlgo {
  return Object.hasOwn(NODE_NAMES, name);
}

/** Validates an 'algo' attribute value (case-insensitive, as the IANA names are). MD2/MD5 are refused. */
export function hashAlgo(name: string | undefined): HashAlgo {
  if (name === undefined || name === '') return DEFAULT_HASH;
  const n = name.toLowerCase();
  if (!isHashAlgo(n)) throw new KeyError('unsupported-algorithm', `unsupported fingerprint hash algorithm "${name}"`);
  return n;
}

export function digest(algo: HashAlgo, data: string | Uint8Array): Buffer {
  return createHash(NODE_NAMES[algo]).update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).digest();
}

export function digestSize(algo: HashAlgo): number {
  return SIZES[algo];
}

/** A fingerprint as carried on the wire: its algorithm and its text exactly as written (trimmed). */
export interface Fingerprint {
  algo: HashAlgo;
  value: string;
}

/**
 * Decodes a print written either as hex (XEP-0189 0.13 and the 0.14 revocationprint example) or as base64
 * (XEP-0189 0.14 §3 "Base64(SHA-256(...))"); the digest size of the algorithm makes the two unambiguous.
 * Returns undefined when the text is neither (e.g. the UUID in the 0.13 revocation example).
 */
export function decodePrint(fp: Fingerprint): Buffer | undefined {
  const size = SIZES[fp.algo];
  const v = fp.value.trim();
  if (v.length === size * 2 && /^[0-9a-fA-F]+$/.test(v)) return Buffer.from(v, 'hex');
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(v)) {
    const b = Buffer.from(v, 'base64');
    if (b.length === size && b.toString('base64') === v) return b;
  }
  return undefined;
}

/** Whether a written print denotes the given digest bytes (constant time once decoded). */
export function printMatches(fp: Fingerprint, bytes: Uint8Array): boolean {
  const decoded = decodePrint(fp);
  return decoded !== undefined && decoded.length === bytes.length && timingSafeEqual(decoded, bytes);
}

/** Stable identifier for storage and comparison: "<algo>:<lowercase hex>". */
export function printId(algo: HashAlgo, bytes: Uint8Array): string {
  return `${algo}:${Buffer.from(bytes).toString('hex')}`;
}

/** printId of a written print; throws when the text is not a print of that algorithm. */
export function printIdOf(fp: Fingerprint): string {
  const b = decodePrint(fp);
  if (!b) throw new KeyError('bad-payload', `"${fp.value}" is not a ${fp.algo} fingerprint`);
  return printId(fp.algo, b);
}
