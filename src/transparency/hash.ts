// RFC 9162 §2.1.1 Merkle tree hashing with SHA-256: a leaf is hashed as SHA-256(0x00 || leaf input), an interior
// node as SHA-256(0x01 || left || right). The distinct prefixes stop a leaf from being passed off as a node
// (second-preimage attacks), and are what makes the tree's root the same as Certificate Transparency's.
import { hash } from 'node:crypto';

export const HASH_BYTES = 32;
// One-shot crypto.hash over one buffer costs half of createHash().update()….digest() (1.0 vs 2.2 µs here):
// proofs and appends hash a few dozen times each. The inputs are assembled in scratch buffers, which is
// safe because hashing is synchronous.
const NODE_INPUT = Buffer.alloc(1 + 2 * 32);
NODE_INPUT[0] = 0x01;
let leafInput = Buffer.alloc(256);

/** Plain Uint8Arrays throughout (a view, no copy), so hashes compare equal whatever produced them. */
const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export function sha256(data: Uint8Array): Uint8Array {
  return plain(hash('sha256', data, 'buffer'));
}

/** RFC 9162 §2.1.1: MTH({d(0)}) = SHA-256(0x00 || d(0)). */
export function leafHash(leaf: Uint8Array): Uint8Array {
  if (leaf.length + 1 > leafInput.length) leafInput = Buffer.alloc(Math.max(leaf.length + 1, 2 * leafInput.length));
  leafInput[0] = 0x00;
  leafInput.set(leaf, 1);
  return plain(hash('sha256', leafInput.subarray(0, leaf.length + 1), 'buffer'));
}

/** RFC 9162 §2.1.1: SHA-256(0x01 || MTH(left) || MTH(right)). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_BYTES || right.length !== HASH_BYTES) throw new RangeError('a node hash combines two 32-byte hashes');
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 33);
  return plain(hash('sha256', NODE_INPUT, 'buffer'));
}

/** RFC 9162 §2.1.1: the hash of an empty tree is the hash of the empty string. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

export function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
