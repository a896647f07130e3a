// The map builder's work that runs on the map's worker thread (vrf-thread.ts), so that the event loop only
// hands over each batch of log leaves and gets back what to store and sign (map-builder.ts): per entry the
// leaf's decoding and hash, its VRF label and commitment; per epoch the sort by label and the new root (the
// subtree hashing). Pure functions of their inputs and of the stored map, which the thread reads through the
// event loop (`RangeRead`): the results are the ones map-builder.ts computes in-thread, byte for byte.
import { decodeLeaf } from '../../../transparency/leaf.ts';
import { leafHash } from '../../../transparency/hash.ts';
import { mapLabelOnly } from '../../../transparency/map-label.ts';
import { commitmentNonce, commitValue } from '../../../transparency/map-commitment.ts';
import { compareLabels } from '../../../transparency/map/bits.ts';
import type { MapEntry } from '../../../transparency/map/hash.ts';
import { SparseMerkleMap } from '../../../transparency/map/tree.ts';
import { PendingSource, type RangeRead } from '../../../transparency/map/pending-source.ts';
import { MapMirror } from './map-mirror.ts';

/** A map entry packed as label (32 bytes) then commitment (32 bytes). */
export const PACKED_ENTRY = 64;

export function packEntries(entries: readonly MapEntry[]): Uint8Array {
  const out = new Uint8Array(entries.length * PACKED_ENTRY);
  entries.forEach((e, i) => {
    out.set(e.label, i * PACKED_ENTRY);
    out.set(e.commitment, i * PACKED_ENTRY + 32);
  });
  return out;
}

export function unpackEntries(packed: Uint8Array): MapEntry[] {
  const out: MapEntry[] = [];
  for (let o = 0; o < packed.length; o += PACKED_ENTRY) out.push({ label: packed.subarray(o, o + 32), commitment: packed.subarray(o + 32, o + PACKED_ENTRY) });
  return out;
}

/** Leaves packed into one buffer (one copy to send instead of one per leaf), with where each ends. */
export function packLeaves(leaves: readonly Uint8Array[]): { bytes: Uint8Array; ends: Uint32Array } {
  const ends = new Uint32Array(leaves.length);
  let n = 0;
  leaves.forEach((l, i) => (ends[i] = n += l.length));
  const bytes = new Uint8Array(n);
  leaves.forEach((l, i) => bytes.set(l, ends[i]! - l.length));
  return { bytes, ends };
}

/** Each leaf's entry at its version (in order): its label and the commitment to its leaf hash, packed. */
export function labelLeaves(vrfSecret: Uint8Array, commitSecret: Uint8Array, leaves: { bytes: Uint8Array; ends: Uint32Array }, versions: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(leaves.ends.length * PACKED_ENTRY);
  let start = 0;
  leaves.ends.forEach((end, i) => {
    const leaf = leaves.bytes.subarray(start, end);
    start = end;
    const ev = decodeLeaf(leaf);
    const label = mapLabelOnly(vrfSecret, ev.jid, ev.node, versions[i]!);
    out.set(label, i * PACKED_ENTRY);
    out.set(commitValue(commitmentNonce(commitSecret, label), label, leafHash(leaf)), i * PACKED_ENTRY + 32);
  });
  return out;
}

interface DomainState {
  source: PendingSource;
  /** The map as of the last epoch computed, with its cache of upper subtrees. */
  map: SparseMerkleMap;
  /** The epoch being collected and its entries so far, in log order. */
  collecting: { epoch: number; entries: MapEntry[] };
  /** The last epoch whose root was computed here on top of `stored`, and its entries by label. */
  last?: { epoch: number; stored: number; sorted: MapEntry[] };
  /** The stored map, kept here (map-mirror.ts); undefined before its first read or when too large. */
  mirror?: MapMirror;
  /** The map outgrew maxMirror: read through the event loop from then on. */
  noMirror?: boolean;
}

export interface EpochRootsOptions {
  /** Entries the copy of a domain's map may hold; past that its subtrees are read through the event loop. */
  maxMirror?: number;
  /**
   * Subtrees with fewer entries are hashed from their entries (SparseMerkleMap leafBatch). Small: the entries
   * are in memory here, and a new label then re-hashes only a few of its neighbours.
   */
  leafBatch?: number;
}

/** Per domain: the entries of the epoch being built, and the map the next root is computed on. */
export class EpochRoots {
  private readonly domains = new Map<string, DomainState>();
  private readonly maxMirror: number;
  private readonly leafBatch: number;

  constructor(
    private readonly read: (domain: string) => RangeRead,
    options: EpochRootsOptions = {},
  ) {
    this.maxMirror = options.maxMirror ?? 1 << 20;
    this.leafBatch = options.leafBatch ?? 32;
  }

  private state(domain: string): DomainState {
    let st = this.domains.get(domain);
    if (!st) {
      const remote = this.read(domain);
      const local: RangeRead = async (lo, hi, epoch, limit) => (st!.mirror?.epoch === epoch ? st!.mirror.range(lo, hi, limit) : remote(lo, hi, epoch, limit));
      const source = new PendingSource(local, 0);
      st = { source, map: new SparseMerkleMap(source, { leafBatch: this.leafBatch }), collecting: { epoch: 0, entries: [] } };
      this.domains.set(domain, st);
    }
    return st;
  }

  /** Entries of `epoch` (packed, in log order); `first` starts the epoch afresh (an abandoned one is dropped). */
  collect(domain: string, epoch: number, first: boolean, packed: Uint8Array): void {
    const st = this.state(domain);
    if (first || st.collecting.epoch !== epoch) st.collecting = { epoch, entries: [] };
    st.collecting.entries.push(...unpackEntries(packed));
  }

  /** Brings the copy of the map to epoch `stored`: by the last epoch computed here when that is the one stored, else read anew. */
  private async mirrorAt(domain: string, st: DomainState, stored: number): Promise<void> {
    if (st.noMirror || st.mirror?.epoch === stored) return;
    const last = st.last;
    if (st.mirror && last && last.epoch === stored && st.mirror.epoch === last.stored) st.mirror.add(last.sorted, stored);
    else st.mirror = await MapMirror.load(this.read(domain), stored, this.maxMirror);
    if (!st.mirror || st.mirror.size > this.maxMirror) {
      st.mirror = undefined;
      st.noMirror = true;
    }
  }

  /**
   * The root of the map as of `stored` (the latest stored epoch) plus the entries collected for `epoch`, and
   * their order by label (indexes into the log order).
   */
  async root(domain: string, epoch: number, stored: number): Promise<{ root: Uint8Array; order: Uint32Array }> {
    let st = this.state(domain);
    const last = st.last;
    // The cache holds the map as of the last epoch computed here: right when it was stored, the one before
    // it when it was not; anything else (another builder stored epochs meanwhile) starts over.
    if (last && last.epoch !== stored) {
      if (last.stored === stored) {
        st.map.invalidate(last.sorted.map((e) => e.label));
        st.last = undefined;
      } else {
        const collecting = st.collecting;
        this.domains.delete(domain);
        st = this.state(domain);
        st.collecting = collecting;
      }
    }
    const entries = st.collecting.epoch === epoch ? st.collecting.entries : [];
    const order = Uint32Array.from(entries.keys()).sort((a, b) => compareLabels(entries[a]!.label, entries[b]!.label));
    const sorted = Array.from(order, (i) => entries[i]!);
    st.collecting = { epoch: 0, entries: [] };
    try {
      await this.mirrorAt(domain, st, stored);
      st.source.epoch = stored;
      st.source.pending = sorted;
      st.map.invalidate(sorted.map((e) => e.label));
      st.last = { epoch, stored, sorted };
      return { root: await st.map.root(), order };
    } catch (err) {
      // Nothing of this epoch may stay cached: start over next time.
      this.domains.delete(domain);
      throw err;
    } finally {
      // The next root reads the map as of the epoch stored by then; `last` says what the cache holds.
      st.source.pending = [];
    }
  }
}
