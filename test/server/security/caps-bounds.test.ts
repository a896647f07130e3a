// Issue 19 finding 6: the caps cache grew without bound. One session minted verified `ver`s with huge
// feature lists, and every one was kept in memory and in the database, across restarts. Now: an answer over
// the size limits is neither cached nor applied (the session just has no caps), an account may cause only
// so many disco#info queries per minute, and the cache keeps the most recently used entries, in memory and
// in storage alike.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { RawClient } from '../../helpers/raw-client.ts';
import type { CapsService } from '../../../src/server/modules/caps/index.ts';
import type { Element } from '../../../src/xml/index.ts';

const DISCO = 'http://jabber.org/protocol/disco#info';
const ping = `<iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>`;

function verOf(features: string[]): string {
  const all = [...new Set([DISCO, ...features])].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return createHash('sha1').update(`client/pc//raw<${all.map((f) => `${f}<`).join('')}`).digest('base64');
}

const isDiscoQuery = (el: Element) => el.name === 'iq' && el.attrs.type === 'get' && !!el.getChild('query', DISCO);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('caps cache bounds (issue 19 finding 6)', () => {
  const servers: TestServer[] = [];
  const clients: RawClient[] = [];
  after(async () => {
    for (const c of clients) c.destroy();
    for (const t of servers) await t.stop();
  });

  async function setup(config?: Record<string, unknown>): Promise<{ t: TestServer; caps: CapsService; login(resource: string): Promise<RawClient> }> {
    const t = await startTestServer({ users: { 'mint@localhost': 'pw' }, config });
    servers.push(t);
    const caps = t.server.service<CapsService>('caps')!;
    return {
      t,
      caps,
      async login(resource) {
        const c = await RawClient.connect(t.port);
        clients.push(c);
        await c.login('mint@localhost', 'pw', resource);
        return c;
      },
    };
  }

  /** Announces caps with `features`; resolves once the server has handled the answer (or asked nothing). */
  async function announce(c: RawClient, caps: CapsService, full: string, features: string[]): Promise<void> {
    c.sendPresenceWithCaps(features);
    // Stanzas are handled in order: once the ping is answered, any query for these caps has been sent, and
    // the client's responder has answered it before reading the ping's result.
    await c.iq(ping);
    for (let i = 0; i < 300 && (caps.stats?.().queriesInFlight ?? 0) > 0; i++) await sleep(10);
    if (!caps.stats) for (let i = 0; i < 100 && !caps.features(full)?.has(features[0]!); i++) await sleep(10);
  }

  it('an answer over the size limit is neither cached nor applied', async () => {
    const { t, caps, login } = await setup();
    const c = await login('big');
    // 400 features of 100 bytes: a verified 40 KB answer, over the 16 KiB default.
    const features = Array.from({ length: 400 }, (_, i) => `urn:test:big:${String(i).padStart(4, '0')}:${'f'.repeat(82)}`);
    await announce(c, caps, 'mint@localhost/big', features);
    assert.equal(await t.storage.caps.get(`sha-1:${verOf(features)}`), undefined);
    assert.equal(caps.features('mint@localhost/big'), undefined);
    // The session stays connected and usable.
    await c.iq(ping);
    // A normal answer afterwards is cached as before.
    await announce(c, caps, 'mint@localhost/big', ['urn:test:small']);
    assert.ok(caps.features('mint@localhost/big')?.has('urn:test:small'));
    assert.ok(await t.storage.caps.get(`sha-1:${verOf(['urn:test:small'])}`));
  });

  it('an account causes at most queries_per_minute queries (default 10); the rest get no caps', async () => {
    const { t, caps, login } = await setup();
    const c = await login('rate');
    let queries = 0;
    c.respond((el) => (isDiscoQuery(el) && void queries++, false), () => '');
    for (let i = 0; i < 14; i++) await announce(c, caps, 'mint@localhost/rate', [`urn:test:rate:${i}`]);
    assert.equal(queries, 10);
    for (let i = 0; i < 14; i++) assert.equal(!!(await t.storage.caps.get(`sha-1:${verOf([`urn:test:rate:${i}`])}`)), i < 10, `ver ${i}`);
    assert.equal(caps.features('mint@localhost/rate'), undefined);
    // Cached vers cost nothing and still work for the same account.
    await announce(c, caps, 'mint@localhost/rate', ['urn:test:rate:3']);
    assert.ok(caps.features('mint@localhost/rate')?.has('urn:test:rate:3'));
    assert.equal(queries, 10);
  });

  it('keeps the max_entries most recently used, in memory and in storage', async () => {
    const { t, caps, login } = await setup({ modules: { caps: { max_entries: 3, queries_per_minute: 1000 } } });
    const c = await login('lru');
    const f = (i: number) => [`urn:test:lru:${i}`];
    for (let i = 0; i < 3; i++) await announce(c, caps, 'mint@localhost/lru', f(i));
    // v0 is used again (from the cache), so v1 is now the least recently used.
    await announce(c, caps, 'mint@localhost/lru', f(0));
    for (let i = 3; i < 8; i++) {
      await announce(c, caps, 'mint@localhost/lru', f(i));
      if (i === 3) {
        assert.equal(await t.storage.caps.get(`sha-1:${verOf(f(1))}`), undefined, 'v1 evicted first');
        assert.ok(await t.storage.caps.get(`sha-1:${verOf(f(0))}`), 'v0 kept: used more recently');
      }
    }
    assert.ok(caps.stats().cached <= 3);
    const stored = [];
    for (let i = 0; i < 8; i++) if (await t.storage.caps.get(`sha-1:${verOf(f(i))}`)) stored.push(i);
    assert.deepEqual(stored, [5, 6, 7]);
    assert.ok(caps.features('mint@localhost/lru')?.has('urn:test:lru:7'));
  });

  it('rejects a caps table with unknown keys', async () => {
    await assert.rejects(startTestServer({ config: { modules: { caps: { max_entry: 3 } } } }), /modules\.caps: Unrecognized key: "max_entry"/);
  });
});
