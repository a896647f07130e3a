// A verifiable map read through an entry source, without the whole tree in memory: any subtree's hash is
// computed from the entries under its prefix (a range of labels), and the hashes of the upper levels, which
// cover many entries, are cached. The cache holds one view (the map as of one epoch); a source filtered to an
// older epoch gets its own SparseMerkleMap.
import { childPrefix, LABEL_BITS, nodeKey } from './bits.ts';
import { combine, subtreeOf, type MapEntry, type Subtree } from './hash.ts';
import type { SubtreeReader } from './epoch-view.ts';

export interface MapEntrySource {
  /**
   * The first `limit` entries (by label) whose label starts with the first `depth` bits of `prefix`. A
   * storage source answers with an indexed range scan between the prefix's bounds (bits.ts prefixBounds).
   */
  range(prefix: Uint8Array, depth: number, limit: number): Promise<MapEntry[]>;
}

export interface SparseMerkleMapOptions {
  /** Subtrees at this depth or above are cached (2^(d+1) nodes at most). */
  cacheDepth?: number;
  /** A subtree with fewer entries than this is hashed from one range read; a larger one from its two halves. */
  leafBatch?: number;
}

/**
 * A cached node's key: a number for nodes down to depth 30 (a 1 bit then the prefix's `depth` bits, computed
 * from the label's first 4 bytes: cheap enough to forget every path of an epoch's new labels on the event
 * loop), the string nodeKey below that.
 */
type CacheKey = number | string;
const NUMERIC_DEPTH = 30;
function cacheKey(prefix: Uint8Array, depth: number): CacheKey {
  if (depth > NUMERIC_DEPTH) return nodeKey(prefix, depth);
  if (depth === 0) return 1;
  const top = ((prefix[0]! << 24) | (prefix[1]! << 16) | (prefix[2]! << 8) | prefix[3]!) >>> 0;
  return 2 ** depth + (top >>> (32 - depth));
}

export class SparseMerkleMap implements SubtreeReader {
  private readonly cache = new Map<CacheKey, Subtree>();
  /**
   * Nodes found to hold at least `leafBatch` entries: hashed from their children without a read the next
   * time (the source only grows). Only saves reads: a node's hash is the same either way.
   */
  private readonly split = new Set<CacheKey>();
  private readonly cacheDepth: number;
  private readonly leafBatch: number;

  constructor(
    readonly source: MapEntrySource,
    options: SparseMerkleMapOptions = {},
  ) {
    this.cacheDepth = options.cacheDepth ?? 16;
    this.leafBatch = Math.max(2, options.leafBatch ?? 256);
  }

  async root(): Promise<Uint8Array> {
    return (await this.subtree(new Uint8Array(32), 0)).hash;
  }

  /** The subtree at the node named by the first `depth` bits of `prefix`. */
  async subtree(prefix: Uint8Array, depth: number): Promise<Subtree> {
    const cached = depth <= this.cacheDepth;
    const key = cached ? cacheKey(prefix, depth) : 0;
    if (cached) {
      const hit = this.cache.get(key);
      if (hit) return hit;
    }
    let s: Subtree | undefined;
    if (!cached || !this.split.has(key)) {
      const entries = await this.source.range(prefix, depth, this.leafBatch);
      if (entries.length < this.leafBatch || depth >= LABEL_BITS) s = subtreeOf(entries, depth);
      else if (cached) this.split.add(key);
    }
    s ??= combine(await this.subtree(childPrefix(prefix, depth, 0), depth + 1), await this.subtree(childPrefix(prefix, depth, 1), depth + 1));
    if (cached) this.cache.set(key, s);
    return s;
  }

  /** A map over another source holding the same entries (another view of the same epoch), with this cache. */
  fork(source: MapEntrySource): SparseMerkleMap {
    const m = new SparseMerkleMap(source, { cacheDepth: this.cacheDepth, leafBatch: this.leafBatch });
    for (const [k, v] of this.cache) m.cache.set(k, v);
    for (const k of this.split) m.split.add(k);
    return m;
  }

  /** The source gained these labels: forget the cached nodes on their paths. */
  invalidate(labels: Iterable<Uint8Array>): void {
    if (this.cache.size === 0) return;
    for (const label of labels) for (let d = 0; d <= this.cacheDepth; d++) this.cache.delete(cacheKey(label, d));
  }
}
