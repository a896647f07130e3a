// Map labels computed in a worker process (vrf-process.ts). A label with its proof is one ECVRF proof (~1.5 ms of CPU), a label
// alone (the map builder's) ~0.4 ms (docs/benchmarks.md "Verifiable map: VRF"): on the main thread the map
// builder and every lookup would hold the event loop that long per label, so every stanza of every session
// would wait behind them. The worker is a process of its own at the lowest OS priority (vrf-process.ts): the map may lag the log
// under load, the server must not. Started on first use; a worker that dies fails its pending requests and
// the next request starts a new one.
// The map builder's per-entry and per-epoch work runs there too (mapThread, map-epoch-work.ts): the thread
// reads the stored map through this side (`read` messages), where the storage is.
import { startBackgroundProcess, type BackgroundProcess } from '../../../runtime/background-process.ts';
import { LOWEST_PRIORITY } from '../../../runtime/thread-priority.ts';
import { packEntries, packLeaves, type LabelledBatch, type MapReader } from './map-epoch-work.ts';
import type { KtMapStore } from '../../../storage/kt-map.ts';
import type { MapThread } from './map-builder.ts';

export type LabelItem = [jid: string, node: string, version: number];
export type VrfRequest =
  | {
      kind?: undefined;
      id: number;
      secretKey: Uint8Array;
      items: LabelItem[];
      /** false: labels only (no proofs, much cheaper). */
      proofs: boolean;
    }
  | { kind: 'entries'; id: number; domain: string; epoch: number; first: boolean; stored: number; vrfSecret: Uint8Array; commitSecret: Uint8Array; leaves: Uint8Array; ends: Uint32Array }
  | { kind: 'root'; id: number; domain: string; epoch: number; stored: number };
export type VrfReply =
  | { id: number; labels: Uint8Array[]; proofs?: Uint8Array[] }
  | { id: number; batch: LabelledBatch }
  | { id: number; root: Uint8Array; order: Uint32Array }
  | { id: number; error: string };
/** A read of the stored map the thread asks for (map-epoch-work.ts MapReader). */
export type ThreadRead =
  | { read: number; domain: string; range: { lo: Uint8Array; hi: Uint8Array; epoch: number; limit: number } }
  | { read: number; domain: string; version: [jid: string, node: string] };
/** What the thread sends: replies, and reads of the stored map. */
export type ThreadMessage = VrfReply | ThreadRead;
/** A read's answer: the entries packed (map-epoch-work.ts), or a version. */
export type MainReply = { read: number; packed: Uint8Array } | { read: number; version: number } | { read: number; error: string };

interface Pending {
  resolve(reply: any): void;
  reject(err: Error): void;
}

/** Labels asked one at a time in one turn of the event loop, sent as one request. */
interface Coalesced {
  secretKey: Uint8Array;
  items: LabelItem[];
  waiting: { resolve(label: Uint8Array): void; reject(err: Error): void }[];
}

export class VrfWorker {
  private worker: BackgroundProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;
  private coalesced: Coalesced | undefined;
  /** Per domain, how the thread reads the stored map (set by each mapThread). */
  private readonly readers = new Map<string, MapReader>();

  /** The worker process's id while it runs (operators: ps, top; tests). */
  get pid(): number | undefined {
    return this.worker?.pid;
  }

  /** The labels and VRF proofs of `items` under `secretKey` (map-label.ts mapLabel), in order. */
  async labels(secretKey: Uint8Array, items: LabelItem[]): Promise<{ label: Uint8Array; proof: Uint8Array }[]> {
    const { labels, proofs } = await this.ask(secretKey, items, true);
    return labels.map((label, i) => ({ label, proof: proofs![i]! }));
  }

  /**
   * The label of (jid, node, version) alone (map-label.ts mapLabelOnly): the map builder's, which asks for its
   * labels one by one in a loop; those asked in the same turn go to the worker as one message.
   */
  labelOnly(secretKey: Uint8Array, jid: string, node: string, version: number): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('the VRF worker is closed'));
    let batch = this.coalesced;
    if (!batch || batch.secretKey !== secretKey) {
      this.flush();
      batch = this.coalesced = { secretKey, items: [], waiting: [] };
      queueMicrotask(() => this.flush());
    }
    batch.items.push([jid, node, version]);
    return new Promise((resolve, reject) => batch.waiting.push({ resolve, reject }));
  }

  async label(secretKey: Uint8Array, jid: string, node: string, version: number): Promise<{ label: Uint8Array; proof: Uint8Array }> {
    const [one] = await this.labels(secretKey, [[jid, node, version]]);
    return one!;
  }

  private flush(): void {
    const batch = this.coalesced;
    if (!batch) return;
    this.coalesced = undefined;
    this.ask(batch.secretKey, batch.items, false).then(
      ({ labels }) => batch.waiting.forEach((w, i) => w.resolve(labels[i]!)),
      (err: Error) => batch.waiting.forEach((w) => w.reject(err)),
    );
  }

  private ask(secretKey: Uint8Array, items: LabelItem[], proofs: boolean): Promise<{ labels: Uint8Array[]; proofs?: Uint8Array[] }> {
    if (items.length === 0) return this.closed ? Promise.reject(new Error('the VRF worker is closed')) : Promise.resolve({ labels: [], proofs: [] });
    return this.request({ id: 0, secretKey, items, proofs });
  }

  private request<T>(req: VrfRequest): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the VRF worker is closed'));
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Referenced only while it owes answers: an idle worker must not keep a stopping process alive.
      worker.ref();
      worker.postMessage({ ...req, id });
    });
  }

  /**
   * The map builder's work for one domain on this thread (map-builder.ts MapThread), under the domain's VRF
   * key and commitment secret; the thread reads the domain's stored map from `store`.
   */
  mapThread(domain: string, vrfSecret: Uint8Array, commitSecret: Uint8Array, store: KtMapStore): MapThread {
    const reader: MapReader = {
      range: (lo, hi, epoch, limit) => store.range(domain, lo, hi, epoch, limit),
      latestVersion: (jid, node) => store.latestVersion(domain, jid, node),
    };
    return {
      entries: async (epoch, first, stored, leaves) => {
        this.readers.set(domain, reader);
        const { bytes, ends } = packLeaves(leaves);
        const req: VrfRequest = { kind: 'entries', id: 0, domain, epoch, first, stored, vrfSecret, commitSecret, leaves: bytes, ends };
        return (await this.request<{ batch: LabelledBatch }>(req)).batch;
      },
      root: (epoch, stored) => {
        this.readers.set(domain, reader);
        return this.request({ kind: 'root', id: 0, domain, epoch, stored });
      },
    };
  }

  private serveRead(worker: BackgroundProcess, m: ThreadRead): void {
    const reader = this.readers.get(m.domain);
    const reply = (r: MainReply) => {
      if (this.worker === worker) worker.postMessage(r);
    };
    const fail = (err: Error) => reply({ read: m.read, error: err.message });
    if (!reader) return fail(new Error(`no map reader for ${m.domain}`));
    if ('range' in m) {
      const { lo, hi, epoch, limit } = m.range;
      reader.range(lo, hi, epoch, limit).then((entries) => reply({ read: m.read, packed: packEntries(entries) }), fail);
    } else {
      reader.latestVersion(...m.version).then((version) => reply({ read: m.read, version }), fail);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new Error('the VRF worker is closed'));
    await worker?.terminate();
  }

  private start(): BackgroundProcess {
    if (this.worker) return this.worker;
    // Background work at the lowest priority, platform threads included (runtime/background-process.ts).
    const worker = startBackgroundProcess(import.meta.url, 'vrf-process', { priority: LOWEST_PRIORITY, idle: true });
    worker.unref();
    worker.on('message', (reply: ThreadMessage) => {
      if ('read' in reply) return this.serveRead(worker, reply);
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in reply) p.reject(new Error(reply.error));
      else p.resolve(reply);
    });
    const lost = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(err);
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`the VRF worker exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private failAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}
