// Verifiable-map builder throughput and what it does to the event loop, labels computed on the main thread vs on
// the VRF worker thread (src/server/modules/transparency/vrf-worker.ts). Usage: node --import tsx bench/kt-map-build.ts [N]
// Modes: main = mapLabelOnly here; worker = labelOnly on the worker, as the server builds; worker-proofs = a label
// with its proof per message, as the builder did before labels alone existed. The worker runs at nice 19, so on
// a busy machine its wall time says more about the other load than about the VRF; CPU is the process's.
import { generateKeyPairSync } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createMemoryStorage } from '../src/storage/memory/index.ts';
import { DomainMapBuilder } from '../src/server/modules/transparency/map-builder.ts';
import { VrfWorker } from '../src/server/modules/transparency/vrf-worker.ts';
import { mapLabelOnly } from '../src/transparency/map-label.ts';
import { vrfGenerateKeyPair } from '../src/transparency/vrf.ts';
import { commitValue, commitmentNonce } from '../src/transparency/map-commitment.ts';
const DOMAIN = 'capulet.lit';
const N = Number(process.argv[2] ?? 2000);
const { privateKey } = generateKeyPairSync('ed25519');
const keys = vrfGenerateKeyPair(); const secret = new Uint8Array(32).fill(7);
async function run(mode: string) {
  const storage = createMemoryStorage();
  for (let i = 0; i < N; i++) {
    // One event per JID: the map keeps one entry per (JID, node) per epoch, and every event here must be one.
    const jid = `u${i}@${DOMAIN}`, node = 'urn:xmpp:pubkey:2';
    await storage.pubsub.createNode({ service: jid, node, owner: jid, config: {} } as never).catch(() => undefined);
    await storage.pubsub.publishItem({ service: jid, node, id: `i${i}`, publisher: `${jid}/r`, payload: '<x/>', publishedAt: 1 } as never, undefined, { domain: DOMAIN, event: { type: 'publish', time: 1, jid, node, itemId: `i${i}` } });
  }
  const w = new VrfWorker();
  const label = mode === 'worker' ? (j: string, n: string, v: number) => w.labelOnly(keys.secretKey, j, n, v)
    : mode === 'worker-proofs' ? async (j: string, n: string, v: number) => (await w.label(keys.secretKey, j, n, v)).label
    : (j: string, n: string, v: number) => mapLabelOnly(keys.secretKey, j, n, v);
  const b = new DomainMapBuilder(DOMAIN, privateKey, storage.transparency, storage.ktMap!, { label, commit: (l, v) => commitValue(commitmentNonce(secret, l), l, v) }, () => 1);
  if (mode !== 'main') await w.label(keys.secretKey, 'warm-up@' + DOMAIN, 'n', 1); // the worker's start (tsx, JIT) is not the VRF's
  const h = monitorEventLoopDelay({ resolution: 1 }); h.enable();
  const c0 = process.cpuUsage(); const t0 = performance.now();
  await b.update(N);
  const ms = performance.now() - t0; const cpu = process.cpuUsage(c0); h.disable();
  console.log(`${mode}: ${N} entries in ${ms.toFixed(0)} ms = ${(N / ms * 1000).toFixed(0)} entries/s; main-thread+worker CPU ${(cpu.user + cpu.system) / 1000 | 0} ms; event-loop delay max ${(h.max / 1e6).toFixed(1)} ms p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms`);
  await w.close(); await storage.close();
}
for (let i = 0; i < 2; i++) for (const mode of ['main', 'worker', 'worker-proofs']) await run(mode);
