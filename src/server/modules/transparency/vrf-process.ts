// The process side of vrf-worker.ts: computes map labels (with their VRF proofs, or alone) off the server's
// process, and the map builder's per-entry and per-epoch work (map-epoch-work.ts), reading the stored map
// through the server (the storage lives there). It runs at the lowest OS priority (runtime/background-process.ts):
// under load the server's threads go first and the map lags.
import { parentChannel } from '../../../runtime/background-process.ts';
import { mapLabel, mapLabelOnly } from '../../../transparency/map-label.ts';
import type { MainReply, ThreadMessage, ThreadRead, VrfRequest } from './vrf-worker.ts';
import { EpochRoots, unpackEntries } from './map-epoch-work.ts';

const port = parentChannel<VrfRequest | MainReply, ThreadMessage>();
// vrf.ts keeps each secret key's expansion (x, x·B, its OpenSSL keys) per Uint8Array; every message brings a
// fresh copy of the key, so one instance per key keeps that cache hit (without it a label costs several times more).
const keys = new Map<string, Uint8Array>();
function canonical(secretKey: Uint8Array): Uint8Array {
  const hex = Buffer.from(secretKey).toString('hex');
  let key = keys.get(hex);
  if (!key) keys.set(hex, (key = secretKey));
  return key;
}

// Reads of the stored map, answered by the main thread.
let nextRead = 0;
const reads = new Map<number, { resolve(value: any): void; reject(err: Error): void }>();
const ask = <T>(msg: ThreadRead): Promise<T> =>
  new Promise((resolve, reject) => {
    reads.set(msg.read, { resolve, reject });
    port.postMessage(msg);
  });
const roots = new EpochRoots((domain) => ({
  range: async (lo, hi, epoch, limit) => unpackEntries(await ask<Uint8Array>({ read: nextRead++, domain, range: { lo, hi, epoch, limit } })),
  latestVersion: (jid, node) => ask<number>({ read: nextRead++, domain, version: [jid, node] }),
}));

function answer(req: VrfRequest): void | Promise<void> {
  const { id } = req;
  if (req.kind === 'entries') {
    return roots
      .collect(req.domain, req.epoch, req.first, req.stored, { bytes: req.leaves, ends: req.ends }, canonical(req.vrfSecret), req.commitSecret)
      .then((batch) => port.postMessage({ id, batch } satisfies ThreadMessage));
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

port.onMessage((msg) => {
  if ('read' in msg) {
    const r = reads.get(msg.read);
    reads.delete(msg.read);
    if ('error' in msg) r?.reject(new Error(msg.error));
    else r?.resolve('packed' in msg ? msg.packed : msg.version);
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
