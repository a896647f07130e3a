// The map builder thread's copy of a domain's stored map (map-epoch-work.ts): every entry's label and
// commitment, sorted by label, packed in one buffer (64 bytes an entry). The next epoch's root needs the
// stored entries beside each new label; read from storage, through the event loop, that was about the whole
// map every epoch under load. The copy is read once (in pages) and then grows by each stored epoch's entries.
// Insertion makes a new buffer: entries handed out before (views) stay valid.
import type { MapEntry } from '../../../transparency/map/hash.ts';
import type { RangeRead } from '../../../transparency/map/pending-source.ts';

const E = 64;
const PAGE = 4096;

/** a (32 bytes at offset `o` of `buf`) compared with b. */
function cmpAt(buf: Uint8Array, o: number, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const d = buf[o + i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** The label after `label` (as a 256-bit number), or undefined after the last one. */
function next(label: Uint8Array): Uint8Array | undefined {
  const n = new Uint8Array(label);
  for (let i = 31; i >= 0; i--) {
    if (n[i] !== 0xff) {
      n[i]!++;
      return n;
    }
    n[i] = 0;
  }
  return undefined;
}

export class MapMirror {
  private constructor(
    private buf: Uint8Array,
    private n: number,
    /** The epoch whose map this is. */
    public epoch: number,
  ) {}

  get size(): number {
    return this.n;
  }

  /** The map as of `epoch`, read whole through `read`; undefined when it holds more than `max` entries. */
  static async load(read: RangeRead, epoch: number, max: number): Promise<MapMirror | undefined> {
    const pages: MapEntry[][] = [];
    let total = 0;
    let lo: Uint8Array | undefined = new Uint8Array(32);
    const hi = new Uint8Array(32).fill(0xff);
    while (lo) {
      const page = await read(lo, hi, epoch, PAGE);
      pages.push(page);
      total += page.length;
      if (total > max) return undefined;
      lo = page.length < PAGE ? undefined : next(page.at(-1)!.label);
    }
    const buf = new Uint8Array(Math.max(total, 1) * E);
    let o = 0;
    for (const page of pages) {
      for (const e of page) {
        buf.set(e.label, o);
        buf.set(e.commitment, o + 32);
        o += E;
      }
    }
    return new MapMirror(buf, total, epoch);
  }

  private lowerBound(label: Uint8Array): number {
    let a = 0;
    let b = this.n;
    while (a < b) {
      const m = (a + b) >> 1;
      if (cmpAt(this.buf, m * E, label) < 0) a = m + 1;
      else b = m;
    }
    return a;
  }

  /** As KtMapStore.range at this mirror's epoch. */
  range(lo: Uint8Array, hi: Uint8Array, limit: number): MapEntry[] {
    const out: MapEntry[] = [];
    for (let i = this.lowerBound(lo); i < this.n && out.length < limit && cmpAt(this.buf, i * E, hi) <= 0; i++) {
      out.push({ label: this.buf.subarray(i * E, i * E + 32), commitment: this.buf.subarray(i * E + 32, i * E + E) });
    }
    return out;
  }

  /** Adds the entries of the next epoch (sorted by label, none present yet), which becomes this mirror's epoch. */
  add(sorted: readonly MapEntry[], epoch: number): void {
    const buf = new Uint8Array((this.n + sorted.length) * E);
    let from = 0;
    let o = 0;
    for (const e of sorted) {
      const at = this.lowerBound(e.label);
      buf.set(this.buf.subarray(from * E, at * E), o);
      o += (at - from) * E;
      from = at;
      buf.set(e.label, o);
      buf.set(e.commitment, o + 32);
      o += E;
    }
    buf.set(this.buf.subarray(from * E, this.n * E), o);
    this.buf = buf;
    this.n += sorted.length;
    this.epoch = epoch;
  }
}
