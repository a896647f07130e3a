// Pipelined stanza processing: the SessionPipeline rules on their own, then a burst of publishes mixed with
// other stanzas over TCP against a SQLite-backed server, checking that every observable effect (replies,
// notifications, what a retrieval sees, the stream close) keeps the order the stanzas arrived in.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionPipeline } from '../../../src/server/core/pipeline.ts';
import { openSqliteStorage } from '../../../src/storage/sqlite/index.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { RawClient } from '../../helpers/raw-client.ts';
import { advertiseCaps, connectPeer, xml, type Peer } from '../../helpers/xmpp-js.ts';
import type { CapsService } from '../../../src/server/modules/caps/index.ts';
import type { Element } from '../../../src/xml/index.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const EVENT = 'http://jabber.org/protocol/pubsub#event';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('SessionPipeline', () => {
  it('starts the next pipelinable stanza once the previous one proceeds, and orders completions', async () => {
    const p = new SessionPipeline();
    const log: string[] = [];
    const gates = [deferred(), deferred()];
    for (const i of [0, 1]) {
      await p.run(true, async (slot) => {
        log.push(`start ${i}`);
        slot!.proceed();
        await gates[i]!.promise;
        await slot!.previous;
        log.push(`reply ${i}`);
      });
    }
    assert.deepEqual(log, ['start 0', 'start 1'], 'both started while neither had completed');
    // The second one's work finishes first; its reply still waits for the first.
    gates[1]!.resolve();
    await tick();
    assert.deepEqual(log, ['start 0', 'start 1']);
    gates[0]!.resolve();
    await p.idle();
    assert.deepEqual(log, ['start 0', 'start 1', 'reply 0', 'reply 1']);
  });

  it('makes any other stanza wait until every pipelined one before it has completed', async () => {
    const p = new SessionPipeline();
    const log: string[] = [];
    const gate = deferred();
    await p.run(true, async (slot) => {
      slot!.proceed();
      await gate.promise;
      log.push('publish done');
    });
    const other = p.run(false, async (slot) => {
      assert.equal(slot, undefined);
      log.push('ping');
    });
    await tick();
    assert.deepEqual(log, []);
    gate.resolve();
    await other;
    assert.deepEqual(log, ['publish done', 'ping']);
  });

  it('waits for completion when the handler never proceeds, and bounds the stanzas in flight', async () => {
    const p = new SessionPipeline(2);
    const gates = [deferred(), deferred(), deferred()];
    let started = 0;
    const run = (i: number) =>
      p.run(true, async (slot) => {
        started++;
        if (i !== 0) slot!.proceed();
        await gates[i]!.promise;
      });
    const first = run(0);
    await tick();
    assert.equal(started, 1);
    let firstDone = false;
    void first.then(() => (firstDone = true));
    await tick();
    assert.equal(firstDone, false, 'no proceed: the run lasts until the stanza completed');
    gates[0]!.resolve();
    await first;
    await run(1);
    await run(2);
    assert.equal(started, 3);
    let fourthStarted = false;
    const fourth = p.run(true, async (slot) => {
      fourthStarted = true;
      slot!.proceed();
    });
    await tick();
    assert.equal(fourthStarted, false, 'two in flight already');
    gates[1]!.resolve();
    gates[2]!.resolve();
    await fourth;
    assert.equal(fourthStarted, true);
    await p.idle();
  });
});

describe('pipelined publishes over TCP (SQLite storage)', () => {
  let t: TestServer;
  let dir: string;
  let friend: Peer;
  const clients: RawClient[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-pipeline-'));
    t = await startTestServer({
      users: { 'owner@localhost': 'pw', 'friend@localhost': 'pw' },
      storage: openSqliteStorage({ path: join(dir, 'pepkeys.sqlite') }),
    });
    await t.storage.roster.putItem('owner@localhost', { jid: 'friend@localhost', subscription: 'both', groups: [] });
    await t.storage.roster.putItem('friend@localhost', { jid: 'owner@localhost', subscription: 'both', groups: [] });
    friend = await connectPeer({ port: t.port, domain: 'localhost', username: 'friend', password: 'pw', resource: 'xjs' });
    await friend.xmpp.send(xml('presence', {}, advertiseCaps(friend, ['urn:test:burst+notify'])));
    const caps = t.server.service<CapsService>('caps')!;
    for (let i = 0; i < 300 && !caps.features(friend.jid); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(caps.features(friend.jid), 'the server learnt the subscriber caps');
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await friend.stop();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const publish = (id: string, item: string, preconditions = '') =>
    `<iq type='set' id='${id}'><pubsub xmlns='${PUBSUB}'><publish node='urn:test:burst'><item id='${item}'><v xmlns='urn:test:burst'>${item}</v></item></publish>${preconditions}</pubsub></iq>`;
  const mismatch = `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#access_model'><value>whitelist</value></field></x></publish-options>`;

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
    add('get', `<iq type='get' id='get'><pubsub xmlns='${PUBSUB}'><items node='urn:test:burst'/></pubsub></iq>`);
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
    assert.deepEqual(new Set(seen), new Set([...Array.from({ length: 13 }, (_, i) => `i${i}`)]), 'the retrieval saw exactly the publishes before it');

    // The subscriber (xmpp.js) gets each item once, in publish order.
    const got: string[] = [];
    for (let i = 0; i < 20; i++) {
      const m = await friend.waitFor((el) => el.is('message') && !!el.getChild('event', EVENT), 10000);
      got.push(m.getChild('event', EVENT)!.getChild('items')!.getChild('item')!.attrs.id);
    }
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `i${i}`));
    await friend.none((el) => el.is('message') && !!el.getChild('event', EVENT), 300);

    // Durable and retrievable after the fact, from storage itself.
    const stored = await t.storage.pubsub.getItems('owner@localhost', 'urn:test:burst', {});
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
});
