// Issue 20: a session's writes of one tick are corked and uncorked together with every other session's, by
// one tick callback. What must hold: each session gets its stanzas in the order they were written, whether
// they came from a batched PEP fan-out or were written directly in the same tick, writes made after the
// batch went out (a later tick) are not left corked, and a session that switched to TLS is flushed on its
// TLS socket. Output backpressure still works per session: a subscriber that stops reading, among readers of
// the same batched fan-outs, is closed once its unsent output passes the limit (its socket destroyed before
// the batch is uncorked), while the readers get every notification in publish order.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, NS_HEADER } from '../../helpers/raw-client.ts';
import { rawSessions, startTestServer, type TestServer } from '../../helpers/server.ts';
import { until } from '../../helpers/until.ts';
import type { CapsService } from '../../../src/server/modules/caps/index.ts';
import type { Element } from '../../../src/xml/index.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const NODE = 'urn:test:order';
const BURST = 12;
const FLOOD = 'urn:test:flood';
const PAYLOAD = 16 * 1024;
const FLOOD_BURST = 20;
const MAX_BURSTS = 40;

describe('output batching across sessions (issue 20)', () => {
  let t: TestServer;
  const sessions = rawSessions(() => t);
  const login = sessions.login;
  const tlsClients: RawClient[] = [];
  const sessionOf = (full: string) => t.server.sessions.get(full)!;
  const ids = (c: RawClient, prefix: string) => c.stanzas.filter((e) => e.attrs.id?.startsWith(prefix)).map((e) => e.attrs.id);

  before(async () => {
    t = await startTestServer({
      users: { 'alice@localhost': 'pw', 'bob@localhost': 'pw', 'carol@localhost': 'pw', 'dave@localhost': 'pw' },
      config: {
        modules: { pep: { max_payload_bytes: PAYLOAD + 1024 } },
        limits: { output_pause_bytes: 64 * 1024, output_max_bytes: 512 * 1024, output_stall_seconds: 1, bytes_per_second: 0, stanzas_per_second: 0 },
      },
    });
    const r = t.storage.roster;
    for (const reader of ['bob@localhost', 'carol@localhost']) {
      await r.putItem('alice@localhost', { jid: reader, subscription: 'both', groups: [] });
      await r.putItem(reader, { jid: 'alice@localhost', subscription: 'both', groups: [] });
    }
  });
  after(async () => {
    sessions.destroyAll();
    for (const c of tlsClients) c.destroy();
    await t.stop();
  });

  it('writes to several sessions in one tick, and in the next, arrive complete and in order', async () => {
    const a = await login('dave', 'one');
    const b = await login('dave', 'two');
    // A third over STARTTLS: its writes go to the TLS socket the session holds when they are flushed.
    const c = await RawClient.connect(t.port);
    tlsClients.push(c);
    c.send(NS_HEADER('localhost'));
    await c.waitStanza((e) => e.local === 'features');
    await c.starttls();
    await c.login('dave@localhost', 'pw', 'three');
    const [sa, sb, sc] = ['one', 'two', 'three'].map((r) => sessionOf(`dave@localhost/${r}`));
    const msg = (id: string) => `<message from='localhost' id='${id}'><body>${id}</body></message>`;
    // One tick: interleaved writes to three sessions; then writes queued for later ticks, before and
    // after the flush, which must not stay corked.
    process.nextTick(() => sb.deliver(msg('w-b2')));
    sa.deliver(msg('w-a1'));
    sb.deliver(msg('w-b1'));
    sc.deliver(msg('w-c1'));
    sa.deliver(msg('w-a2'));
    sc.deliver(msg('w-c2'));
    process.nextTick(() => {
      sa.deliver(msg('w-a3'));
      setImmediate(() => {
        sc.deliver(msg('w-c3'));
        sa.deliver(msg('w-a4'));
      });
    });
    await a.waitText(/w-a4/, 10_000);
    await b.waitText(/w-b2/, 10_000);
    await c.waitText(/w-c3/, 10_000);
    assert.deepEqual(ids(a, 'w-'), ['w-a1', 'w-a2', 'w-a3', 'w-a4']);
    assert.deepEqual(ids(b, 'w-'), ['w-b1', 'w-b2']);
    assert.deepEqual(ids(c, 'w-'), ['w-c1', 'w-c2', 'w-c3']);
  });

  it('a burst fanned out in batches, with a direct write in the tick of each batch, keeps the order per subscriber', async () => {
    const alice = await login('alice', 'pub');
    const subs = [await login('bob', 'sub'), await login('carol', 'sub')];
    for (const s of subs) s.sendPresenceWithCaps([`${NODE}+notify`]);
    const caps = t.server.service<CapsService>('caps')!;
    await until(() => caps.features('bob@localhost/sub') !== undefined && caps.features('carol@localhost/sub') !== undefined, 'caps of both subscribers', 5000);
    const targets = ['bob@localhost/sub', 'carol@localhost/sub'].map(sessionOf);
    // What each subscriber must see: the items of each batch in publish order, then the direct message
    // written in the same tick as that batch's flush (the hook fires right after it).
    const expected: string[] = [];
    let batch = 0;
    let seen = 0;
    const off = t.server.hooks.on('pep/fanout', ({ published }) => {
      if (published === 0) return;
      for (let i = 0; i < published; i++) expected.push(`item:i${seen++}`);
      const id = `direct-${batch++}`;
      expected.push(id);
      for (const s of targets) s.deliver(`<message from='localhost' id='${id}'/>`);
    }, 100);
    try {
      // One write: the publishes are pipelined, so several become durable together and share a batch.
      let burst = '';
      for (let i = 0; i < BURST; i++) {
        burst += `<iq type='set' id='p${i}'><pubsub xmlns='${PUBSUB}'><publish node='${NODE}'><item id='i${i}'><v xmlns='${NODE}'>${i}</v></item></publish></pubsub></iq>`;
      }
      alice.send(burst);
      for (let i = 0; i < BURST; i++) {
        const r = await alice.waitStanza((e) => e.attrs.id === `p${i}`, 10_000);
        assert.equal(r.attrs.type, 'result');
      }
      const label = (e: Element) => {
        const item = e.getChild('event')?.getChild('items')?.getChild('item');
        return item ? `item:${item.attrs.id}` : (e.attrs.id ?? '');
      };
      for (const s of subs) {
        await until(() => seen === BURST && s.stanzas.filter((e) => e.name === 'message').length >= expected.length, 'every notification and direct message', 10_000);
        const got = s.stanzas.filter((e) => e.name === 'message').map(label);
        assert.deepEqual(got, expected);
      }
    } finally {
      off();
    }
  });

  it('a stuck subscriber is closed; a reader of the same batches gets every notification in order', async (tc) => {
    const alice = await login('alice', 'flooder');
    const bob = await login('bob', 'reader');
    const carol = await login('carol', 'stuck');
    for (const c of [bob, carol]) c.sendPresenceWithCaps([`${FLOOD}+notify`]);
    const caps = t.server.service<CapsService>('caps')!;
    await until(() => caps.features('bob@localhost/reader') !== undefined && caps.features('carol@localhost/stuck') !== undefined, 'caps of both subscribers', 5000);
    carol.pause();
    const payload = 'z'.repeat(PAYLOAD);
    let published = 0;
    // Bursts of pipelined publishes (one write each, so they share commits and fan-out batches), until the
    // stuck subscriber is gone; bounded.
    for (let b = 0; b < MAX_BURSTS && t.server.sessions.get('carol@localhost/stuck'); b++) {
      let burst = '';
      for (let i = 0; i < FLOOD_BURST; i++) {
        const n = published + i;
        burst += `<iq type='set' id='f${n}'><pubsub xmlns='${PUBSUB}'><publish node='${FLOOD}'><item id='f${n}'><v xmlns='${FLOOD}'>${payload}</v></item></publish></pubsub></iq>`;
      }
      alice.send(burst);
      for (let i = 0; i < FLOOD_BURST; i++) {
        const r = await alice.waitStanza((e) => e.attrs.id === `f${published + i}`, 15_000);
        assert.equal(r.attrs.type, 'result', 'every publish succeeds');
      }
      published += FLOOD_BURST;
    }
    await until(() => t.server.sessions.get('carol@localhost/stuck') === undefined, 'the stuck subscriber closed', 15_000);
    tc.diagnostic(`${published} notifications of ${PAYLOAD / 1024} KiB before the stuck subscriber was closed`);
    const items = () => bob.stanzas.filter((e) => e.name === 'message').map((e) => e.getChild('event')?.getChild('items')?.getChild('item')?.attrs.id);
    await until(() => items().length >= published, 'every notification at the reader', 15_000);
    assert.deepEqual(items(), Array.from({ length: published }, (_, i) => `f${i}`));
    assert.ok(t.server.sessions.get('bob@localhost/reader'), 'the reader keeps its stream');
  });
});
