// The worker side of vrf-worker.ts: computes map labels (with their VRF proofs, or alone) off the main thread.
import { parentPort } from 'node:worker_threads';
import { mapLabel, mapLabelOnly } from '../../../transparency/map-label.ts';
import type { VrfReply, VrfRequest } from './vrf-worker.ts';
import { lowerThreadPriority } from '../../../runtime/thread-priority.ts';

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

port.on('message', ({ id, secretKey: copy, items, proofs }: VrfRequest) => {
  try {
    const secretKey = canonical(copy);
    if (!proofs) {
      port.postMessage({ id, labels: items.map(([jid, node, version]) => mapLabelOnly(secretKey, jid, node, version)) } satisfies VrfReply);
      return;
    }
    const labels: Uint8Array[] = [];
    const made: Uint8Array[] = [];
    for (const [jid, node, version] of items) {
      const { label, proof } = mapLabel(secretKey, jid, node, version);
      labels.push(label);
      made.push(proof);
    }
    port.postMessage({ id, labels, proofs: made } satisfies VrfReply);
  } catch (err) {
    port.postMessage({ id, error: (err as Error).message } satisfies VrfReply);
  }
});
