// The worker side of derive-worker.ts: each published key payload's SHA-256 and fingerprint, off the event loop.
import { parentPort } from 'node:worker_threads';
import { sha256 } from '../../../transparency/hash.ts';
import { fingerprintOf } from '../../../transparency/key-event-input.ts';
import type { DeriveReply, DeriveRequest } from './derive-worker.ts';

const port = parentPort!;
port.on('message', ({ id, items }: DeriveRequest) => {
  try {
    const hashes = new Uint8Array(items.length * 32);
    const fingerprints = items.map(([node, payload], i) => {
      hashes.set(sha256(Buffer.from(payload, 'utf8')), i * 32);
      return fingerprintOf(node, payload) ?? null;
    });
    port.postMessage({ id, hashes, fingerprints } satisfies DeriveReply, [hashes.buffer]);
  } catch (err) {
    port.postMessage({ id, error: (err as Error).message } satisfies DeriveReply);
  }
});
