// Membership and non-membership proofs in the verifiable map. Both are the path along the looked-up label's
// bits from the root down to the first node that holds at most one entry, given as the sibling hashes of that
// path, bottom-up (the first sibling is the deepest; the depth of the node is the number of siblings). The node
// at the end of the path is:
//   - the looked-up entry's leaf (membership: the label is in the map with this commitment);
//   - empty, or another entry's leaf whose label shares the path's bits (non-membership: the label is not in
//     the map, since in the canonical form a label's entry lies on its own path and nothing lies below a leaf).
import { nodeHash, equalHashes } from '../hash.ts';
import { bit, childPrefix, LABEL_BITS, LABEL_BYTES, sharesPrefix } from './bits.ts';
import { COMMITMENT_BYTES, EMPTY_SUBTREE, mapLeafHash, type MapEntry } from './hash.ts';
import type { SubtreeReader } from './epoch-view.ts';

export interface MapPathProof {
  /** Sibling hashes from the end of the path up to the root. */
  siblings: Uint8Array[];
  /** The entry at the end of the path, or null when the path ends in an empty subtree. */
  leaf: MapEntry | null;
}

/** The path proof for `label`: membership when proof.leaf has that label, non-membership otherwise. */
export async function proveLabel(map: SubtreeReader, label: Uint8Array): Promise<MapPathProof> {
  if (label.length !== LABEL_BYTES) throw new RangeError('a map label is 32 bytes');
  const siblings: Uint8Array[] = [];
  let prefix = label;
  for (let depth = 0; ; depth++) {
    // Only whether the node holds at most one entry matters here, not its hash.
    const here = map.small ? await map.small(prefix, depth) : await map.subtree(prefix, depth);
    if (here && here.count < 2) {
      siblings.reverse();
      return { siblings, leaf: here.entry ?? null };
    }
    const side = bit(label, depth);
    siblings.push((await map.subtree(childPrefix(prefix, depth, side === 1 ? 0 : 1), depth + 1)).hash);
    prefix = childPrefix(prefix, depth, side);
  }
}

const wellFormed = (p: MapPathProof): boolean =>
  p.siblings.length <= LABEL_BITS &&
  p.siblings.every((s) => s.length === 32) &&
  (p.leaf === null || (p.leaf.label.length === LABEL_BYTES && p.leaf.commitment.length === COMMITMENT_BYTES));

/** The root a path along `label`'s bits leads to, starting from `end` at depth siblings.length. */
export function rootOfPath(label: Uint8Array, end: Uint8Array, siblings: Uint8Array[]): Uint8Array {
  let h = end;
  for (let i = 0; i < siblings.length; i++) {
    const depth = siblings.length - 1 - i;
    h = bit(label, depth) ? nodeHash(siblings[i]!, h) : nodeHash(h, siblings[i]!);
  }
  return h;
}

export function verifyMembership(root: Uint8Array, entry: MapEntry, siblings: Uint8Array[]): boolean {
  if (!wellFormed({ siblings, leaf: entry })) return false;
  return equalHashes(rootOfPath(entry.label, mapLeafHash(entry), siblings), root);
}

export function verifyNonMembership(root: Uint8Array, label: Uint8Array, proof: MapPathProof): boolean {
  if (label.length !== LABEL_BYTES || !wellFormed(proof)) return false;
  const depth = proof.siblings.length;
  let end = EMPTY_SUBTREE;
  if (proof.leaf) {
    // Another entry's leaf ends the path only if it lies on the path, and it must not be the label itself.
    if (!sharesPrefix(proof.leaf.label, label, depth) || equalHashes(proof.leaf.label, label)) return false;
    end = mapLeafHash(proof.leaf);
  }
  return equalHashes(rootOfPath(label, end, proof.siblings), root);
}
