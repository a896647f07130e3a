// The worker side of vrf-worker.ts: computes map labels (with their VRF proofs, or alone) off the main thread,
// and the map builder's per-entry and per-epoch work (map-epoch-work.ts), reading the stored map through the
// main thread (the storage lives there).
import { parentPort } from 'node:worker_threads';
import { mapLabel, mapLabelOnly } from '../../../transparency/map-label.ts';
import type { MainReply, ThreadMessage, VrfRequest } from './vrf-worker.ts';
import { lowerThreadPriority } from '../../../runtime/thread-priority.ts';
import { EpochRoots, labelLeaves, unpackEntries } from './map-epoch-work.ts';
import type { MapEntry } from '../../../transparency/map/hash.ts';

// Background work: under load the server's threads go first and the map lags (vrf-worker.ts).
lowerThreadPriority();

const port = parentPort!;
// vrf.ts keeps each secret key's expansion (x, x·B, its OpenSSL keys) per Uint8Array; every message brings a
// fresh copy of the key, so one instance per key keeps that cache hit (without it a label costs several times more).
const keys = new Map<string, Uint8Array>();
function canonical(secretKey: Uint8Array): Uint8Array {
  const hex = Buffer.from(secretKey).toString('hex');
  let key = keys.get(hex);
  if (!key) keys.set(hex, (key = secretKey));
  return key;
}

// Range reads of the stored map, answered by the main thread.
let nextRead = 0;
const reads = new Map<number, { resolve(entries: MapEntry[]): void; reject(err: Error): void }>();
const roots = new EpochRoots((domain) => (lo, hi, epoch, limit) =>
  new Promise((resolve, reject) => {
    const rid = nextRead++;
    reads.set(rid, { resolve, reject });
    port.postMessage({ read: rid, domain, lo, hi, epoch, limit } satisfies ThreadMessage);
  }));

function answer(req: VrfRequest): void | Promise<void> {
  const { id } = req;
  if (req.kind === 'entries') {
    const packed = labelLeaves(canonical(req.vrfSecret), req.commitSecret, { bytes: req.leaves, ends: req.ends }, req.versions);
    roots.collect(req.domain, req.epoch, req.first, packed);
    // Not transferred: the collected entries are views of it.
    port.postMessage({ id, packed } satisfies ThreadMessage);
    return;
  }
  if (req.kind === 'root') {
    return roots.root(req.domain, req.epoch, req.stored).then(({ root, order }) => port.postMessage({ id, root, order } satisfies ThreadMessage));
  }
  const secretKey = canonical(req.secretKey);
  if (!req.proofs) {
    port.postMessage({ id, labels: req.items.map(([jid, node, version]) => mapLabelOnly(secretKey, jid, node, version)) } satisfies ThreadMessage);
    return;
  }
  const labels: Uint8Array[] = [];
  const made: Uint8Array[] = [];
  for (const [jid, node, version] of req.items) {
    const { label, proof } = mapLabel(secretKey, jid, node, version);
    labels.push(label);
    made.push(proof);
  }
  port.postMessage({ id, labels, proofs: made } satisfies ThreadMessage);
}

port.on('message', (msg: VrfRequest | MainReply) => {
  if ('read' in msg) {
    const r = reads.get(msg.read);
    reads.delete(msg.read);
    if ('error' in msg) r?.reject(new Error(msg.error));
    else r?.resolve(unpackEntries(msg.packed));
    return;
  }
  const fail = (err: unknown) => port.postMessage({ id: msg.id, error: (err as Error).message } satisfies ThreadMessage);
  try {
    const p = answer(msg);
    if (p) p.catch(fail);
  } catch (err) {
    fail(err);
  }
});
