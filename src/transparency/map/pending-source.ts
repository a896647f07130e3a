// The map of the next epoch while it is built: the stored map as of its latest epoch, read through `read`,
// with the epoch's new entries (not stored yet) laid over it. Used by the map builder, on the event loop or
// on the map's worker thread (server/modules/transparency/map-epoch-work.ts).
import { compareLabels, lowerBound, prefixBounds } from './bits.ts';
import type { MapEntry } from './hash.ts';
import type { MapEntrySource } from './tree.ts';

/** The stored entries with lo <= label <= hi in the map as of `epoch`, the first `limit` by label. */
export type RangeRead = (lo: Uint8Array, hi: Uint8Array, epoch: number, limit: number) => Promise<MapEntry[]>;

export class PendingSource implements MapEntrySource {
  /** The new entries, sorted by label. */
  pending: MapEntry[] = [];
  constructor(
    private readonly read: RangeRead,
    public epoch: number,
  ) {}

  async range(prefix: Uint8Array, depth: number, limit: number): Promise<MapEntry[]> {
    const { lo, hi } = prefixBounds(prefix, depth);
    const stored = await this.read(lo, hi, this.epoch, limit);
    if (this.pending.length === 0) return stored;
    const extra: MapEntry[] = [];
    for (let i = lowerBound(this.pending, lo); i < this.pending.length && compareLabels(this.pending[i]!.label, hi) <= 0; i++) extra.push(this.pending[i]!);
    if (extra.length === 0) return stored;
    return [...stored, ...extra].sort((a, b) => compareLabels(a.label, b.label)).slice(0, limit);
  }
}
