// A published key's payload hash and fingerprint, derived on a worker thread (docs/transparency.md
// "Atomicity"). On the event loop they cost ~20 µs per key event (copying and hashing the payload, parsing the
// key, digesting its print input): a fifth of a publish. The write is queued at once and its batch waits for
// the result (group-commit.ts "Holds", bounded), so the event loop serves other stanzas meanwhile. Requests
// of one turn of the event loop go in one message. Started on first use; when the worker fails or dies, the
// events it owed get no value, and the store derives them itself (key-event-input.ts derivedEvent).
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../../runtime/start-worker.ts';
import { PARSED, type Derivation, type UnderivedPublish } from '../../../transparency/key-event-input.ts';
import type { KeyEventDraft } from '../../../transparency/leaf.ts';

export interface DeriveRequest {
  id: number;
  items: [node: string, payload: string][];
}
export type DeriveReply = { id: number; hashes: Uint8Array; fingerprints: (string | null)[] } | { id: number; error: string };

interface Slot {
  event: UnderivedPublish;
  derivation: Derivation;
  done: () => void;
}

export class DeriveWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Slot[]>();
  private queued: Slot[] = [];
  private nextId = 0;
  private closed = false;

  /** The derivation of `event`, filled in when the worker answers (no value if it cannot). */
  derive(event: UnderivedPublish): Derivation {
    let done!: () => void;
    const derivation: Derivation = { ready: new Promise<void>((resolve) => (done = resolve)) };
    if (this.closed) {
      done();
      return derivation;
    }
    if (this.queued.length === 0) setImmediate(() => this.send());
    this.queued.push({ event, derivation, done });
    return derivation;
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.giveUpAll();
    await worker?.terminate();
  }

  private send(): void {
    const slots = this.queued;
    this.queued = [];
    if (slots.length === 0) return;
    if (this.closed) {
      for (const s of slots) s.done();
      return;
    }
    let worker: Worker;
    try {
      worker = this.start();
    } catch {
      for (const s of slots) s.done();
      return;
    }
    const id = this.nextId++;
    this.pending.set(id, slots);
    // Referenced only while it owes answers: an idle worker must not keep a stopping process alive.
    worker.ref();
    worker.postMessage({ id, items: slots.map((s) => [s.event.node, s.event.payload]) } satisfies DeriveRequest);
  }

  private answered(reply: DeriveReply): void {
    const slots = this.pending.get(reply.id);
    if (!slots) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    if ('hashes' in reply) {
      slots.forEach((s, i) => {
        const { payload: _payload, [PARSED]: _parsed, ...rest } = s.event;
        const value: KeyEventDraft = { ...rest, payloadHash: reply.hashes.slice(i * 32, i * 32 + 32) };
        const fingerprint = reply.fingerprints[i];
        if (fingerprint !== null && fingerprint !== undefined) value.fingerprint = fingerprint;
        s.derivation.value = value;
      });
    }
    for (const s of slots) s.done();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker(import.meta.url, 'derive-thread');
    worker.unref();
    worker.on('message', (reply: DeriveReply) => this.answered(reply));
    const lost = () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.giveUpAll();
    };
    worker.on('error', lost);
    worker.on('exit', lost);
    this.worker = worker;
    return worker;
  }

  /** What was owed gets no value: the store derives those events itself. */
  private giveUpAll(): void {
    const all = [...this.pending.values()].flat();
    this.pending.clear();
    for (const s of all) s.done();
  }
}
