// Issue 20: with every session's writes of a tick uncorked together, output backpressure still works per
// session. A subscriber that stops reading, among readers of the same batched fan-outs, is closed once its
// unsent output passes the limit (its socket destroyed before the batch is uncorked), while the readers get
// every notification in publish order and the publisher every answer.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rawSessions, startTestServer, type TestServer } from '../../helpers/server.ts';
import { until } from '../../helpers/until.ts';
import type { CapsService } from '../../../src/server/modules/caps/index.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const NODE = 'urn:test:flood';
const PAYLOAD = 16 * 1024;
const BURST = 20;
const MAX_BURSTS = 40;

describe('output backpressure under batched fan-out (issue 20)', () => {
  let t: TestServer;
  const sessions = rawSessions(() => t);
  const login = sessions.login;

  before(async () => {
    t = await startTestServer({
      users: { 'alice@localhost': 'pw', 'bob@localhost': 'pw', 'carol@localhost': 'pw' },
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
    await t.stop();
  });

  it('a stuck subscriber is closed; a reader of the same batches gets every notification in order', async (tc) => {
    const alice = await login('alice', 'pub');
    const bob = await login('bob', 'reader');
    const carol = await login('carol', 'stuck');
    for (const c of [bob, carol]) c.sendPresenceWithCaps([`${NODE}+notify`]);
    const caps = t.server.service<CapsService>('caps')!;
    await until(() => caps.features('bob@localhost/reader') !== undefined && caps.features('carol@localhost/stuck') !== undefined, 'caps of both subscribers', 5000);
    carol.pause();
    const payload = 'z'.repeat(PAYLOAD);
    let published = 0;
    // Bursts of pipelined publishes (one write each, so they share commits and fan-out batches), until the
    // stuck subscriber is gone; bounded.
    for (let b = 0; b < MAX_BURSTS && t.server.sessions.get('carol@localhost/stuck'); b++) {
      let burst = '';
      for (let i = 0; i < BURST; i++) {
        const n = published + i;
        burst += `<iq type='set' id='p${n}'><pubsub xmlns='${PUBSUB}'><publish node='${NODE}'><item id='i${n}'><v xmlns='${NODE}'>${payload}</v></item></publish></pubsub></iq>`;
      }
      alice.send(burst);
      for (let i = 0; i < BURST; i++) {
        const r = await alice.waitStanza((e) => e.attrs.id === `p${published + i}`, 15_000);
        assert.equal(r.attrs.type, 'result', 'every publish succeeds');
      }
      published += BURST;
    }
    await until(() => t.server.sessions.get('carol@localhost/stuck') === undefined, 'the stuck subscriber closed', 15_000);
    tc.diagnostic(`${published} notifications of ${PAYLOAD / 1024} KiB before the stuck subscriber was closed`);
    const items = () => bob.stanzas.filter((e) => e.name === 'message').map((e) => e.getChild('event')?.getChild('items')?.getChild('item')?.attrs.id);
    await until(() => items().length >= published, 'every notification at the reader', 15_000);
    assert.deepEqual(items(), Array.from({ length: published }, (_, i) => `i${i}`));
    assert.ok(t.server.sessions.get('bob@localhost/reader'), 'the reader keeps its stream');
  });
});
