// Bounded benchmark of SQLite publishItem throughput: one awaited publish at a time versus 16 and 256
// concurrent publishers, whose writes group commit shares one transaction (and one fsync) per batch.
// Usage: node --import tsx bench/storage-sqlite.ts [--synchronous FULL|NORMAL] [--seconds 3]
// Prints one JSON line per scenario, then a table.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openSqliteStorage } from '../src/storage/sqlite/index.ts';

const { values } = parseArgs({
  options: {
    synchronous: { type: 'string', default: 'FULL' },
    seconds: { type: 'string', default: '3' },
    'max-ops': { type: 'string', default: '200000' },
  },
});
const synchronous = values.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL';
const seconds = Number(values.seconds);
const maxOps = Number(values['max-ops']);
const payload = `<entry xmlns="http://www.w3.org/2005/Atom"><title>${'x'.repeat(300)}</title></entry>`;

interface Result {
  bench: string;
  synchronous: string;
  concurrency: number;
  ops: number;
  seconds: number;
  opsPerSecond: number;
}

async function run(concurrency: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'pepkeys-bench-'));
  const storage = openSqliteStorage({ path: join(dir, 'bench.sqlite'), synchronous });
  try {
    // One PEP service per publisher, as when many users publish at once; max_items 10 so trimming runs.
    for (let w = 0; w < concurrency; w++) {
      await storage.pubsub.createNode({ service: `user${w}@bench.example`, node: 'urn:xmpp:microblog:0', config: {}, createdAt: Date.now() });
    }
    let ops = 0;
    const start = performance.now();
    const deadline = start + seconds * 1000;
    const worker = async (w: number) => {
      const service = `user${w}@bench.example`;
      for (let i = 0; performance.now() < deadline && ops < maxOps; i++) {
        await storage.pubsub.publishItem(
          { service, node: 'urn:xmpp:microblog:0', id: `i${i}`, publisher: `${service}/bench`, payload, publishedAt: Date.now() },
          10,
        );
        ops++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
    const elapsed = (performance.now() - start) / 1000;
    return { bench: 'storage-sqlite.publishItem', synchronous, concurrency, ops, seconds: +elapsed.toFixed(3), opsPerSecond: Math.round(ops / elapsed) };
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Result[] = [];
for (const concurrency of [1, 16, 256]) {
  const r = await run(concurrency);
  results.push(r);
  console.log(JSON.stringify(r));
}
console.log('');
console.log(`publishItem, synchronous=${synchronous}, WAL, ~${seconds}s per scenario`);
console.log('concurrency'.padEnd(14) + 'ops'.padStart(10) + 'publishes/s'.padStart(14));
for (const r of results) {
  const label = r.concurrency === 1 ? '1 (awaited)' : String(r.concurrency);
  console.log(label.padEnd(14) + String(r.ops).padStart(10) + String(r.opsPerSecond).padStart(14));
}
