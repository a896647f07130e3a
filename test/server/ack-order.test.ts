// What the chaos suites (test/helpers/chaos-suite.ts, run by test/server/chaos/) rely on, made deterministic
// with a slow store.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createMemoryStorage } from '../../src/storage/memory/index.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// What the chaos test relies on, made deterministic with a slow store: a session's stanzas are processed
// in order (RFC 6120 §10.1), so the answer to a ping sent after a message means the message was handled,
// stored for an offline recipient included, and a retrieval sent after a publish sees the item.
describe('acknowledgements follow processing order (RFC 6120 §10.1)', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  before(async () => {
    const storage = createMemoryStorage();
    const push = storage.offline.push.bind(storage.offline);
    storage.offline.push = async (owner, m) => {
      await sleep(300);
      return push(owner, m);
    };
    const publishItem = storage.pubsub.publishItem.bind(storage.pubsub);
    storage.pubsub.publishItem = async (...args) => {
      await sleep(300);
      return publishItem(...args);
    };
    t = await startTestServer({ storage, users: { 'sender@localhost': 'pw', 'away@localhost': 'pw' } });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t?.stop();
  });

  it('answers a ping sent after a message to an offline account only once the message is stored', async () => {
    const c = await RawClient.connect(t.port);
    clients.push(c);
    await c.login('sender@localhost', 'pw', 'r');
    c.send(`<message to='away@localhost' type='chat' id='m1'><body>hello</body></message><iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await c.waitStanza((e) => e.attrs.id === 'p1');
    assert.equal(await t.storage.offline.count('away@localhost'), 1, 'the message was stored before the ping after it was answered');
  });

  it('answers a retrieval sent right after a publish with the published item', async () => {
    const c = await RawClient.connect(t.port);
    clients.push(c);
    await c.login('sender@localhost', 'pw', 'pub');
    c.send(`<iq type='set' id='pub'><pubsub xmlns='${PUBSUB}'><publish node='urn:test:order'><item id='first'><v xmlns='urn:test'/></item></publish></pubsub></iq>` +
      `<iq type='get' id='get' to='sender@localhost'><pubsub xmlns='${PUBSUB}'><items node='urn:test:order'/></pubsub></iq>`);
    const pub = await c.waitStanza((e) => e.attrs.id === 'pub');
    const get = await c.waitStanza((e) => e.attrs.id === 'get');
    assert.equal(pub.attrs.type, 'result');
    assert.ok(c.text.indexOf('id="pub"') < c.text.indexOf('id="get"'), 'answers in request order');
    assert.deepEqual(get.getChild('pubsub')?.getChild('items')?.getChildren('item').map((i) => i.attrs.id), ['first'], get.toString());
  });
});
