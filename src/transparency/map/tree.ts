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

export class SparseMerkleMap implements SubtreeReader {
  private readonly cache = new Map<string, Subtree>();
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
    const key = cached ? nodeKey(prefix, depth) : '';
    if (cached) {
      const hit = this.cache.get(key);
      if (hit) return hit;
    }
    const entries = await this.source.range(prefix, depth, this.leafBatch);
    let s: Subtree;
    if (entries.length < this.leafBatch || depth >= LABEL_BITS) s = subtreeOf(entries, depth);
    else s = combine(await this.subtree(childPrefix(prefix, depth, 0), depth + 1), await this.subtree(childPrefix(prefix, depth, 1), depth + 1));
    if (cached) this.cache.set(key, s);
    return s;
  }

  /** A map over another source holding the same entries (another view of the same epoch), with this cache. */
  fork(source: MapEntrySource): SparseMerkleMap {
    const m = new SparseMerkleMap(source, { cacheDepth: this.cacheDepth, leafBatch: this.leafBatch });
    for (const [k, v] of this.cache) m.cache.set(k, v);
    return m;
  }

  /** The source gained these labels: forget the cached nodes on their paths. */
  invalidate(labels: Iterable<Uint8Array>): void {
    if (this.cache.size === 0) return;
    for (const label of labels) for (let d = 0; d <= this.cacheDepth; d++) this.cache.delete(nodeKey(label, d));
  }
}
