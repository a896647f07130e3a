// Which perfect subtrees the SQL adapters read where (migration 7, storage/sql/kt-block.ts): levels ≥ 3 from
// the block tree in memory (transparency/node-cache.ts, filled from the blocks' stored hashes); levels 0-2
// hashed from the leaf hashes of the one block of 8 they lie in: a proof needs the 7 neighbours of one leaf
// at most, per edge, so one block; the tree holds the leaf hashes of the full blocks it has loaded, so only
// a block past them (the log's growing last one, or one not loaded yet) is read as a row.
import { SubtreeNotFoundError } from '../errors.ts';
import { leafHash } from '../../transparency/hash.ts';
import { BlockTree, TREE_MIN_LEVEL } from '../../transparency/node-cache.ts';
import { referenceRoot, type NodeRef } from '../../transparency/tree.ts';
import { BLOCK_LEAVES } from './kt-block.ts';

export interface NodePlan {
  /** Blocks (numbers) whose leaves to hash: read those the block tree does not hold (rowsToRead). */
  blocks: number[];
  /** Full blocks the upper nodes asked for need: [0, upperBlocks). */
  upperBlocks: number;
}

export function planNodes(refs: NodeRef[]): NodePlan {
  const blocks = new Set<number>();
  let upperBlocks = 0;
  for (const r of refs) {
    if (r.level >= TREE_MIN_LEVEL) upperBlocks = Math.max(upperBlocks, BlockTree.blocksUnder(r));
    else blocks.add(Math.floor((r.index * 2 ** r.level) / BLOCK_LEAVES));
  }
  return { blocks: [...blocks], upperBlocks };
}

/**
 * The hashes of `refs`: levels ≥ 3 from `tree` (and `extra`, the hashes of uncommitted blocks right after
 * its own), the rest from its leaf hashes or, past them, the leaves' canonical bytes by sequence number
 * (asked only for those needed).
 */
export function assembleNodes(refs: NodeRef[], tree: BlockTree, extra: readonly Uint8Array[], leafAt: (seq: number) => Uint8Array | undefined): Uint8Array[] {
  const hashes = new Map<number, Uint8Array>();
  const hashOf = (seq: number) => {
    let h = tree.leafHash(seq) ?? hashes.get(seq);
    if (!h) {
      const leaf = leafAt(seq);
      if (!leaf) return undefined;
      hashes.set(seq, (h = leafHash(leaf)));
    }
    return h;
  };
  return refs.map((r) => {
    if (r.level >= TREE_MIN_LEVEL) {
      const h = tree.node(r, extra);
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

/** The blocks of `plan` whose rows to read: those past the ones `tree` holds the leaf hashes of. */
export function rowsToRead(plan: NodePlan, tree: BlockTree): number[] {
  return plan.blocks.filter((b) => b >= tree.leafBlocks);
}
