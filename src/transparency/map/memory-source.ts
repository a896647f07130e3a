// An in-memory entry source: the map's entries sorted by label, each with the epoch that inserted it. A view
// of an older epoch filters by that epoch, which is how the map as of any epoch is read (the map only grows).
import { compareLabels, lowerBound, prefixBounds } from './bits.ts';
import type { MapEntry } from './hash.ts';
import type { MapEntrySource } from './tree.ts';

export interface EpochEntry extends MapEntry {
  epoch: number;
}

export class MemoryMapEntries {
  private readonly sorted: EpochEntry[] = [];

  get size(): number {
    return this.sorted.length;
  }

  private lowerBound(label: Uint8Array): number {
    return lowerBound(this.sorted, label);
  }

  /** Adds entries; a label already present is refused (the map is insert-only). */
  insert(entries: readonly EpochEntry[]): void {
    for (const e of entries) {
      const i = this.lowerBound(e.label);
      const at = this.sorted[i];
      if (at && compareLabels(at.label, e.label) === 0) throw new Error('map label already present');
      this.sorted.splice(i, 0, { label: e.label, commitment: e.commitment, epoch: e.epoch });
    }
  }

  get(label: Uint8Array): EpochEntry | undefined {
    const at = this.sorted[this.lowerBound(label)];
    return at && compareLabels(at.label, label) === 0 ? at : undefined;
  }

  /** The entries inserted after epoch `after` up to epoch `upTo`, sorted by label. */
  between(after: number, upTo: number): EpochEntry[] {
    return this.sorted.filter((e) => e.epoch > after && e.epoch <= upTo);
  }

  /** The map as of `epoch` (every entry when omitted). */
  source(epoch = Number.MAX_SAFE_INTEGER): MapEntrySource {
    return {
      range: async (prefix, depth, limit) => {
        const { lo, hi } = prefixBounds(prefix, depth);
        const out: MapEntry[] = [];
        for (let i = this.lowerBound(lo); i < this.sorted.length && out.length < limit; i++) {
          const e = this.sorted[i]!;
          if (compareLabels(e.label, hi) > 0) break;
          if (e.epoch <= epoch) out.push({ label: e.label, commitment: e.commitment });
        }
        return out;
      },
    };
  }
}
