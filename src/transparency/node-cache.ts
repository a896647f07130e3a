// Every perfect subtree of level ≥ 3 of a log, in memory: the hashes of its full blocks of 8 leaves (the
// level-3 subtrees, which the SQL adapters store one per block row) and every node above them, one buffer
// per level: 8 MB at 10^6 leaves. A proof then reads no stored subtree, only the one block of 8 leaves
// around each edge. A perfect subtree never changes once its last leaf is committed, so a hash kept here
// stays right for the log's life; fill it only with committed blocks, in order (a hash computed inside a
// write transaction may still roll back).
//
// It also holds the 8 leaf hashes of full blocks [0, leafBlocks) (32 B per leaf: 32 MB at 10^6 leaves), so
// that a proof's levels 0-2 inside them are hashed from memory, reading no row: a random row read through
// SQLite's page cache cost ~70 µs of a ~190 µs proof at 10^6 leaves. Rebuilding and hashing every leaf
// after a restart costs ~5 µs a leaf, so the adapters load them LEAF_LOAD_BLOCKS blocks per read (no read
// stalls for seconds); a block not loaded yet is read as a row, as before (storage/sql/kt-tree.ts).
import { nodeHash } from './hash.ts';
import type { NodeRef } from './tree.ts';

export const TREE_MIN_LEVEL = 3;
/** Blocks whose leaf hashes one read loads at most (16k leaves, ~0.1 s). */
export const LEAF_LOAD_BLOCKS = 2048;

/** The hashes of one level, 32 bytes each, indices [0, count). */
class Level {
  data = Buffer.alloc(0);
  count = 0;

  get(index: number): Uint8Array {
    return new Uint8Array(this.data.buffer, this.data.byteOffset + index * 32, 32);
  }

  push(h: Uint8Array): void {
    if ((this.count + 1) * 32 > this.data.length) {
      // Doubling: earlier views keep the old buffer, whose bytes never change.
      const data = Buffer.alloc(Math.max(1024, this.data.length * 2));
      this.data.copy(data);
      this.data = data;
    }
    this.data.set(h, this.count * 32);
    this.count++;
  }
}

export class BlockTree {
  /** levels[k]: level TREE_MIN_LEVEL + k. */
  private readonly levels: Level[] = [new Level()];
  /** Leaf hashes of blocks [0, leafBlocks), leafBlocks ≤ blocks. */
  private readonly leaves = new Level();

  /** Full blocks held, [0, blocks). */
  get blocks(): number {
    return this.levels[0]!.count;
  }

  /** Blocks whose leaf hashes are held, [0, leafBlocks). */
  get leafBlocks(): number {
    return this.leaves.count / 2 ** TREE_MIN_LEVEL;
  }

  /** Appends the 8 leaf hashes of block number `leafBlocks`, which must be held. */
  pushLeaves(leafHashes: readonly Uint8Array[]): void {
    if (leafHashes.length !== 2 ** TREE_MIN_LEVEL) throw new RangeError('a block has 8 leaf hashes');
    if (this.leafBlocks >= this.blocks) throw new RangeError('leaf hashes of a block not held');
    for (const l of leafHashes) this.leaves.push(l);
  }

  /** Appends the hash of block number `blocks`, completing the nodes above it. */
  push(hash: Uint8Array): void {
    let h = hash;
    let k = 0;
    for (;;) {
      const level = this.levels[k]!;
      level.push(h);
      const i = level.count - 1;
      if (i % 2 === 0) return;
      h = nodeHash(level.get(i - 1), h);
      this.levels[++k] ??= new Level();
    }
  }

  /** The hash of leaf `seq` when its block's leaf hashes are held. */
  leafHash(seq: number): Uint8Array | undefined {
    return seq < this.leaves.count ? this.leaves.get(seq) : undefined;
  }

  /** Blocks needed before node `ref` (level ≥ 3) is complete. */
  static blocksUnder(ref: NodeRef): number {
    return (ref.index + 1) * 2 ** (ref.level - TREE_MIN_LEVEL);
  }

  /**
   * The hash of `ref` (level ≥ 3), or undefined when its blocks are not all here. `extra` are the hashes of
   * the blocks right after the held ones (seen in an uncommitted transaction): used, never kept.
   */
  node(ref: NodeRef, extra: readonly Uint8Array[] = []): Uint8Array | undefined {
    const k = ref.level - TREE_MIN_LEVEL;
    if (k < 0) throw new RangeError('the block tree holds levels 3 and up');
    const level = this.levels[k];
    if (level && ref.index < level.count) return level.get(ref.index);
    if (extra.length === 0 || BlockTree.blocksUnder(ref) > this.blocks + extra.length) return undefined;
    if (k === 0) return extra[ref.index - this.blocks];
    const left = this.node({ level: ref.level - 1, index: 2 * ref.index }, extra);
    const right = this.node({ level: ref.level - 1, index: 2 * ref.index + 1 }, extra);
    return left && right && nodeHash(left, right);
  }
}
