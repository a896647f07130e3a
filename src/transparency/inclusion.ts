// RFC 9162 §2.1.3 Merkle inclusion proofs: which subtrees prove leaf m in a tree of n leaves (generation,
// §2.1.3.1), and the verifier's algorithm (§2.1.3.2), which needs no tree at all. Indices are JS numbers:
// exact up to 2^53, and halved with arithmetic, not with 32-bit shifts.
import { equalHashes, HASH_BYTES, nodeHash } from './hash.ts';
import { rangeHashes, siblingSides, splitPoint, type NodeReader, type Range } from './tree.ts';

/** RFC 9162 §2.1.3.1 PATH(m, D[n]): the sibling subtrees from the leaf up to the root. */
export function inclusionRanges(m: number, n: number): Range[] {
  if (!(m >= 0 && m < n)) throw new RangeError(`leaf ${m} is not in a tree of ${n} leaves`);
  const out: Range[] = [];
  let offset = 0;
  let size = n;
  let index = m;
  // Built top-down, returned bottom-up (the RFC's order: the leaf's own sibling first).
  while (size > 1) {
    const k = splitPoint(size);
    if (index < k) {
      out.push({ start: offset + k, end: offset + size });
      size = k;
    } else {
      out.push({ start: offset, end: offset + k });
      offset += k;
      index -= k;
      size -= k;
    }
  }
  return out.reverse();
}

export async function inclusionProof(m: number, n: number, read: NodeReader): Promise<Uint8Array[]> {
  return rangeHashes(inclusionRanges(m, n), read);
}

/** RFC 9162 §2.1.3.2: the root the proof leads to, or undefined when the path cannot belong to (m, n). */
export function rootFromInclusionProof(m: number, n: number, leaf: Uint8Array, proof: Uint8Array[]): Uint8Array | undefined {
  if (!(Number.isSafeInteger(m) && Number.isSafeInteger(n) && m >= 0 && m < n)) return undefined;
  if (leaf.length !== HASH_BYTES || proof.some((p) => p.length !== HASH_BYTES)) return undefined;
  const sides = siblingSides(m, n - 1, proof.length);
  if (!sides) return undefined;
  return proof.reduce((r, p, i) => (sides[i] ? nodeHash(p, r) : nodeHash(r, p)), leaf);
}

export function verifyInclusion(m: number, n: number, leaf: Uint8Array, proof: Uint8Array[], root: Uint8Array): boolean {
  const r = rootFromInclusionProof(m, n, leaf, proof);
  return r !== undefined && equalHashes(r, root);
}
