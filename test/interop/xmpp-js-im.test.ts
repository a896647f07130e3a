// Instant messaging end to end with xmpp.js (@xmpp/client), a client library we did not write: STARTTLS,
// SCRAM-SHA-1, binding, roster, the subscription handshake between two virtual hosts, presence broadcast,
// message and IQ routing, and offline delivery after a server restart on SQLite.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { connectPeer, xml, type Peer, type XjsElement } from '../helpers/xmpp-js.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';

const isPresence = (from: string, type?: string) => (el: XjsElement) =>
  el.name === 'presence' && el.attrs.from?.startsWith(from) && el.attrs.type === type;

describe('IM with xmpp.js over STARTTLS', () => {
  let dir: string;
  let t: TestServer;
  const peers: Peer[] = [];
  const hosts = ['capulet.lit', 'montague.lit'];
  const open = () => openSqliteStorage({ path: join(dir, 'db.sqlite') });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-im-'));
    t = await startTestServer({ hosts, insecure: false, storage: open(), users: { 'juliet@capulet.lit': 'r0meo', 'romeo@montague.lit': 'jul1et' } });
  });
  after(async () => {
    for (const p of peers) await p.stop();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const juliet = (resource = 'balcony') => connectPeer({ port: t.port, domain: 'capulet.lit', username: 'juliet', password: 'r0meo', resource }).then((p) => (peers.push(p), p));
  const romeo = (resource = 'orchard') => connectPeer({ port: t.port, domain: 'montague.lit', username: 'romeo', password: 'jul1et', resource }).then((p) => (peers.push(p), p));

  it('refuses a wrong password', async () => {
    await assert.rejects(connectPeer({ port: t.port, domain: 'capulet.lit', username: 'juliet', password: 'wrong' }), /not-authorized/);
  });

  it('logs in with SCRAM-SHA-1 after STARTTLS and binds the requested resource', async () => {
    const j = await juliet();
    assert.equal(j.jid, 'juliet@capulet.lit/balcony');
    await j.stop();
  });

  it('runs the subscription handshake across two virtual hosts, with roster pushes and presence', async () => {
    const j = await juliet();
    const r = await romeo();
    const roster = await j.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
    assert.equal(roster.getChild('query')!.getChildren('item').length, 0);
    await r.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
    await j.xmpp.send(xml('presence', null, xml('status', null, 'on the balcony')));
    await r.xmpp.send(xml('presence'));

    // Juliet adds Romeo to her roster in group Friends.
    await j.iq(xml('iq', { type: 'set' }, xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'romeo@montague.lit', name: 'Romeo' }, xml('group', null, 'Friends')))));
    const push1 = await j.waitFor((el) => el.name === 'iq' && el.attrs.type === 'set' && !!el.getChild('query', 'jabber:iq:roster'));
    assert.equal(push1.getChild('query')!.getChild('item')!.attrs.subscription, 'none');

    // She asks to see his presence; he receives the request from her bare JID.
    await j.xmpp.send(xml('presence', { to: 'romeo@montague.lit', type: 'subscribe' }));
    const askPush = await j.waitFor((el) => el.name === 'iq' && el.getChild('query')?.getChild('item')?.attrs.ask === 'subscribe');
    assert.ok(askPush);
    const req = await r.waitFor(isPresence('juliet@capulet.lit', 'subscribe'));
    assert.equal(req.attrs.from, 'juliet@capulet.lit');

    // He approves and subscribes back.
    await r.xmpp.send(xml('presence', { to: 'juliet@capulet.lit', type: 'subscribed' }));
    await r.xmpp.send(xml('presence', { to: 'juliet@capulet.lit', type: 'subscribe' }));
    await j.waitFor(isPresence('romeo@montague.lit', 'subscribed'));
    // His available presence reaches her once she is subscribed.
    await j.waitFor(isPresence('romeo@montague.lit/orchard', undefined));
    await j.waitFor(isPresence('romeo@montague.lit', 'subscribe'));
    await j.xmpp.send(xml('presence', { to: 'romeo@montague.lit', type: 'subscribed' }));
    const herPresence = await r.waitFor(isPresence('juliet@capulet.lit/balcony', undefined));
    assert.equal(herPresence.getChildText('status'), 'on the balcony');

    const rr = await r.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
    const item = rr.getChild('query')!.getChild('item')!;
    assert.equal(item.attrs.jid, 'juliet@capulet.lit');
    assert.equal(item.attrs.subscription, 'both');
    const jr = await j.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
    const jitem = jr.getChild('query')!.getChild('item')!;
    assert.equal(jitem.attrs.subscription, 'both');
    assert.equal(jitem.getChildText('group'), 'Friends');

    // Messages both ways, to bare and full JIDs.
    await j.xmpp.send(xml('message', { to: 'romeo@montague.lit', type: 'chat', id: 'm1' }, xml('body', null, 'Wherefore art thou?')));
    const m1 = await r.waitFor((el) => el.name === 'message' && el.attrs.id === 'm1');
    assert.equal(m1.attrs.from, 'juliet@capulet.lit/balcony');
    assert.equal(m1.getChildText('body'), 'Wherefore art thou?');
    await r.xmpp.send(xml('message', { to: 'juliet@capulet.lit/balcony', type: 'chat', id: 'm2' }, xml('body', null, 'Here!')));
    assert.equal((await j.waitFor((el) => el.attrs.id === 'm2')).getChildText('body'), 'Here!');

    // IQ routed to a full JID and answered by the client itself (xmpp.js answers pings).
    const pong = await j.iq(xml('iq', { type: 'get', to: 'romeo@montague.lit/orchard' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    assert.equal(pong.attrs.type, 'result');

    // A second resource of Juliet gets Romeo's presence through a probe, and he sees her new resource.
    const j2 = await juliet('chamber');
    await j2.xmpp.send(xml('presence'));
    await j2.waitFor(isPresence('romeo@montague.lit/orchard', undefined));
    await r.waitFor(isPresence('juliet@capulet.lit/chamber', undefined));

    // Going offline is broadcast as unavailable.
    await j2.stop();
    await r.waitFor(isPresence('juliet@capulet.lit/chamber', 'unavailable'));
    await j.stop();
    await r.stop();
  });

  it('stores a message for an offline account and delivers it after a server restart', async () => {
    const r = await romeo();
    await r.xmpp.send(xml('message', { to: 'juliet@capulet.lit', type: 'chat', id: 'off1' }, xml('body', null, 'Parting is such sweet sorrow')));
    // The ping round trip orders after the message: once answered, the message has been processed.
    await r.iq(xml('iq', { type: 'get', to: 'montague.lit' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    await r.stop();
    await t.stop();
    t = await startTestServer({ hosts, insecure: false, storage: open() });
    const j = await juliet();
    await j.xmpp.send(xml('presence'));
    const m = await j.waitFor((el) => el.name === 'message' && el.attrs.id === 'off1');
    assert.equal(m.getChildText('body'), 'Parting is such sweet sorrow');
    assert.equal(m.attrs.from, 'romeo@montague.lit/orchard');
    assert.ok(m.getChild('delay', 'urn:xmpp:delay')!.attrs.stamp);
    // Delivered once: the store is empty afterwards.
    assert.equal(await t.storage.offline.count('juliet@capulet.lit'), 0);
    // The roster survived the restart too.
    const roster = await j.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
    assert.equal(roster.getChild('query')!.getChild('item')!.attrs.subscription, 'both');
    await j.stop();
  });
});
