// Issue 19 finding 2: no output backpressure. An account fills its own open node up to the quotas, then sends
// many small <items/> requests from a session whose socket it does not read: each request queued a large
// answer in server memory (+950 MB after 40 requests with the default quotas, out of memory after 300).
// The same held for any slow reader of fan-out or messages. Now a session whose unsent output is above
// `output_pause_bytes` is not read (nor are its queued stanzas processed) until it drains; above
// `output_max_bytes`, or stalled for `output_stall_seconds`, it is closed with policy-violation, and
// deliveries from others to it are dropped with it rather than buffered without limit.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rawSessions, startTestServer, type TestServer } from '../../helpers/server.ts';
import { HeapProbe, MiB, mib, until } from './helpers.ts';
import type { CapsService } from '../../../src/server/modules/caps/index.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const ITEMS = 32;
const PAYLOAD = 30 * 1024;
const REQUESTS = 200;
const openOptions = `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#publish-options</value></field><field var='pubsub#access_model'><value>open</value></field><field var='pubsub#max_items'><value>max</value></field></x></publish-options>`;

describe('finding 2: output backpressure', () => {
  let t: TestServer;
  const sessions = rawSessions(() => t);
  const login = sessions.login;

  before(async () => {
    t = await startTestServer({
      users: { 'mallory@localhost': 'pw', 'alice@localhost': 'pw', 'bob@localhost': 'pw', 'carol@localhost': 'pw', 'dave@localhost': 'pw' },
      config: {
        modules: { pep: { max_items_per_node: ITEMS, max_payload_bytes: PAYLOAD + 1024 } },
        // No read rate: the sender's flood should reach the server, not wait in the sender's (in-process) buffers.
        limits: { output_pause_bytes: 256 * 1024, output_max_bytes: 4 * MiB, output_stall_seconds: 1, bytes_per_second: 0 },
      },
    });
  });
  before(async () => {
    const r = t.storage.roster;
    for (const reader of ['dave@localhost']) {
      await r.putItem('carol@localhost', { jid: reader, subscription: 'both', groups: [] });
      await r.putItem(reader, { jid: 'carol@localhost', subscription: 'both', groups: [] });
    }
  });
  after(async () => {
    sessions.destroyAll();
    await t.stop();
  });


  const sessionOf = (full: string) => t.server.sessions.get(full);

  it(`a session that does not read its answers: ${REQUESTS} <items/> requests of a ${mib(ITEMS * PAYLOAD)} node`, async (tc) => {
    const m = await login('mallory', 'reader');
    for (let i = 0; i < ITEMS; i++) {
      const r = await m.iq(`<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='urn:test:big'><item id='i${i}'><v xmlns='urn:test:big'>${'x'.repeat(PAYLOAD)}</v></item></publish>${openOptions}</pubsub></iq>`);
      assert.equal(r.attrs.type, 'result', r.toString().slice(0, 300));
    }
    const probe = new HeapProbe();
    probe.start();
    m.pause();
    for (let i = 0; i < REQUESTS; i++) m.send(`<iq type='get' id='g${i}' to='mallory@localhost'><pubsub xmlns='${PUBSUB}'><items node='urn:test:big'/></pubsub></iq>`);
    const closed = await until(() => sessionOf('mallory@localhost/reader') === undefined, 15_000, probe);
    const { peak, after } = probe.stop();
    tc.diagnostic(`server heap growth: peak ${mib(peak)}, after gc ${mib(after)}; session closed: ${closed}`);
    assert.ok(closed, 'the session that does not read is closed');
    assert.ok(peak < 64 * MiB, `heap grew by ${mib(peak)} at its peak`);
  });

  it('a client that reads gets every answer, however far each passes the pause threshold', async () => {
    const m = await login('mallory', 'honest');
    // The node filled by the first case: 20 pipelined requests of ~1 MiB answers each, read as they come.
    for (let i = 0; i < 20; i++) m.send(`<iq type='get' id='h${i}' to='mallory@localhost'><pubsub xmlns='${PUBSUB}'><items node='urn:test:big'/></pubsub></iq>`);
    for (let i = 0; i < 20; i++) {
      const r = await m.waitStanza((e) => e.attrs.id === `h${i}`, 15_000);
      assert.equal(r.getChild('pubsub', PUBSUB)?.getChild('items')?.getChildren('item').length, ITEMS);
    }
    assert.ok(sessionOf('mallory@localhost/honest'), 'still connected');
  });

  it('a stuck recipient of messages is closed; the sender is not affected', async (tc) => {
    const alice = await login('alice', 'sender');
    const bob = await login('bob', 'stuck');
    bob.pause();
    const probe = new HeapProbe();
    probe.start();
    const body = 'y'.repeat(100 * 1024);
    // 400 messages of 100 KiB (40 MiB) to a reader that never reads, within alice's stanza rate.
    // (In rounds, each ended by a ping: the client runs in the measured process, so its own send buffer must
    // stay small.)
    // Once bob is gone, messages to him would be stored offline (memory storage, in this process): stop.
    for (let i = 0; i < 400 && sessionOf('bob@localhost/stuck'); i++) {
      alice.send(`<message to='bob@localhost/stuck' id='m${i}'><body>${body}</body></message>`);
      if (i % 20 === 19) await alice.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`, 15_000);
    }
    const closed = await until(() => sessionOf('bob@localhost/stuck') === undefined, 15_000, probe);
    const { peak, after } = probe.stop();
    tc.diagnostic(`server heap growth: peak ${mib(peak)}, after gc ${mib(after)}; stuck session closed: ${closed}`);
    assert.ok(closed, 'the stuck recipient is closed');
    assert.ok(peak < 64 * MiB, `heap grew by ${mib(peak)} at its peak`);
    const pong = await alice.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(pong.attrs.type, 'result', 'the sender keeps its stream');
  });

  it('PEP fan-out to a stuck subscriber: it is dropped, the publisher and the node are not affected', async (tc) => {
    const carol = await login('carol', 'publisher');
    const dave = await login('dave', 'stuck');
    dave.sendPresenceWithCaps(['urn:test:feed+notify']);
    const caps = t.server.service<CapsService>('caps')!;
    assert.ok(await until(() => caps.features('dave@localhost/stuck') !== undefined, 5000), 'caps of the subscriber known');
    dave.pause();
    const probe = new HeapProbe();
    probe.start();
    const payload = 'z'.repeat(PAYLOAD);
    let published = 0;
    for (let i = 0; i < 300 && sessionOf('dave@localhost/stuck'); i++) {
      const r = await carol.iq(`<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='urn:test:feed'><item id='f${i % ITEMS}'><v xmlns='urn:test:feed'>${payload}</v></item></publish></pubsub></iq>`);
      assert.equal(r.attrs.type, 'result', 'every publish succeeds');
      published++;
    }
    const closed = await until(() => sessionOf('dave@localhost/stuck') === undefined, 10_000, probe);
    const { peak, after } = probe.stop();
    tc.diagnostic(`${published} notifications of ${PAYLOAD / 1024} KiB; server heap growth: peak ${mib(peak)}, after gc ${mib(after)}; stuck subscriber closed: ${closed}`);
    assert.ok(closed, 'the stuck subscriber is closed');
    assert.ok(peak < 64 * MiB, `heap grew by ${mib(peak)} at its peak`);
  });
});
