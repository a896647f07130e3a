// Proof generation alone, for profiling (node --cpu-prof): inclusion and consistency proofs against a log
// database built by bench/transparency.ts --db FILE. Usage: node --import tsx bench/kt-proofs.ts FILE [proofs]
import { openSqliteStorage } from '../src/storage/sqlite/index.ts';
import { rootHash, type NodeRef } from '../src/transparency/tree.ts';
import { inclusionProof } from '../src/transparency/inclusion.ts';
import { consistencyProof } from '../src/transparency/consistency.ts';

const [path, count = '5000'] = process.argv.slice(2);
const storage = openSqliteStorage({ path: path!, synchronous: 'NORMAL' });
const read = (refs: NodeRef[]) => storage.transparency.nodes('localhost', refs);
const n = await storage.transparency.size('localhost');
await rootHash(n, read);
const rnd = (k: number) => Math.floor(Math.random() * k);
for (const [name, proof] of [['inclusion', (m: number) => inclusionProof(m, n, read)], ['consistency', (m: number) => consistencyProof(1 + m, n, read)]] as const) {
  const cpu = process.cpuUsage();
  for (let i = 0; i < Number(count); i++) await proof(rnd(n - 1));
  const c = process.cpuUsage(cpu);
  console.log(JSON.stringify({ figure: `${name} proof, server`, leaves: n, usPerOpCpu: Math.round((c.user + c.system) / Number(count)) }));
}
await storage.close();
