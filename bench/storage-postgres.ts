// Bounded benchmark of PostgreSQL publishItem throughput: one awaited publish at a time versus 16 and 256
// concurrent publishers, through the adapter (group commit: one transaction and one WAL flush per batch),
// and, for comparison, the simpler design the adapter did not take: every publish its own transaction on
// a pool of 10 connections (same statements, no ordering between writes).
// Usage: node --import tsx bench/storage-postgres.ts [--url postgres://...] [--seconds 3]
// Without --url it starts a private PostgreSQL server (test/helpers/postgres.ts) and removes it afterwards.
// Prints one JSON line per scenario, then a table.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openPostgresStorage } from '../src/storage/postgres/index.ts';
import { startPostgres, type PostgresServer } from '../test/helpers/postgres.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    seconds: { type: 'string', default: '3' },
    'max-ops': { type: 'string', default: '200000' },
  },
});
const seconds = Number(values.seconds);
const maxOps = Number(values['max-ops']);
const payload = `<entry xmlns="http://www.w3.org/2005/Atom"><title>${'x'.repeat(300)}</title></entry>`;
const NODE = 'urn:xmpp:microblog:0';

interface Result {
  bench: string;
  design: 'group-commit' | 'transaction-per-write';
  concurrency: number;
  ops: number;
  seconds: number;
  opsPerSecond: number;
  transactions: number;
}

let server: PostgresServer | undefined;
let dbCounter = 0;
async function freshDatabase(): Promise<string> {
  if (server) return server.createDatabase(`bench_${process.pid}_${dbCounter++}`);
  // With --url every scenario shares the given database under its own services.
  return values.url!;
}

type Publish = (service: string, id: string) => Promise<unknown>;

async function drive(concurrency: number, publish: Publish, run: number): Promise<{ ops: number; elapsed: number }> {
  let ops = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  // One PEP service per publisher, as when many users publish at once; max_items 10 so trimming runs.
  const worker = async (w: number) => {
    const service = `user${w}-r${run}@bench.example`;
    for (let i = 0; performance.now() < deadline && ops < maxOps; i++) {
      await publish(service, `i${i}`);
      ops++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  return { ops, elapsed: (performance.now() - start) / 1000 };
}

let runCounter = 0;
async function groupCommit(concurrency: number): Promise<Result> {
  const run = runCounter++;
  const storage = await openPostgresStorage({ connectionString: await freshDatabase() });
  try {
    for (let w = 0; w < concurrency; w++) {
      await storage.pubsub.createNode({ service: `user${w}-r${run}@bench.example`, node: NODE, config: {}, createdAt: Date.now() });
    }
    const tx0 = storage.stats.transactions;
    const { ops, elapsed } = await drive(
      concurrency,
      (service, id) => storage.pubsub.publishItem({ service, node: NODE, id, publisher: `${service}/bench`, payload, publishedAt: Date.now() }, 10),
      run,
    );
    return result('group-commit', concurrency, ops, elapsed, storage.stats.transactions - tx0);
  } finally {
    await storage.close();
  }
}

async function transactionPerWrite(concurrency: number): Promise<Result> {
  const run = runCounter++;
  const url = await freshDatabase();
  // The adapter creates the schema; the baseline then writes with its own pool.
  const storage = await openPostgresStorage({ connectionString: url });
  for (let w = 0; w < concurrency; w++) {
    await storage.pubsub.createNode({ service: `user${w}-r${run}@bench.example`, node: NODE, config: {}, createdAt: Date.now() });
  }
  await storage.close();
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  let transactions = 0;
  try {
    const { ops, elapsed } = await drive(
      concurrency,
      async (service, id) => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const next = await client.query({
            name: 'b_seq',
            text: 'UPDATE pubsub_nodes SET last_seq = last_seq + 1 WHERE service = $1 AND node = $2 RETURNING id, last_seq',
            values: [service, NODE],
          });
          const { id: nodeId, last_seq: seq } = next.rows[0];
          await client.query({
            name: 'b_upsert',
            text: `INSERT INTO pubsub_items (node_id, item_id, seq, publisher, payload, published_at) VALUES ($1, $2, $3, $4, $5, $6)
                   ON CONFLICT (node_id, item_id) DO UPDATE SET seq = excluded.seq, publisher = excluded.publisher,
                     payload = excluded.payload, published_at = excluded.published_at`,
            values: [nodeId, id, seq, `${service}/bench`, payload, Date.now()],
          });
          await client.query({
            name: 'b_trim',
            text: `DELETE FROM pubsub_items WHERE node_id = $1 AND seq <= (
                     SELECT seq FROM pubsub_items WHERE node_id = $1 ORDER BY seq DESC OFFSET 10 LIMIT 1) RETURNING item_id`,
            values: [nodeId],
          });
          await client.query('COMMIT');
          transactions++;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        } finally {
          client.release();
        }
      },
      run,
    );
    return result('transaction-per-write', concurrency, ops, elapsed, transactions);
  } finally {
    await pool.end();
  }
}

function result(design: Result['design'], concurrency: number, ops: number, elapsed: number, transactions: number): Result {
  return {
    bench: 'storage-postgres.publishItem',
    design,
    concurrency,
    ops,
    seconds: +elapsed.toFixed(3),
    opsPerSecond: Math.round(ops / elapsed),
    transactions,
  };
}

if (!values.url) server = await startPostgres();
if (!server && !values.url) throw new Error('PostgreSQL is not installed: apt-get install -y postgresql, or pass --url');
const results: Result[] = [];
try {
  for (const concurrency of [1, 16, 256]) {
    for (const r of [await groupCommit(concurrency), await transactionPerWrite(concurrency)]) {
      results.push(r);
      console.log(JSON.stringify(r));
    }
  }
} finally {
  await server?.stop();
}
console.log('');
console.log(`publishItem (max_items 10), PostgreSQL ${values.url ? 'at --url' : 'private, synchronous_commit=on'}, ~${seconds}s per scenario`);
console.log('concurrency'.padEnd(14) + 'design'.padEnd(24) + 'ops'.padStart(10) + 'publishes/s'.padStart(14) + 'writes/tx'.padStart(12));
for (const r of results) {
  const label = r.concurrency === 1 ? '1 (awaited)' : String(r.concurrency);
  const perTx = r.transactions ? (r.ops / r.transactions).toFixed(1) : '-';
  console.log(label.padEnd(14) + r.design.padEnd(24) + String(r.ops).padStart(10) + String(r.opsPerSecond).padStart(14) + perTx.padStart(12));
}
