// The map builder's work that runs in the map's worker process (vrf-process.ts), so that the event loop only
// hands over each batch of log leaves and gets back what to store and sign (map-builder.ts): per entry the
// leaf's decoding and hash, its version (one more than its JID and node's last), its VRF label and commitment;
// per epoch the sort by label and the new root (the subtree hashing). Functions of their inputs and of the
// stored map, which the thread reads through the event loop (`MapReader`): the results are the ones
// map-builder.ts computes in-thread, byte for byte.
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
  for (let i = 0; i < leaves.length; i++) ends[i] = n += leaves[i]!.length;
  const bytes = new Uint8Array(n);
  for (let i = 0, o = 0; i < leaves.length; o = ends[i++]!) bytes.set(leaves[i]!, o);
  return { bytes, ends };
}

/** What the thread reads of the stored map, through the event loop (the storage lives there). */
export interface MapReader {
  range: RangeRead;
  /** The highest version of (jid, node) in the stored map, 0 when it has none (KtMapStore.latestVersion). */
  latestVersion(jid: string, node: string): Promise<number>;
}

/** A batch of leaves made into entries: the event loop adds the sequence numbers and stores them. */
export interface LabelledBatch {
  /** Label then commitment of each leaf, in order. */
  packed: Uint8Array;
  versions: Uint32Array;
  /** Each leaf's JID and node, as an index into `owners`. */
  owner: Uint32Array;
  owners: [jid: string, node: string][];
}

/** Most (JID, node) pairs whose latest version the thread remembers between epochs (then it forgets them all). */
const VERSIONS_KEPT = 100_000;

interface DomainState {
  source: PendingSource;
  /** The map as of the last epoch computed, with its cache of upper subtrees. */
  map: SparseMerkleMap;
  /** The epoch being collected: its entries so far (in log order), and the latest version of each pair it has. */
  collecting: { epoch: number; entries: MapEntry[]; counts: Map<string, number> };
  /** The last epoch whose root was computed here on top of `stored`, its entries by label and its versions. */
  last?: { epoch: number; stored: number; sorted: MapEntry[]; counts?: Map<string, number> };
  /** Latest versions in the stored map as of epoch `versionsAt`, by JID and node. */
  versions: Map<string, number>;
  versionsAt?: number;
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
    private readonly read: (domain: string) => MapReader,
    options: EpochRootsOptions = {},
  ) {
    this.maxMirror = options.maxMirror ?? 1 << 20;
    this.leafBatch = options.leafBatch ?? 32;
  }

  private state(domain: string): DomainState {
    let st = this.domains.get(domain);
    if (!st) {
      const remote = this.read(domain).range;
      const local: RangeRead = async (lo, hi, epoch, limit) => (st!.mirror?.epoch === epoch ? st!.mirror.range(lo, hi, limit) : remote(lo, hi, epoch, limit));
      const source = new PendingSource(local, 0);
      st = { source, map: new SparseMerkleMap(source, { leafBatch: this.leafBatch }), collecting: { epoch: 0, entries: [], counts: new Map() }, versions: new Map() };
      this.domains.set(domain, st);
    }
    return st;
  }

  /** Entries made elsewhere (packed, in log order) for `epoch`; `first` starts the epoch afresh. */
  collectEntries(domain: string, epoch: number, first: boolean, packed: Uint8Array): void {
    const st = this.state(domain);
    if (first || st.collecting.epoch !== epoch) st.collecting = { epoch, entries: [], counts: new Map() };
    st.collecting.entries.push(...unpackEntries(packed));
  }

  /** The versions known as of epoch `stored`: the last epoch's added when it is the one stored; else read anew. */
  private versionsAt(st: DomainState, stored: number): void {
    const last = st.last;
    if (last?.counts && last.epoch === stored && st.versionsAt === last.stored) {
      if (st.versions.size + last.counts.size > VERSIONS_KEPT) st.versions.clear();
      for (const [k, v] of last.counts) st.versions.set(k, v);
      st.versionsAt = stored;
    }
    if (last) last.counts = undefined;
    if (st.versionsAt !== stored) {
      st.versions.clear();
      st.versionsAt = stored;
    }
  }

  /**
   * Makes the entries of a batch of leaves of `epoch` (log order) on the map as of `stored`, and keeps them for
   * the epoch's root; `first` starts the epoch afresh (an abandoned one is dropped).
   */
  async collect(domain: string, epoch: number, first: boolean, stored: number, leaves: { bytes: Uint8Array; ends: Uint32Array }, vrfSecret: Uint8Array, commitSecret: Uint8Array): Promise<LabelledBatch> {
    const st = this.state(domain);
    if (first || st.collecting.epoch !== epoch) {
      this.versionsAt(st, stored);
      st.collecting = { epoch, entries: [], counts: new Map() };
    }
    const n = leaves.ends.length;
    const events: { leaf: Uint8Array; key: string; pair: number }[] = [];
    const owners: [string, string][] = [];
    const pairs = new Map<string, number>();
    let start = 0;
    for (const end of leaves.ends) {
      const leaf = leaves.bytes.subarray(start, end);
      start = end;
      const { jid, node } = decodeLeaf(leaf);
      const key = `${jid}\0${node}`;
      let pair = pairs.get(key);
      if (pair === undefined) {
        pairs.set(key, (pair = owners.length));
        owners.push([jid, node]);
      }
      events.push({ leaf, key, pair });
    }
    const { collecting, versions } = st;
    const unknown = owners.filter(([jid, node]) => {
      const key = `${jid}\0${node}`;
      return !collecting.counts.has(key) && !versions.has(key);
    });
    const reader = this.read(domain);
    const fetched = await Promise.all(unknown.map(([jid, node]) => reader.latestVersion(jid, node)));
    // Read while this batch waited: another batch of the same epoch cannot run meanwhile (one builder, in order).
    unknown.forEach(([jid, node], i) => collecting.counts.set(`${jid}\0${node}`, fetched[i]!));
    const out: LabelledBatch = { packed: new Uint8Array(n * PACKED_ENTRY), versions: new Uint32Array(n), owner: new Uint32Array(n), owners };
    events.forEach(({ leaf, key, pair }, i) => {
      const version = (collecting.counts.get(key) ?? versions.get(key)!) + 1;
      collecting.counts.set(key, version);
      const [jid, node] = owners[pair]!;
      const label = mapLabelOnly(vrfSecret, jid, node, version);
      out.packed.set(label, i * PACKED_ENTRY);
      const commitment = commitValue(commitmentNonce(commitSecret, label), label, leafHash(leaf));
      out.packed.set(commitment, i * PACKED_ENTRY + 32);
      out.versions[i] = version;
      out.owner[i] = pair;
      collecting.entries.push({ label, commitment });
    });
    return out;
  }

  /** Brings the copy of the map to epoch `stored`: by the last epoch computed here when that is the one stored, else read anew. */
  private async mirrorAt(domain: string, st: DomainState, stored: number): Promise<void> {
    if (st.noMirror || st.mirror?.epoch === stored) return;
    const last = st.last;
    if (st.mirror && last && last.epoch === stored && st.mirror.epoch === last.stored) st.mirror.add(last.sorted, stored);
    else st.mirror = await MapMirror.load(this.read(domain).range, stored, this.maxMirror);
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
    const counts = st.collecting.epoch === epoch ? st.collecting.counts : new Map<string, number>();
    st.collecting = { epoch: 0, entries: [], counts: new Map() };
    try {
      await this.mirrorAt(domain, st, stored);
      st.source.epoch = stored;
      st.source.pending = sorted;
      st.map.invalidate(sorted.map((e) => e.label));
      st.last = { epoch, stored, sorted, counts };
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
