// The map as of an older epoch, read through the latest epoch's map (whose upper levels are cached) instead of
// from scratch: the map only grows, so a subtree no entry of a later epoch falls under is the same in both, and
// only the subtrees holding later entries are hashed again from the older epoch's entries. Reading the older
// map from scratch hashes every subtree beside a path, which reads that whole map once (docs/transparency.md
// "Proofs at an older epoch"); this reads what the later entries touch.
import { childPrefix, compareLabels, LABEL_BITS, lowerBound, nodeKey, prefixBounds } from './bits.ts';
import { combine, EMPTY, subtreeOf, type MapEntry, type Subtree } from './hash.ts';
import type { MapEntrySource } from './tree.ts';

/** What proofs read of a map: any subtree by its node (SparseMerkleMap, EpochView). */
export interface SubtreeReader {
  subtree(prefix: Uint8Array, depth: number): Promise<Subtree>;
  /**
   * The subtree when it holds at most one entry, else undefined (two or more: its hash is not needed).
   * Proofs ask this at the nodes their walk passes through, where only that matters; an older epoch's view
   * answers it with a two-entry read instead of re-hashing the node.
   */
  small?(prefix: Uint8Array, depth: number): Promise<Subtree | undefined>;
}

/** Whether the entries (sorted by label) hold one under the node (prefix, depth). */
export function anyUnder(sorted: readonly MapEntry[], prefix: Uint8Array, depth: number): boolean {
  const { lo, hi } = prefixBounds(prefix, depth);
  const a = lowerBound(sorted, lo);
  return a < sorted.length && compareLabels(sorted[a]!.label, hi) <= 0;
}

export class EpochView implements SubtreeReader {
  /** Subtrees recomputed here (those holding later entries), for the next proof step that asks again. */
  private readonly memo = new Map<string, Subtree>();
  /**
   * Nodes above this depth hold more than a range read's worth of entries, so they are hashed from their
   * children without a read (labels are VRF outputs, spread evenly; a wrong guess only costs a read).
   */
  private readonly splitAbove: number;

  constructor(
    /** The map of a later epoch (the latest, with its cache). */
    private readonly later: SubtreeReader,
    /** The entries of this epoch's map (a source filtered to it). */
    private readonly source: MapEntrySource,
    /** The entries the later epochs added, sorted by label. */
    private readonly added: readonly MapEntry[],
    private readonly leafBatch = 256,
    /** About how many entries the map holds (the latest epoch's log size). */
    size = 0,
  ) {
    this.splitAbove = size > leafBatch ? Math.ceil(Math.log2(size / leafBatch)) : 0;
  }

  async subtree(prefix: Uint8Array, depth: number): Promise<Subtree> {
    if (!anyUnder(this.added, prefix, depth)) return this.later.subtree(prefix, depth);
    const key = nodeKey(prefix, depth);
    const hit = this.memo.get(key);
    if (hit) return hit;
    let s: Subtree | undefined;
    if (depth >= this.splitAbove) {
      const entries = await this.source.range(prefix, depth, this.leafBatch);
      if (entries.length < this.leafBatch || depth >= LABEL_BITS) s = subtreeOf(entries, depth);
    }
    s ??= combine(await this.subtree(childPrefix(prefix, depth, 0), depth + 1), await this.subtree(childPrefix(prefix, depth, 1), depth + 1));
    this.memo.set(key, s);
    return s;
  }

  async small(prefix: Uint8Array, depth: number): Promise<Subtree | undefined> {
    if (!anyUnder(this.added, prefix, depth)) {
      const s = await this.later.subtree(prefix, depth);
      return s.count < 2 ? s : undefined;
    }
    return smallFrom(this.source, prefix, depth);
  }
}

/** The subtree of `source` at a node when it holds at most one entry (two entries read at most). */
export async function smallFrom(source: MapEntrySource, prefix: Uint8Array, depth: number): Promise<Subtree | undefined> {
  const entries = await source.range(prefix, depth, 2);
  return entries.length < 2 ? subtreeOf(entries, depth) : undefined;
}

/** The map of epoch 0: nothing in it. */
export const EMPTY_MAP: SubtreeReader = { subtree: async () => EMPTY, small: async () => EMPTY };
