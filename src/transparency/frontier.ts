// The right edge of a log's tree: the hashes of the perfect subtrees that [0, size) splits into (one per
// set bit of size). It is all an append needs: the new leaf folds into the lowest ones it completes, so
// whoever keeps it (an incremental audit, say) appends without any other hash. Values, never mutated.
import { nodeHash } from './hash.ts';
import { perfectPieces, type NodeRef } from './tree.ts';

export interface Frontier {
  readonly size: number;
  /** By level: the hash of the right-edge perfect subtree of that level, where size has that bit set. */
  readonly levels: readonly (Uint8Array | undefined)[];
}

export const EMPTY_FRONTIER: Frontier = { size: 0, levels: [] };

/** The nodes a frontier of `size` leaves holds, highest level first (read them to rebuild it). */
export function frontierRefs(size: number): NodeRef[] {
  return perfectPieces({ start: 0, end: size });
}

export function frontierFrom(size: number, hashes: Uint8Array[]): Frontier {
  const levels: (Uint8Array | undefined)[] = [];
  frontierRefs(size).forEach((ref, i) => (levels[ref.level] = hashes[i]));
  return { size, levels };
}

/**
 * Appends leaf hash `leaf` as leaf number `f.size`: the next frontier, and the perfect subtrees of level ≥ 1
 * the leaf completes (what a store keeps), lowest first.
 */
export function appendToFrontier(f: Frontier, leaf: Uint8Array): { next: Frontier; completed: { ref: NodeRef; hash: Uint8Array }[] } {
  const levels = [...f.levels];
  const completed: { ref: NodeRef; hash: Uint8Array }[] = [];
  let h = leaf;
  let level = 0;
  let index = f.size;
  while (index % 2 === 1) {
    h = nodeHash(levels[level]!, h);
    levels[level] = undefined;
    level++;
    index = (index - 1) / 2;
    completed.push({ ref: { level, index }, hash: h });
  }
  levels[level] = h;
  return { next: { size: f.size + 1, levels }, completed };
}
