// A burst of publishes mixed with other stanzas, sent in one socket write, against a running test server:
// the observable-order checks for pipelined publishes (core/pipeline.ts), shared by the SQLite and
// PostgreSQL suites. The server must have owner@localhost and friend@localhost (password "pw") with a
// mutual presence subscription.
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from './server.ts';
import { RawClient } from './raw-client.ts';
import { advertiseCaps, connectPeer, xml, type Peer } from './xmpp-js.ts';
import type { CapsService } from '../../src/server/modules/caps/index.ts';
import type { Element } from '../../src/xml/index.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const EVENT = 'http://jabber.org/protocol/pubsub#event';
const NODE = 'urn:test:burst';

const publish = (id: string, item: string, extra = '') =>
  `<iq type='set' id='${id}'><pubsub xmlns='${PUBSUB}'><publish node='${NODE}'><item id='${item}'><v xmlns='${NODE}'>${item}</v></item></publish>${extra}</pubsub></iq>`;
const mismatch = `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#access_model'><value>whitelist</value></field></x></publish-options>`;

/** Registers the burst tests in the current describe(); `server()` is called once the suite starts. */
export function publishBurstTests(server: () => TestServer): void {
  let t: TestServer;
  let friend: Peer;
  const clients: RawClient[] = [];

  before(async () => {
    t = server();
    friend = await connectPeer({ port: t.port, domain: 'localhost', username: 'friend', password: 'pw', resource: 'xjs' });
    await friend.xmpp.send(xml('presence', {}, advertiseCaps(friend, [`${NODE}+notify`])));
    const caps = t.server.service<CapsService>('caps')!;
    for (let i = 0; i < 300 && !caps.features(friend.jid); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(caps.features(friend.jid), 'the server learnt the subscriber caps');
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await friend.stop();
  });

  it('answers a burst in arrival order, each stanza seeing everything before it, notifications exactly once and in order', async () => {
    const c = await RawClient.connect(t.port);
    clients.push(c);
    await c.login('owner@localhost', 'pw', 'burst');
    const ids: string[] = [];
    const parts: string[] = [];
    const add = (id: string, stanza: string) => {
      ids.push(id);
      parts.push(stanza);
    };
    for (let i = 0; i < 12; i++) add(`p${i}`, publish(`p${i}`, `i${i}`));
    // A failing publish in the middle (precondition not met, XEP-0060 §7.1.5) and one after it.
    add('bad', publish('bad', 'ibad', mismatch));
    add('p12', publish('p12', 'i12'));
    // Not pipelined: must see every publish before it, and be answered after them.
    add('get', `<iq type='get' id='get'><pubsub xmlns='${PUBSUB}'><items node='${NODE}'/></pubsub></iq>`);
    add('ping', `<iq type='get' id='ping' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    for (let i = 13; i < 20; i++) add(`p${i}`, publish(`p${i}`, `i${i}`));
    // Pipelinable by shape, but to an account that does not exist: its error still comes in order.
    add('nobody', `<iq type='set' id='nobody' to='nobody@localhost'><pubsub xmlns='${PUBSUB}'><publish node='n'><item id='x'/></publish></pubsub></iq>`);
    add('last', `<iq type='get' id='last' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    c.send(parts.join(''));

    const replies: Element[] = [];
    await c.waitStanza(() => {
      replies.splice(0, replies.length, ...c.stanzas.filter((e) => e.name === 'iq' && ids.includes(e.attrs.id!)));
      return replies.length === ids.length;
    }, 15000);
    assert.deepEqual(replies.map((r) => r.attrs.id), ids, 'replies in arrival order');
    const byId = new Map(replies.map((r) => [r.attrs.id, r]));
    for (let i = 0; i < 20; i++) assert.equal(byId.get(`p${i}`)!.attrs.type, 'result', `p${i}`);
    assert.equal(byId.get('bad')!.attrs.type, 'error');
    assert.ok(byId.get('bad')!.getChild('error')!.getChild('precondition-not-met', 'http://jabber.org/protocol/pubsub#errors'));
    assert.equal(byId.get('nobody')!.attrs.type, 'error');
    const seen = byId.get('get')!.getChild('pubsub', PUBSUB)!.getChild('items')!.getChildren('item').map((i) => i.attrs.id);
    assert.deepEqual(new Set(seen), new Set(Array.from({ length: 13 }, (_, i) => `i${i}`)), 'the retrieval saw exactly the publishes before it');

    // The subscriber (xmpp.js) gets each item once, in publish order.
    const got: string[] = [];
    for (let i = 0; i < 20; i++) {
      const m = await friend.waitFor((el) => el.is('message') && !!el.getChild('event', EVENT), 10000);
      got.push(m.getChild('event', EVENT)!.getChild('items')!.getChild('item')!.attrs.id);
    }
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `i${i}`));
    await friend.none((el) => el.is('message') && !!el.getChild('event', EVENT), 300);

    // Stored, newest last, straight from storage.
    const stored = await t.storage.pubsub.getItems('owner@localhost', NODE, {});
    assert.equal(stored.length, 20);
  });

  it('closes the stream only after answering every pipelined stanza before the closing tag', async () => {
    const c = await RawClient.connect(t.port);
    clients.push(c);
    await c.login('owner@localhost', 'pw', 'closer');
    const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);
    c.send(ids.map((id) => publish(id, `close-${id}`)).join('') + '</stream:stream>');
    await c.closed;
    const answered = c.stanzas.filter((e) => e.name === 'iq' && e.attrs.type === 'result').map((e) => e.attrs.id);
    assert.deepEqual(answered, ids);
    assert.ok(c.text.trimEnd().endsWith('</stream:stream>'));
  });
}

/** The two accounts and the mutual subscription publishBurstTests() expects. */
export async function seedBurstAccounts(t: TestServer): Promise<void> {
  await t.addUser('owner@localhost', 'pw');
  await t.addUser('friend@localhost', 'pw');
  await t.storage.roster.putItem('owner@localhost', { jid: 'friend@localhost', subscription: 'both', groups: [] });
  await t.storage.roster.putItem('friend@localhost', { jid: 'owner@localhost', subscription: 'both', groups: [] });
}
