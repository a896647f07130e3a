// One domain's verifiable map (docs/transparency.md "Stage 2"): after tree heads are signed, the log leaves
// not yet in the map go into it as a new epoch: the last leaf of each (JID, node) among them (epoch-leaves.ts),
// under its VRF label (one per (JID, node, version): version n is the n-th epoch with key events of that
// pair) with a commitment to its RFC 9162 leaf hash, and the epoch's map head is signed with the log key. Runs off the
// publish path, one epoch at a time. The server hands the per-entry work (leaf decoding and hash, VRF label,
// commitment) and each epoch's sort and root to its worker thread (MapThread, vrf-worker.ts and
// map-epoch-work.ts): the event loop only reads the leaves, counts versions, stores and signs. With plain
// MapFunctions (tests, tools) all of it runs here, with the same results.
import type { KeyObject } from 'node:crypto';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import type { TransparencyStore } from '../../../storage/types.ts';
import { mapSource, type KtMapEntry, type KtMapEpoch, type KtMapStore } from '../../../storage/kt-map.ts';
import { leafHash } from '../../../transparency/hash.ts';
import { rootHash } from '../../../transparency/tree.ts';
import { compareLabels } from '../../../transparency/map/bits.ts';
import { SparseMerkleMap } from '../../../transparency/map/tree.ts';
import { PendingSource } from '../../../transparency/map/pending-source.ts';
import { PACKED_ENTRY, type LabelledBatch } from './map-epoch-work.ts';
import { epochLeaves } from './epoch-leaves.ts';
import { EMPTY_MAP, EpochView, type SubtreeReader } from '../../../transparency/map/epoch-view.ts';
import { signMapHead, type SignedMapHead } from '../../../transparency/map-head.ts';

/** Longest run of labelling between two turns of the event loop. */
const YIELD_MS = 5;

export interface MapFunctions {
  /** The VRF label of (jid, node, version) (map-label.ts mapLabel; the server's runs on vrf-worker.ts). */
  label(jid: string, node: string, version: number): Uint8Array | Promise<Uint8Array>;
  /** The commitment to `value` under `label` (map-commitment.ts). */
  commit(label: Uint8Array, value: Uint8Array): Uint8Array;
}

/** The same work on another thread, for one domain (vrf-worker.ts mapThread). */
export interface MapThread {
  /**
   * The entries of a batch of leaves (in order) on the map as of epoch `stored`, each at its version (counted
   * on the thread); the thread keeps them for the epoch's root. `first`: the first batch of `epoch` (an
   * abandoned epoch is dropped).
   */
  entries(epoch: number, first: boolean, stored: number, leaves: Uint8Array[]): Promise<LabelledBatch>;
  /** The root of the map as of epoch `stored` plus the entries sent for `epoch`, and their order by label. */
  root(epoch: number, stored: number): Promise<{ root: Uint8Array; order: Uint32Array }>;
}

/**
 * The epochs made elsewhere, by a builder of this domain running beside the log (map-host.ts): this side serves
 * the map and learns of each stored epoch through epochStored().
 */
export interface RemoteEpochs {
  /** Resolves once the map covers the first `logSize` leaves (or the builder there stopped); `time`: the clock's now. */
  update(logSize: number, logRoot: Uint8Array | undefined, time: number): Promise<void>;
  /** Abandons the epoch being built there. */
  stop(): Promise<void>;
}

export interface MapBuilderOptions {
  /** Log leaves read (and labelled) per batch. */
  batch?: number;
  /** Log leaves read and sent per message with a MapThread (bounds the messages' size). */
  threadBatch?: number;
  /** Most new entries in one epoch: a backlog is spread over several epochs (and append-only proofs stay small). */
  maxEpochEntries?: number;
  /** Called with each epoch's signed head once it is stored (published to the map heads node). */
  onEpoch?: (head: SignedMapHead) => Promise<void>;
  /** Called with each epoch stored by this builder and its new labels (in label order), before onEpoch. */
  onStored?: (epoch: KtMapEpoch, labels: Uint8Array[]) => void;
  /**
   * An older epoch's map is read through the latest one when at most this many entries came after it; past
   * that, from its own entries (a whole read, the few latest such views kept).
   */
  maxViewAdded?: number;
}

/** Older epochs' maps read from scratch, kept for the next proofs at the same epoch. */
const FULL_VIEWS_KEPT = 2;

export const headOf = (domain: string, e: KtMapEpoch): SignedMapHead => ({
  domain,
  epoch: e.epoch,
  logSize: e.logSize,
  time: e.time,
  logRoot: e.logRoot,
  root: e.root,
  key: e.key,
  signature: e.signature,
});

export class DomainMapBuilder {
  private latestEpoch: KtMapEpoch | undefined;
  private loaded = false;
  private stopping = false;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly source: PendingSource;
  /** The map as it is being built (the latest epoch plus the pending entries). */
  private readonly building: SparseMerkleMap;
  /** The latest epoch's map, for proofs; replaced when an epoch is added. */
  private servedMap: SparseMerkleMap | undefined;
  private readonly batch: number;
  private readonly threadBatch: number;
  private readonly thread: MapThread | undefined;
  private readonly remote: RemoteEpochs | undefined;
  private readonly onStored: ((epoch: KtMapEpoch, labels: Uint8Array[]) => void) | undefined;
  /** Remote epochs' heads handed to onEpoch, in epoch order. */
  private publishing: Promise<unknown> = Promise.resolve();
  private readonly maxEpochEntries: number;
  private readonly maxViewAdded: number;
  private readonly onEpoch: ((head: SignedMapHead) => Promise<void>) | undefined;
  private readonly fullViews = new Map<number, SparseMerkleMap>();
  /** Entries labelled, and the time spent on them (metrics: entries per second). */
  readonly stats = { entries: 0, ms: 0 };

  constructor(
    readonly domain: string,
    private readonly key: KeyObject,
    private readonly log: TransparencyStore,
    readonly store: KtMapStore,
    private readonly fns: MapFunctions | MapThread | RemoteEpochs,
    private readonly clock: () => number,
    options: MapBuilderOptions = {},
  ) {
    this.thread = 'root' in fns ? fns : undefined;
    this.remote = 'update' in fns ? fns : undefined;
    this.onStored = options.onStored;
    this.batch = options.batch ?? 64;
    this.threadBatch = options.threadBatch ?? 1024;
    this.maxEpochEntries = options.maxEpochEntries ?? 10_000;
    this.maxViewAdded = options.maxViewAdded ?? 10_000;
    this.onEpoch = options.onEpoch;
    this.source = new PendingSource((lo, hi, epoch, limit) => store.range(domain, lo, hi, epoch, limit), 0);
    this.building = new SparseMerkleMap(this.source);
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    this.latestEpoch = await this.store.latestEpoch(this.domain);
    this.source.epoch = this.latestEpoch?.epoch ?? 0;
    this.loaded = true;
  }

  /** The latest epoch (undefined before the first), read from storage on first use. */
  async latest(): Promise<KtMapEpoch | undefined> {
    await this.load();
    return this.latestEpoch;
  }

  /** The latest epoch's map, for membership proofs. */
  async served(): Promise<{ epoch: KtMapEpoch; map: SparseMerkleMap } | undefined> {
    await this.load();
    const epoch = this.latestEpoch;
    if (!epoch) return undefined;
    this.servedMap ??= new SparseMerkleMap(mapSource(this.store, this.domain, epoch.epoch));
    return { epoch, map: this.servedMap };
  }

  /**
   * The map as of `epoch` (1 … latest; 0 is the empty map), for proofs: the latest epoch's map seen without
   * the entries added after `epoch` (epoch-view.ts), or undefined when there is no such epoch. `known`: the
   * entries added after `epoch` up to `upTo`, already read by the caller (only those after it are read here).
   */
  async view(epoch: number, known?: { upTo: number; entries: KtMapEntry[] }): Promise<{ epoch: KtMapEpoch | undefined; map: SubtreeReader } | undefined> {
    const served = await this.served();
    if (!served || epoch > served.epoch.epoch) return undefined;
    if (epoch === served.epoch.epoch) return served;
    if (epoch === 0) return { epoch: undefined, map: EMPTY_MAP };
    const at = await this.store.epoch(this.domain, epoch);
    if (!at) return undefined;
    const source = mapSource(this.store, this.domain, epoch);
    const latest = served.epoch.epoch;
    const from = known && known.upTo <= latest ? known.upTo : epoch;
    const later = from < latest ? await this.store.inserted(this.domain, from, latest, this.maxViewAdded + 1) : [];
    const added = known && from !== epoch ? [...known.entries, ...later].sort((a, b) => compareLabels(a.label, b.label)) : later;
    if (added.length <= this.maxViewAdded) return { epoch: at, map: new EpochView(served.map, source, added, undefined, served.epoch.logSize) };
    let full = this.fullViews.get(epoch);
    if (!full) {
      full = new SparseMerkleMap(source);
      this.fullViews.set(epoch, full);
      for (const old of this.fullViews.keys()) if (this.fullViews.size > FULL_VIEWS_KEPT) this.fullViews.delete(old);
    } else {
      // Most recently used last.
      this.fullViews.delete(epoch);
      this.fullViews.set(epoch, full);
    }
    return { epoch: at, map: full };
  }

  settled(): Promise<unknown> {
    return this.queue;
  }

  /** Abandons the epoch being built (at its next batch) and any queued: a backlog must not hold up a server stop. */
  stop(): Promise<unknown> {
    this.stopping = true;
    const remote = this.remote?.stop().catch(() => undefined);
    return Promise.all([remote, this.queue]);
  }

  /**
   * An epoch the remote builder stored (RemoteEpochs), with its new labels: it becomes the latest here, the
   * served map forgets the paths of those labels, and its head goes to onEpoch. Older news is ignored.
   */
  epochStored(epoch: KtMapEpoch, labels: Uint8Array[]): void {
    if (this.latestEpoch && epoch.epoch <= this.latestEpoch.epoch) return;
    this.latestEpoch = epoch;
    this.source.epoch = epoch.epoch;
    this.loaded = true;
    if (this.servedMap) {
      const served = this.servedMap.fork(mapSource(this.store, this.domain, epoch.epoch));
      served.invalidate(labels);
      this.servedMap = served;
    }
    // A failed publication is the publisher's to make good (like published()); the next heads still go.
    this.publishing = this.publishing.then(() => this.onEpoch?.(headOf(this.domain, epoch))).catch(() => undefined);
  }

  /**
   * Adds epochs until the map covers the first `logSize` leaves of the log. Resolves with the latest epoch.
   * `logRoot`: the log's root at `logSize` when the caller has it (a tree head just signed), not recomputed.
   */
  update(logSize: number, logRoot?: Uint8Array): Promise<KtMapEpoch | undefined> {
    const run = this.queue.then(async () => {
      await this.load();
      if (this.remote) {
        if (!this.stopping && (this.latestEpoch?.logSize ?? 0) < logSize) await this.remote.update(logSize, logRoot, this.clock());
        // Its epochs arrived before its answer (one channel, in order); their heads are published in turn.
        await this.publishing;
        return this.latestEpoch;
      }
      while (!this.stopping && (this.latestEpoch?.logSize ?? 0) < logSize) await this.addEpoch(logSize, logRoot);
      return this.latestEpoch;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The version of the next event of (jid, node): one more than the last, counted in `versions` within an epoch. */
  private async nextVersion(versions: Map<string, number>, jid: string, node: string): Promise<number> {
    const k = `${jid}\0${node}`;
    const version = (versions.get(k) ?? (await this.store.latestVersion(this.domain, jid, node))) + 1;
    versions.set(k, version);
    return version;
  }

  private async addEpoch(logSize: number, logRootAtSize: Uint8Array | undefined): Promise<void> {
    const prev = this.latestEpoch;
    const start = prev?.logSize ?? 0;
    const end = Math.min(logSize, start + this.maxEpochEntries);
    const epoch = (prev?.epoch ?? 0) + 1;
    const logRoot = end === logSize && logRootAtSize ? logRootAtSize : await rootHash(end, (refs) => this.log.nodes(this.domain, refs));
    if (this.thread) return this.addEpochOnThread(this.thread, prev, start, end, epoch, logRoot);
    const kept = await epochLeaves(this.log, this.domain, start, end, this.threadBatch, () => this.stopping);
    if (!kept) return;
    const entries: KtMapEntry[] = [];
    const versions = new Map<string, number>();
    for (let at = 0; at < kept.length; at += this.batch) {
      if (this.stopping) return;
      const t0 = performance.now();
      let turn = t0;
      const batch: { seq: number; leaf: Uint8Array; jid: string; node: string; version: number }[] = [];
      for (const e of kept.slice(at, at + this.batch)) batch.push({ ...e, version: await this.nextVersion(versions, e.jid, e.node) });
      // The server labels on a worker thread (vrf-worker.ts): the batch is asked for at once. A label function
      // that runs here still gets the event loop a turn every few milliseconds.
      const asked: (Uint8Array | Promise<Uint8Array>)[] = [];
      for (const e of batch) {
        if (performance.now() - turn > YIELD_MS) {
          await yieldTurn();
          turn = performance.now();
        }
        asked.push((this.fns as MapFunctions).label(e.jid, e.node, e.version));
      }
      const batchLabels = await Promise.all(asked);
      batch.forEach((e, i) => {
        const label = batchLabels[i]!;
        entries.push({ label, commitment: (this.fns as MapFunctions).commit(label, leafHash(e.leaf)), epoch, jid: e.jid, node: e.node, version: e.version, seq: e.seq });
      });
      this.stats.entries += batch.length;
      this.stats.ms += performance.now() - t0;
    }
    entries.sort((a, b) => compareLabels(a.label, b.label));
    const labels = entries.map((e) => e.label);
    this.source.pending = entries.map((e) => ({ label: e.label, commitment: e.commitment }));
    this.building.invalidate(labels);
    try {
      const root = await this.building.root();
      await this.storeEpoch(prev, epoch, end, logRoot, root, entries);
      this.source.epoch = epoch;
      // The building map now holds exactly the new epoch: its cache seeds the served map's.
      this.source.pending = [];
      this.servedMap = this.building.fork(mapSource(this.store, this.domain, epoch));
    } catch (err) {
      this.source.pending = [];
      this.building.invalidate(labels);
      throw err;
    }
    await this.published();
  }

  /**
   * addEpoch with a MapThread: the event loop reads the leaves, counts versions and makes the entries' records
   * from what the thread sends back; the thread keeps the epoch's entries and computes its root.
   */
  private async addEpochOnThread(thread: MapThread, prev: KtMapEpoch | undefined, start: number, end: number, epoch: number, logRoot: Uint8Array): Promise<void> {
    const kept = await epochLeaves(this.log, this.domain, start, end, this.threadBatch, () => this.stopping);
    if (!kept) return;
    const entries: KtMapEntry[] = [];
    for (let at = 0; at < kept.length; at += this.threadBatch) {
      if (this.stopping) return;
      const leaves = kept.slice(at, at + this.threadBatch);
      const t0 = performance.now();
      const { packed, versions, owner, owners } = await thread.entries(epoch, at === 0, prev?.epoch ?? 0, leaves.map((l) => l.leaf));
      for (let i = 0, o = 0; i < leaves.length; i++, o += PACKED_ENTRY) {
        const [jid, node] = owners[owner[i]!]!;
        entries.push({ label: packed.subarray(o, o + 32), commitment: packed.subarray(o + 32, o + PACKED_ENTRY), epoch, jid, node, version: versions[i]!, seq: leaves[i]!.seq });
      }
      this.stats.entries += leaves.length;
      this.stats.ms += performance.now() - t0;
    }
    if (this.stopping) return;
    const { root, order } = await thread.root(epoch, prev?.epoch ?? 0);
    const sorted = Array.from(order, (i) => entries[i]!);
    await this.storeEpoch(prev, epoch, end, logRoot, root, sorted);
    // The served map keeps its cache but for the paths of the new labels (recomputed when a proof needs them).
    if (this.servedMap) {
      const served = this.servedMap.fork(mapSource(this.store, this.domain, epoch));
      served.invalidate(sorted.map((e) => e.label));
      this.servedMap = served;
    }
    await this.published();
  }

  /** Signs the epoch's head and stores the epoch with its entries (sorted by label). */
  private async storeEpoch(prev: KtMapEpoch | undefined, epoch: number, end: number, logRoot: Uint8Array, root: Uint8Array, entries: KtMapEntry[]): Promise<void> {
    const head = signMapHead({ domain: this.domain, epoch, logSize: end, time: Math.max(this.clock(), prev?.time ?? 0), logRoot, root }, this.key);
    const stored: KtMapEpoch = { epoch, logSize: end, logRoot, root, time: head.time, key: head.key, signature: head.signature };
    await this.store.addEpoch(this.domain, stored, entries);
    this.latestEpoch = stored;
    this.onStored?.(stored, entries.map((e) => e.label));
  }

  /** Stored: a failed publication must not undo or repeat the epoch (the publisher catches up later). */
  private async published(): Promise<void> {
    await this.onEpoch?.(headOf(this.domain, this.latestEpoch!));
  }
}
