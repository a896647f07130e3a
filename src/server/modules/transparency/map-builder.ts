// One domain's verifiable map (docs/transparency.md "Stage 2"): after tree heads are signed, the log leaves
// not yet in the map go into it as a new epoch, each under its VRF label (one per (JID, node, version)) with a
// commitment to its RFC 9162 leaf hash, and the epoch's map head is signed with the log key. Runs off the
// publish path, one epoch at a time; the labels (a VRF proof each, a few milliseconds of CPU) are computed on a
// worker thread by the server (vrf-worker.ts).
import type { KeyObject } from 'node:crypto';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import type { TransparencyStore } from '../../../storage/types.ts';
import { mapSource, type KtMapEntry, type KtMapEpoch, type KtMapStore } from '../../../storage/kt-map.ts';
import { decodeLeaf } from '../../../transparency/leaf.ts';
import { leafHash } from '../../../transparency/hash.ts';
import { rootHash } from '../../../transparency/tree.ts';
import { compareLabels, prefixBounds } from '../../../transparency/map/bits.ts';
import type { MapEntry } from '../../../transparency/map/hash.ts';
import { SparseMerkleMap, type MapEntrySource } from '../../../transparency/map/tree.ts';
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

export interface MapBuilderOptions {
  /** Log leaves read (and labelled) per batch. */
  batch?: number;
  /** Most new entries in one epoch: a backlog is spread over several epochs (and append-only proofs stay small). */
  maxEpochEntries?: number;
  /** Called with each epoch's signed head once it is stored (published to the map heads node). */
  onEpoch?: (head: SignedMapHead) => Promise<void>;
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

/** The store's map as of its latest epoch with entries not stored yet laid over it (the next epoch's map). */
class PendingSource implements MapEntrySource {
  pending: MapEntry[] = [];
  constructor(
    private readonly store: KtMapStore,
    private readonly domain: string,
    public epoch: number,
  ) {}

  async range(prefix: Uint8Array, depth: number, limit: number): Promise<MapEntry[]> {
    const { lo, hi } = prefixBounds(prefix, depth);
    const stored = await this.store.range(this.domain, lo, hi, this.epoch, limit);
    if (this.pending.length === 0) return stored;
    const extra = this.pending.filter((e) => compareLabels(e.label, lo) >= 0 && compareLabels(e.label, hi) <= 0);
    return [...stored, ...extra].sort((a, b) => compareLabels(a.label, b.label)).slice(0, limit);
  }
}

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
    private readonly fns: MapFunctions,
    private readonly clock: () => number,
    options: MapBuilderOptions = {},
  ) {
    this.batch = options.batch ?? 64;
    this.maxEpochEntries = options.maxEpochEntries ?? 10_000;
    this.maxViewAdded = options.maxViewAdded ?? 10_000;
    this.onEpoch = options.onEpoch;
    this.source = new PendingSource(store, domain, 0);
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
    return this.queue;
  }

  /** Adds epochs until the map covers the first `logSize` leaves of the log. Resolves with the latest epoch. */
  update(logSize: number): Promise<KtMapEpoch | undefined> {
    const run = this.queue.then(async () => {
      await this.load();
      while (!this.stopping && (this.latestEpoch?.logSize ?? 0) < logSize) await this.addEpoch(logSize);
      return this.latestEpoch;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async addEpoch(logSize: number): Promise<void> {
    const prev = this.latestEpoch;
    const start = prev?.logSize ?? 0;
    const end = Math.min(logSize, start + this.maxEpochEntries);
    const epoch = (prev?.epoch ?? 0) + 1;
    const entries: KtMapEntry[] = [];
    const versions = new Map<string, number>();
    for (let at = start; at < end; at += this.batch) {
      if (this.stopping) return;
      const leaves = await this.log.entries(this.domain, at, Math.min(end, at + this.batch));
      const t0 = performance.now();
      let turn = t0;
      const batch: { seq: number; leaf: Uint8Array; jid: string; node: string; version: number }[] = [];
      for (const { seq, leaf } of leaves) {
        const ev = decodeLeaf(leaf);
        const k = `${ev.jid}\0${ev.node}`;
        const version = (versions.get(k) ?? (await this.store.latestVersion(this.domain, ev.jid, ev.node))) + 1;
        versions.set(k, version);
        batch.push({ seq, leaf, jid: ev.jid, node: ev.node, version });
      }
      // The server labels on a worker thread (vrf-worker.ts): the batch is asked for at once. A label function
      // that runs here still gets the event loop a turn every few milliseconds.
      const asked: (Uint8Array | Promise<Uint8Array>)[] = [];
      for (const e of batch) {
        if (performance.now() - turn > YIELD_MS) {
          await yieldTurn();
          turn = performance.now();
        }
        asked.push(this.fns.label(e.jid, e.node, e.version));
      }
      const batchLabels = await Promise.all(asked);
      batch.forEach((e, i) => {
        const label = batchLabels[i]!;
        entries.push({ label, commitment: this.fns.commit(label, leafHash(e.leaf)), epoch, jid: e.jid, node: e.node, version: e.version, seq: e.seq });
      });
      this.stats.entries += leaves.length;
      this.stats.ms += performance.now() - t0;
    }
    entries.sort((a, b) => compareLabels(a.label, b.label));
    const labels = entries.map((e) => e.label);
    this.source.pending = entries.map((e) => ({ label: e.label, commitment: e.commitment }));
    this.building.invalidate(labels);
    try {
      const root = await this.building.root();
      const logRoot = await rootHash(end, (refs) => this.log.nodes(this.domain, refs));
      const head = signMapHead({ domain: this.domain, epoch, logSize: end, time: Math.max(this.clock(), prev?.time ?? 0), logRoot, root }, this.key);
      const stored: KtMapEpoch = { epoch, logSize: end, logRoot, root, time: head.time, key: head.key, signature: head.signature };
      await this.store.addEpoch(this.domain, stored, entries);
      this.latestEpoch = stored;
      this.source.epoch = epoch;
      // The building map now holds exactly the new epoch: its cache seeds the served map's.
      this.source.pending = [];
      this.servedMap = this.building.fork(mapSource(this.store, this.domain, epoch));
    } catch (err) {
      this.source.pending = [];
      this.building.invalidate(labels);
      throw err;
    }
    // Stored: a failed publication must not undo or repeat the epoch (the publisher catches up later).
    await this.onEpoch?.(headOf(this.domain, this.latestEpoch));
  }
}
