// micro: storage-side cost of a key event, 16 publishes per batch
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openSqliteStorage } from '../src/storage/sqlite/index.ts';
const N = Number(process.argv[2] ?? 40000);
async function run(kt: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'ktmb-'));
  const s = openSqliteStorage({ path: join(dir, 'db.sqlite'), synchronous: 'NORMAL' });
  const node = 'urn:xmpp:pubkey:1';
  await s.pubsub.createNode({ service: 'pub@localhost', node, config: {} as any, createdAt: 0 } as any);
  const payload = '<pubkey xmlns="urn:xmpp:pubkey:2">' + randomBytes(300).toString('base64') + '</pubkey>';
  const ph = randomBytes(32); const fp = 'sha-256:' + randomBytes(32).toString('hex');
  const c0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < N; i += 16) {
    const ps = [];
    for (let j = i; j < i + 16; j++) ps.push(s.pubsub.publishItem({ service: 'pub@localhost', node, id: 'i' + j, publisher: 'pub@localhost', payload, publishedAt: Date.now() }, 10,
      kt ? { domain: 'localhost', event: { type: 'publish', time: Date.now(), jid: 'pub@localhost', node, itemId: 'i' + j, payloadHash: ph, fingerprint: fp } } : undefined));
    await Promise.all(ps);
  }
  const c = process.cpuUsage(c0);
  const r = { kt, cpuUs: +((c.user + c.system) / N).toFixed(1), wallUs: +((performance.now() - t0) * 1000 / N).toFixed(1), size: await s.transparency.size('localhost') };
  await s.close(); rmSync(dir, { recursive: true, force: true });
  return r;
}
for (let k = 0; k < 3; k++) { console.log(JSON.stringify(await run(false))); console.log(JSON.stringify(await run(true))); }
