// What a key event costs the storage alone (issue 14): SQLite publishItem in batches of 16 (one group
// commit each), with and without a transparency-log event, alternating, CPU µs per publish of this process.
// Usage: node --import tsx bench/kt-append.ts [publishes, default 40000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openSqliteStorage } from '../src/storage/sqlite/index.ts';

const N = Number(process.argv[2] ?? 40000);
const SERVICE = 'pub@localhost';
const NODE = 'urn:xmpp:pubkey:1';

async function run(kt: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-append-'));
  const s = openSqliteStorage({ path: join(dir, 'db.sqlite'), synchronous: 'NORMAL' });
  await s.pubsub.createNode({ service: SERVICE, node: NODE, config: {}, createdAt: 0 });
  const payload = `<pubkey xmlns="urn:xmpp:pubkey:2">${randomBytes(300).toString('base64')}</pubkey>`;
  const payloadHash = randomBytes(32);
  const fingerprint = `sha-256:${randomBytes(32).toString('hex')}`;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i += 16) {
    const batch = [];
    for (let j = i; j < i + 16; j++) {
      const log = kt ? { domain: 'localhost', event: { type: 'publish' as const, time: Date.now(), jid: SERVICE, node: NODE, itemId: `i${j}`, payloadHash, fingerprint } } : undefined;
      batch.push(s.pubsub.publishItem({ service: SERVICE, node: NODE, id: `i${j}`, publisher: SERVICE, payload, publishedAt: Date.now() }, 10, log));
    }
    await Promise.all(batch);
  }
  const c = process.cpuUsage(cpu);
  const r = { kt, cpuUs: +((c.user + c.system) / N).toFixed(1), wallUs: +(((performance.now() - t0) * 1000) / N).toFixed(1), leaves: await s.transparency.size('localhost') };
  await s.close();
  rmSync(dir, { recursive: true, force: true });
  return r;
}

for (let k = 0; k < 3; k++) {
  console.log(JSON.stringify(await run(false)));
  console.log(JSON.stringify(await run(true)));
}
