// The worker side of vrf-worker.ts: computes map labels (one VRF proof each) off the main thread.
import { parentPort } from 'node:worker_threads';
import { mapLabel } from '../../../transparency/map-label.ts';
import type { VrfReply, VrfRequest } from './vrf-worker.ts';

const port = parentPort!;
port.on('message', ({ id, secretKey, items }: VrfRequest) => {
  try {
    const results = items.map(([jid, node, version]) => {
      const { label, proof } = mapLabel(secretKey, jid, node, version);
      return [label, proof] as [Uint8Array, Uint8Array];
    });
    port.postMessage({ id, results } satisfies VrfReply);
  } catch (err) {
    port.postMessage({ id, error: (err as Error).message } satisfies VrfReply);
  }
});
