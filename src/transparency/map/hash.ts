// Hashing of the verifiable map (docs/transparency.md "Stage 2: the verifiable map"): a compressed sparse
// Merkle tree over 256-bit labels in its one canonical form:
//   - an empty subtree hashes to 32 zero bytes;
//   - a subtree holding exactly one entry is that entry's leaf hash, SHA-256(0x00 || label || commitment),
//     at whatever depth it sits (so a lone entry is not buried under 256 levels);
//   - any other subtree is SHA-256(0x01 || left || right), RFC 9162's node hash.
// The prefixes are the log's (transparency/hash.ts): a leaf can never pass for a node.
import { leafHash, nodeHash } from '../hash.ts';
import { bit, LABEL_BYTES } from './bits.ts';

export const COMMITMENT_BYTES = 32;
export const EMPTY_SUBTREE: Uint8Array = new Uint8Array(32);

export interface MapEntry {
  label: Uint8Array;
  commitment: Uint8Array;
}

const leafInput = new Uint8Array(LABEL_BYTES + COMMITMENT_BYTES);

export function mapLeafHash(e: MapEntry): Uint8Array {
  if (e.label.length !== LABEL_BYTES || e.commitment.length !== COMMITMENT_BYTES) throw new RangeError('a map entry is a 32-byte label and a 32-byte commitment');
  leafInput.set(e.label, 0);
  leafInput.set(e.commitment, LABEL_BYTES);
  return leafHash(leafInput);
}

/**
 * What a parent needs to know of a subtree: its hash, how many entries it holds (0, 1, or 2 for "two or more"),
 * and the entry when there is exactly one (a lone entry moves up to the highest node that holds only it).
 */
export interface Subtree {
  hash: Uint8Array;
  count: 0 | 1 | 2;
  entry?: MapEntry;
}

export const EMPTY: Subtree = { hash: EMPTY_SUBTREE, count: 0 };

export const single = (entry: MapEntry): Subtree => ({ hash: mapLeafHash(entry), count: 1, entry });

/** The parent of two sibling subtrees, in canonical form. */
export function combine(left: Subtree, right: Subtree): Subtree {
  if (left.count === 0) return right.count === 2 ? { hash: nodeHash(left.hash, right.hash), count: 2 } : right;
  if (right.count === 0) return left.count === 2 ? { hash: nodeHash(left.hash, right.hash), count: 2 } : left;
  return { hash: nodeHash(left.hash, right.hash), count: 2 };
}

/** The subtree at `depth` holding exactly `entries` (sorted by label, distinct, all sharing their first `depth` bits). */
export function subtreeOf(entries: readonly MapEntry[], depth: number, lo = 0, hi = entries.length): Subtree {
  if (hi - lo === 0) return EMPTY;
  if (hi - lo === 1) return single(entries[lo]!);
  if (depth >= 256) throw new RangeError('two map entries with the same label');
  // Sorted and sharing the prefix: the entries whose bit `depth` is 0 come first. Binary search for the split.
  let a = lo;
  let b = hi;
  while (a < b) {
    const m = (a + b) >> 1;
    if (bit(entries[m]!.label, depth)) b = m;
    else a = m + 1;
  }
  return combine(subtreeOf(entries, depth + 1, lo, a), subtreeOf(entries, depth + 1, a, hi));
}

export const mapRoot = (sortedEntries: readonly MapEntry[]): Uint8Array => subtreeOf(sortedEntries, 0).hash;
