// Which perfect subtrees the SQL adapters store (migration 6), and how any other is derived. Stored: levels
// ≥ 3 (one row per 4 leaves on average, not one per leaf), keyed by their last leaf so the subtrees a proof
// needs below some level sit in the same pages. Levels 0-2 are hashed from the leaves they cover, at most
// 8 consecutive rows read at once: a proof needs the 7 neighbours of one leaf at most, per edge.
import { SubtreeNotFoundError } from '../errors.ts';
import { leafHash } from '../../transparency/hash.ts';
import { referenceRoot, type NodeRef, type Range } from '../../transparency/tree.ts';

export const STORED_MIN_LEVEL = 3;
const BLOCK = 2 ** STORED_MIN_LEVEL;

/** The index of the last leaf under a perfect subtree: its key in kt_subtrees. */
export const lastLeaf = (r: NodeRef): number => (r.index + 1) * 2 ** r.level - 1;

export interface NodePlan {
  /** Stored subtrees to read. */
  stored: NodeRef[];
  /** Leaves to read and hash (whole aligned blocks of 8, or less at the log's end). */
  leafRanges: Range[];
}

export function planNodes(refs: NodeRef[]): NodePlan {
  const stored: NodeRef[] = [];
  const blocks = new Set<number>();
  for (const r of refs) {
    if (r.level >= STORED_MIN_LEVEL) stored.push(r);
    else blocks.add(Math.floor((r.index * 2 ** r.level) / BLOCK));
  }
  return { stored, leafRanges: [...blocks].map((b) => ({ start: b * BLOCK, end: (b + 1) * BLOCK })) };
}

/**
 * The hashes of `refs` from what the plan read: `stored` in the plan's order (undefined when absent) and
 * the leaves' canonical bytes by sequence number (asked only for the leaves a hash needs).
 */
export function assembleNodes(refs: NodeRef[], stored: (Uint8Array | undefined)[], leafAt: (seq: number) => Uint8Array | undefined): Uint8Array[] {
  let s = 0;
  const hashes = new Map<number, Uint8Array>();
  const hashOf = (seq: number) => {
    let h = hashes.get(seq);
    if (!h) {
      const leaf = leafAt(seq);
      if (!leaf) return undefined;
      hashes.set(seq, (h = leafHash(leaf)));
    }
    return h;
  };
  return refs.map((r) => {
    if (r.level >= STORED_MIN_LEVEL) {
      const h = stored[s++];
      if (!h) throw new SubtreeNotFoundError(r.level, r.index);
      return h;
    }
    const start = r.index * 2 ** r.level;
    const under: Uint8Array[] = [];
    for (let i = start; i < start + 2 ** r.level; i++) {
      const h = hashOf(i);
      if (!h) throw new SubtreeNotFoundError(r.level, r.index);
      under.push(h);
    }
    return referenceRoot(under);
  });
}
