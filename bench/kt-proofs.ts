// Proof generation alone, for profiling (node --cpu-prof): inclusion and consistency proofs against a log
// database built by bench/transparency.ts --db FILE. Usage: node --import tsx bench/kt-proofs.ts FILE [proofs]
// The first read loads the log's block tree (every full block's hash); the leaf hashes follow, 2048 blocks
// per read (transparency/node-cache.ts): both printed apart, then the steady state, with the memory the tree
// added (external: its buffers, with doubling slack).
import { openSqliteStorage } from '../src/storage/sqlite/index.ts';
import { rootHash, type NodeRef } from '../src/transparency/tree.ts';
import { inclusionProof } from '../src/transparency/inclusion.ts';
import { consistencyProof } from '../src/transparency/consistency.ts';
import { LEAF_LOAD_BLOCKS } from '../src/transparency/node-cache.ts';

const [path, count = '5000'] = process.argv.slice(2);
const storage = openSqliteStorage({ path: path!, synchronous: 'NORMAL' });
const read = (refs: NodeRef[]) => storage.transparency.nodes('localhost', refs);
const n = await storage.transparency.size('localhost');
const load = { cpu: process.cpuUsage(), t: performance.now(), external: process.memoryUsage().external };
await rootHash(n, read);
const loadCpu = process.cpuUsage(load.cpu);
console.log(JSON.stringify({ figure: 'first read (loads the tree)', leaves: n, msWall: Math.round(performance.now() - load.t), msCpu: Math.round((loadCpu.user + loadCpu.system) / 1000), externalMB: Math.round((process.memoryUsage().external - load.external) / 1e6) }));
const rnd = (k: number) => Math.floor(Math.random() * k);
const warm = { cpu: process.cpuUsage(), reads: Math.ceil(n / 8 / LEAF_LOAD_BLOCKS) + 1 };
for (let i = 0; i < warm.reads; i++) await inclusionProof(rnd(n - 1), n, read);
const warmCpu = process.cpuUsage(warm.cpu);
console.log(JSON.stringify({ figure: 'leaf hashes loaded', leaves: n, proofs: warm.reads, msCpu: Math.round((warmCpu.user + warmCpu.system) / 1000), externalMB: Math.round((process.memoryUsage().external - load.external) / 1e6) }));
for (const [name, proof] of [['inclusion', (m: number) => inclusionProof(m, n, read)], ['consistency', (m: number) => consistencyProof(1 + m, n, read)]] as const) {
  const cpu = process.cpuUsage();
  for (let i = 0; i < Number(count); i++) await proof(rnd(n - 1));
  const c = process.cpuUsage(cpu);
  console.log(JSON.stringify({ figure: `${name} proof, server`, leaves: n, usPerOpCpu: Math.round((c.user + c.system) / Number(count)) }));
}
await storage.close();
