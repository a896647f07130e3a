// What a key event costs on PostgreSQL (issue 14): publishItem with and without a transparency-log event,
// in batches of 16 (one group commit each) and one at a time, alternating; wall µs per publish and this
// process's CPU µs per publish. A private server from test/helpers/postgres.ts (fsync=off: the figures are
// round trips and server work, not disk flushes).
// Usage: node --import tsx bench/kt-append-pg.ts [publishes per run, default 4000] [rounds, default 3]
import { randomBytes } from 'node:crypto';
import { startPostgres } from '../test/helpers/postgres.ts';
import { openPostgresStorage } from '../src/storage/postgres/index.ts';

const N = Number(process.argv[2] ?? 4000);
const ROUNDS = Number(process.argv[3] ?? 3);
const DOMAIN = 'localhost';
const SERVICE = `pub@${DOMAIN}`;
const NODE = 'urn:xmpp:pubkey:2';

const server = (await startPostgres())!;
try {
  const run = async (kt: boolean, batch: number) => {
    const s = await openPostgresStorage({ connectionString: await server.createDatabase() });
    await s.pubsub.createNode({ service: SERVICE, node: NODE, config: {}, createdAt: 0 });
    const payload = `<pubkey xmlns="urn:xmpp:pubkey:2"><key>${randomBytes(300).toString('base64')}</key></pubkey>`;
    const publish = (j: number) => {
      const log = kt ? { domain: DOMAIN, event: { type: 'publish' as const, time: Date.now(), jid: SERVICE, node: NODE, itemId: `i${j}`, payload } } : undefined;
      return s.pubsub.publishItem({ service: SERVICE, node: NODE, id: `i${j}`, publisher: SERVICE, payload, publishedAt: Date.now() }, 10, log);
    };
    // Warm-up: prepared statements on the pooled connections, a first block.
    for (let j = 0; j < 32; j++) await publish(-1 - j);
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < N; i += batch) {
      const writes = [];
      for (let j = i; j < i + batch; j++) writes.push(publish(j));
      await Promise.all(writes);
    }
    const c = process.cpuUsage(cpu);
    const wallUs = ((performance.now() - t0) * 1000) / N;
    const leaves = await s.transparency.size(DOMAIN);
    await s.close();
    return { kt, batch, wallUs: +wallUs.toFixed(1), cpuUs: +((c.user + c.system) / N).toFixed(1), leaves };
  };
  const results = new Map<string, number[]>();
  for (let k = 0; k < ROUNDS; k++) {
    for (const batch of [16, 1]) {
      for (const kt of [false, true]) {
        const r = await run(kt, batch);
        console.log(JSON.stringify(r));
        const key = `batch ${batch}, ${kt ? 'key event' : 'no event'}`;
        results.set(key, [...(results.get(key) ?? []), r.wallUs]);
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [key, xs] of results) console.log(`${key}: median wall ${median(xs)} µs/publish (${xs.join(', ')})`);
} finally {
  await server.stop();
}
