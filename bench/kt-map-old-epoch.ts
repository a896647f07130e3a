// Proofs from an older map epoch: an append-only proof from epoch 1 to 2, and a lookup at epoch 1, on a SQLite
// map of N entries (epoch 1) plus K (epoch 2). Before: the old epoch's map read from scratch (what map-iq.ts
// did: every subtree beside the walk hashed from its entries, i.e. the whole old map); after: read through the
// latest epoch's cached map (src/transparency/map/epoch-view.ts), re-hashing only what the K later entries
// touch. Usage: node --import tsx bench/kt-map-old-epoch.ts [N] [K]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openSqliteStorage } from '../src/storage/sqlite/index.ts';
import { mapSource, type KtMapEntry } from '../src/storage/kt-map.ts';
import { compareLabels } from '../src/transparency/map/bits.ts';
import { SparseMerkleMap, type MapEntrySource } from '../src/transparency/map/tree.ts';
import { EpochView, type SubtreeReader } from '../src/transparency/map/epoch-view.ts';
import { proveAppendOnly, verifyAppendOnly } from '../src/transparency/map/append-proof.ts';
import { proveLabel } from '../src/transparency/map/lookup-proof.ts';

const D = 'capulet.lit';
const N = Number(process.argv[2] ?? 100_000);
const K = Number(process.argv[3] ?? 100);
const dir = mkdtempSync(join(tmpdir(), 'kt-map-old-'));
const storage = openSqliteStorage({ path: join(dir, 'db') });
const store = storage.ktMap!;
const entries = (n: number, epoch: number, from: number): KtMapEntry[] =>
  Array.from({ length: n }, (_, i) => ({ label: randomBytes(32), commitment: randomBytes(32), epoch, jid: `u${from + i}@${D}`, node: 'n', version: 1, seq: from + i }));
const head = (epoch: number, logSize: number) => ({ epoch, logSize, logRoot: new Uint8Array(32), root: new Uint8Array(32), time: epoch, key: new Uint8Array(32), signature: new Uint8Array(64) });
await store.addEpoch(D, head(1, N), entries(N, 1, 0));
await store.addEpoch(D, head(2, N + K), entries(K, 2, N));

/** Rows the storage returned, per measured call. */
let rows = 0;
const counted = (epoch: number): MapEntrySource => {
  const s = mapSource(store, D, epoch);
  return { range: async (p, d, l) => { const r = await s.range(p, d, l); rows += r.length; return r; } };
};
// The server's latest map: built while adding epoch 2, its upper levels cached.
const latest = new SparseMerkleMap(counted(2));
const newRoot = await latest.root();
const inserted = (await store.inserted(D, 1, 2, K + 1)).map((e) => ({ label: e.label, commitment: e.commitment })).sort((a, b) => compareLabels(a.label, b.label));
const added = await store.inserted(D, 1, 2, 10_001);
const oldRoot = await new SparseMerkleMap(mapSource(store, D, 1)).root();
const probe = (await store.range(D, new Uint8Array(32), new Uint8Array(32).fill(255), 1, 1))[0]!.label;

async function measure(name: string, make: () => SubtreeReader, fn: (m: SubtreeReader) => Promise<unknown>, runs = 5) {
  const ms: number[] = [];
  let read = 0;
  for (let i = 0; i < runs; i++) {
    rows = 0;
    const c0 = process.cpuUsage();
    await fn(make());
    const c = process.cpuUsage(c0);
    ms.push((c.user + c.system) / 1000);
    read = rows;
  }
  ms.sort((a, b) => a - b);
  console.log(`${name.padEnd(46)} CPU median ${ms[runs >> 1]!.toFixed(1)} ms (min ${ms[0]!.toFixed(1)}), ${read} rows read`);
}
// "Before": a fresh map of the old epoch per request, hashing at every node the walk visits (no `small`).
const scratch = () => { const m = new SparseMerkleMap(counted(1)); return { subtree: (p: Uint8Array, d: number) => m.subtree(p, d) }; };
const view = () => new EpochView(latest, counted(1), added, 256, N + K);
console.log(`map of ${N} entries (epoch 1) + ${K} (epoch 2), SQLite`);
await measure('append-only 1→2, before (old map from scratch)', scratch, async (m) => { if (!verifyAppendOnly(oldRoot, newRoot, await proveAppendOnly(m, inserted))) throw new Error('bad proof'); }, 3);
await measure('append-only 1→2, after (through the latest map)', view, async (m) => { if (!verifyAppendOnly(oldRoot, newRoot, await proveAppendOnly(m, inserted))) throw new Error('bad proof'); });
await measure('lookup path at epoch 1, before', scratch, (m) => proveLabel(m, probe), 3);
await measure('lookup path at epoch 1, after', view, (m) => proveLabel(m, probe));
await storage.close();
rmSync(dir, { recursive: true, force: true });
