// RFC 9162 §2.1.4 Merkle consistency proofs: that the tree of `first` leaves is a prefix of the tree of
// `second` leaves. Generation is §2.1.4.1 SUBPROOF; verification is §2.1.4.2. Sizes 0 and first = second,
// which the RFC leaves out, are consistent with an empty proof (and, for equal sizes, equal roots).
import { equalHashes, HASH_BYTES, nodeHash } from './hash.ts';
import { isPowerOfTwo, rangeHashes, siblingSides, splitPoint, type NodeReader, type Range } from './tree.ts';

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true), as ranges of the tree. */
export function consistencyRanges(m: number, n: number): Range[] {
  if (!(m >= 0 && m <= n)) throw new RangeError(`cannot prove a tree of ${m} leaves consistent with one of ${n}`);
  if (m === 0 || m === n) return [];
  const out: Range[] = [];
  let offset = 0;
  let size = n;
  let first = m;
  let complete = true;
  // Top-down; the RFC appends on the way back up, so reversed at the end.
  while (first !== size) {
    const k = splitPoint(size);
    if (first <= k) {
      out.push({ start: offset + k, end: offset + size });
      size = k;
    } else {
      out.push({ start: offset, end: offset + k });
      offset += k;
      first -= k;
      size -= k;
      complete = false;
    }
  }
  // SUBPROOF(m, D[m], b): nothing when the old tree is a whole subtree here, else that subtree's hash.
  if (!complete) out.push({ start: offset, end: offset + size });
  return out.reverse();
}

export async function consistencyProof(m: number, n: number, read: NodeReader): Promise<Uint8Array[]> {
  return rangeHashes(consistencyRanges(m, n), read);
}

/** RFC 9162 §2.1.4.2. */
export function verifyConsistency(first: number, second: number, proof: Uint8Array[], firstRoot: Uint8Array, secondRoot: Uint8Array): boolean {
  if (!(Number.isSafeInteger(first) && Number.isSafeInteger(second) && first >= 0 && first <= second)) return false;
  if (proof.some((p) => p.length !== HASH_BYTES)) return false;
  if (first === second) return proof.length === 0 && equalHashes(firstRoot, secondRoot);
  if (first === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  // Step 2: when first is a power of two, the old root is itself a node of the new tree.
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : proof;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  const sides = siblingSides(fn, sn, path.length - 1);
  if (!sides) return false;
  let fr = path[0]!;
  let sr = path[0]!;
  path.slice(1).forEach((c, i) => {
    if (sides[i]) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
    } else {
      sr = nodeHash(sr, c);
    }
  });
  return equalHashes(fr, firstRoot) && equalHashes(sr, secondRoot);
}
