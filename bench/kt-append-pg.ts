// What a key event costs on PostgreSQL (issue 14): publishItem with and without a transparency-log event,
// in batches of 16 (one group commit each) and one at a time; wall µs and this process's CPU µs per publish.
// One private server from test/helpers/postgres.ts (fsync=off: the figures are round trips and server
// work, not disk flushes), a database per variant. `--baseline DIR` also runs the adapter of another
// checkout (e.g. `git worktree add /tmp/base main`), interleaved with this one chunk by chunk, so that a
// busy machine's drift hits both alike; the first round is a warm-up and not counted.
// Usage: node --import tsx bench/kt-append-pg.ts [--baseline DIR] [publishes per chunk, default 400] [rounds, default 8]
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startPostgres } from '../test/helpers/postgres.ts';
import { openPostgresStorage } from '../src/storage/postgres/index.ts';
import type { Storage } from '../src/storage/types.ts';

const args = process.argv.slice(2);
const b = args.indexOf('--baseline');
const baseline = b >= 0 ? args.splice(b, 2)[1] : undefined;
const N = Number(args[0] ?? 400);
const ROUNDS = Number(args[1] ?? 8);
const DOMAIN = 'localhost';
const SERVICE = `pub@${DOMAIN}`;
const NODE = 'urn:xmpp:pubkey:2';

type Open = typeof openPostgresStorage;
const variants: [string, Open][] = [['this', openPostgresStorage]];
if (baseline) {
  const mod = (await import(pathToFileURL(resolve(baseline, 'src/storage/postgres/index.ts')).href)) as { openPostgresStorage: Open };
  variants.unshift(['baseline', mod.openPostgresStorage]);
}

const server = (await startPostgres())!;
try {
  const stores = new Map<string, Storage>();
  for (const [name, open] of variants) {
    const s = await open({ connectionString: await server.createDatabase() });
    await s.pubsub.createNode({ service: SERVICE, node: NODE, config: {}, createdAt: 0 });
    stores.set(name, s);
  }
  const payload = `<pubkey xmlns="urn:xmpp:pubkey:2"><key>${randomBytes(300).toString('base64')}</key></pubkey>`;
  let next = 0;
  const publish = (s: Storage, kt: boolean) => {
    const id = `i${next++}`;
    const log = kt ? { domain: DOMAIN, event: { type: 'publish' as const, time: Date.now(), jid: SERVICE, node: NODE, itemId: id, payload } } : undefined;
    return s.pubsub.publishItem({ service: SERVICE, node: NODE, id, publisher: SERVICE, payload, publishedAt: Date.now() }, 10, log);
  };
  const results = new Map<string, { wall: number[]; cpu: number[] }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const batch of [16, 1]) {
      for (const kt of [false, true]) {
        // Alternate which variant goes first.
        for (const [name] of round % 2 ? [...variants].reverse() : variants) {
          const s = stores.get(name)!;
          const cpu = process.cpuUsage();
          const t0 = performance.now();
          for (let i = 0; i < N; i += batch) {
            const writes = [];
            for (let j = 0; j < batch; j++) writes.push(publish(s, kt));
            await Promise.all(writes);
          }
          const c = process.cpuUsage(cpu);
          if (round === 0) continue;
          const key = `${name.padEnd(8)} batch ${String(batch).padStart(2)}, ${kt ? 'key event' : 'no event '}`;
          const r = results.get(key) ?? { wall: [], cpu: [] };
          r.wall.push(((performance.now() - t0) * 1000) / N);
          r.cpu.push((c.user + c.system) / N);
          results.set(key, r);
        }
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  for (const [key, r] of [...results].sort()) {
    console.log(`${key}: wall median ${median(r.wall).toFixed(0)} µs/publish (min ${Math.min(...r.wall).toFixed(0)}), CPU median ${median(r.cpu).toFixed(0)} µs/publish`);
  }
  for (const [name] of variants) console.log(`${name}: ${await stores.get(name)!.transparency.size(DOMAIN)} leaves`);
  for (const s of stores.values()) await s.close();
} finally {
  await server.stop();
}
