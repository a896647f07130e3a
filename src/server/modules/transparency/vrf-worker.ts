// Map labels computed on a worker thread. A label is one ECVRF proof, 2.5–4.5 ms of CPU on @noble/curves
// (docs/benchmarks.md "Verifiable map: VRF"): on the main thread the map builder and every lookup would hold
// the event loop that long per label, so every stanza of every session would wait behind them. The worker
// also puts that work on the second core. Started on first use; a worker that dies fails its pending
// requests and the next request starts a new one.
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../../runtime/start-worker.ts';

export type LabelItem = [jid: string, node: string, version: number];
export interface VrfRequest {
  id: number;
  secretKey: Uint8Array;
  items: LabelItem[];
}
export type VrfReply = { id: number; results: [label: Uint8Array, proof: Uint8Array][] } | { id: number; error: string };

interface Pending {
  resolve(results: { label: Uint8Array; proof: Uint8Array }[]): void;
  reject(err: Error): void;
}

export class VrfWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  /** The labels and VRF proofs of `items` under `secretKey` (map-label.ts mapLabel), in order. */
  labels(secretKey: Uint8Array, items: LabelItem[]): Promise<{ label: Uint8Array; proof: Uint8Array }[]> {
    if (this.closed) return Promise.reject(new Error('the VRF worker is closed'));
    if (items.length === 0) return Promise.resolve([]);
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Referenced only while it owes answers: an idle worker must not keep a stopping process alive.
      worker.ref();
      worker.postMessage({ id, secretKey, items } satisfies VrfRequest);
    });
  }

  async label(secretKey: Uint8Array, jid: string, node: string, version: number): Promise<{ label: Uint8Array; proof: Uint8Array }> {
    const [one] = await this.labels(secretKey, [[jid, node, version]]);
    return one!;
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new Error('the VRF worker is closed'));
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker(import.meta.url, 'vrf-thread');
    worker.unref();
    worker.on('message', (reply: VrfReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in reply) p.reject(new Error(reply.error));
      else p.resolve(reply.results.map(([label, proof]) => ({ label, proof })));
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
