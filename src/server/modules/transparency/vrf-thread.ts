// The worker side of vrf-worker.ts: computes map labels (one VRF proof each) off the main thread.
import { parentPort } from 'node:worker_threads';
import { mapLabel } from '../../../transparency/map-label.ts';
import type { VrfReply, VrfRequest } from './vrf-worker.ts';

const port = parentPort!;
// vrf.ts keeps each secret key's expansion (x, x·B) per Uint8Array; every message brings a fresh copy of the
// key, so one instance per key keeps that cache hit (without it a label costs ~50% more).
const keys = new Map<string, Uint8Array>();
function canonical(secretKey: Uint8Array): Uint8Array {
  const hex = Buffer.from(secretKey).toString('hex');
  let key = keys.get(hex);
  if (!key) keys.set(hex, (key = secretKey));
  return key;
}

port.on('message', ({ id, secretKey: copy, items }: VrfRequest) => {
  try {
    const secretKey = canonical(copy);
    const results = items.map(([jid, node, version]) => {
      const { label, proof } = mapLabel(secretKey, jid, node, version);
      return [label, proof] as [Uint8Array, Uint8Array];
    });
    port.postMessage({ id, results } satisfies VrfReply);
  } catch (err) {
    port.postMessage({ id, error: (err as Error).message } satisfies VrfReply);
  }
});
