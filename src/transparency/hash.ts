// RFC 9162 §2.1.1 Merkle tree hashing with SHA-256: a leaf is hashed as SHA-256(0x00 || leaf input), an interior
// node as SHA-256(0x01 || left || right). The distinct prefixes stop a leaf from being passed off as a node
// (second-preimage attacks), and are what makes the tree's root the same as Certificate Transparency's.
import { createHash } from 'node:crypto';

export const HASH_BYTES = 32;
const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** Plain Uint8Arrays throughout (a view, no copy), so hashes compare equal whatever produced them. */
const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export function sha256(data: Uint8Array): Uint8Array {
  return plain(createHash('sha256').update(data).digest());
}

/** RFC 9162 §2.1.1: MTH({d(0)}) = SHA-256(0x00 || d(0)). */
export function leafHash(leafInput: Uint8Array): Uint8Array {
  return plain(createHash('sha256').update(LEAF_PREFIX).update(leafInput).digest());
}

/** RFC 9162 §2.1.1: SHA-256(0x01 || MTH(left) || MTH(right)). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return plain(createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest());
}

/** RFC 9162 §2.1.1: the hash of an empty tree is the hash of the empty string. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

export function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
