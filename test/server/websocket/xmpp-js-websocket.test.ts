// XMPP over WebSocket (RFC 7395) with a client we did not write: @xmpp/client connects to
// ws://127.0.0.1:PORT/xmpp-websocket, logs in with SCRAM (loopback counts as secure, so require_tls holds
// without STARTTLS), gets its roster, and shares PEP with TCP sessions of the same and another account:
// one session core for both transports.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { advertiseCaps, connectPeer, xml, type Peer, type XjsElement } from '../../helpers/xmpp-js.ts';
import { untilHibernating } from '../core/stream-management/sm-client.ts';
import type { CapsService } from '../../../src/server/modules/caps/index.ts';

const NODE = 'urn:xmpp:tmp:ws-test';
const PUBSUB = 'http://jabber.org/protocol/pubsub';
const EVENT = 'http://jabber.org/protocol/pubsub#event';

function publishOptions(fields: Record<string, string>) {
  return xml('publish-options', null,
    xml('x', { xmlns: 'jabber:x:data', type: 'submit' },
      xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', null, 'http://jabber.org/protocol/pubsub#publish-options')),
      ...Object.entries(fields).map(([k, v]) => xml('field', { var: `pubsub#${k}` }, xml('value', null, v)))));
}

const publish = (id: string, text: string) =>
  xml('iq', { type: 'set' },
    xml('pubsub', { xmlns: PUBSUB },
      xml('publish', { node: NODE }, xml('item', { id }, xml('entry', { xmlns: NODE }, text))),
      publishOptions({ access_model: 'presence', persist_items: 'true' })));

const eventItem = (id: string) => (el: XjsElement) =>
  el.name === 'message' && el.getChild('event', EVENT)?.getChild('items')?.getChild('item')?.attrs.id === id;

describe('XMPP over WebSocket with @xmpp/client', () => {
  let t: TestServer;
  const peers: Peer[] = [];

  const login = async (user: string, resource: string, ws: boolean, notify = true): Promise<Peer> => {
    const p = await connectPeer({ port: t.port, service: ws ? t.web!.wsUrl : undefined, domain: 'localhost', username: user, password: 'pw', resource });
    peers.push(p);
    // xmpp.js zeroes its inbound count in a continuation after <enabled/>, so stanzas arriving in the same
    // read (several WebSocket messages are) would be counted and then forgotten: wait for it first.
    const sm = (p.xmpp as any).streamManagement;
    for (let i = 0; i < 300 && !sm.enabled; i++) await new Promise((r) => setTimeout(r, 10));
    if (notify) {
      await p.xmpp.send(xml('presence', null, advertiseCaps(p, [`${NODE}+notify`])));
      const caps = t.server.service<CapsService>('caps')!;
      for (let i = 0; i < 300 && !caps.features(p.jid); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(caps.features(p.jid), `caps of ${p.jid} verified`);
    }
    return p;
  };

  before(async () => {
    // require_tls stays on: the WebSocket client is on loopback, which the endpoint counts as secure.
    t = await startTestServer({ insecure: false, web: true, users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' } });
    const both = (jid: string) => ({ jid, subscription: 'both' as const, groups: ['Friends'] });
    await t.storage.roster.putItem('juliet@localhost', both('romeo@localhost'));
    await t.storage.roster.putItem('romeo@localhost', both('juliet@localhost'));
  });
  after(async () => {
    for (const p of peers) await p.stop().catch(() => undefined);
    await t.stop();
  });

  it('logs in with SCRAM over ws:// and gets the roster', async () => {
    const j = await login('juliet', 'web', true, false);
    assert.equal(j.jid, 'juliet@localhost/web');
    const mech = (j.xmpp as any).sasl?.mechanism ?? (j.xmpp as any).mechanism;
    if (typeof mech === 'string') assert.match(mech, /^SCRAM-/);
    const r = await j.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })));
    const items = r.getChild('query')!.getChildren('item');
    assert.deepEqual(items.map((i) => [i.attrs.jid, i.attrs.subscription]), [['romeo@localhost', 'both']]);
    await j.stop();
    peers.splice(peers.indexOf(j), 1);
  });

  it('PEP across transports: a WebSocket publish reaches TCP sessions of the same and another account, and back', async () => {
    const web = await login('juliet', 'web', true);
    const desk = await login('juliet', 'desk', false);
    const romeo = await login('romeo', 'tcp', false);

    const r = await web.iq(publish('from-web', 'published over WebSocket'));
    assert.equal(r.attrs.type, 'result');
    for (const p of [web, desk, romeo]) {
      const ev = await p.waitFor(eventItem('from-web'));
      assert.equal(ev.attrs.from, 'juliet@localhost', p.jid);
      assert.equal(ev.getChild('event', EVENT)!.getChild('items')!.getChild('item')!.getChildText('entry'), 'published over WebSocket');
    }

    await desk.iq(publish('from-tcp', 'published over TCP'));
    for (const p of [web, desk, romeo]) await p.waitFor(eventItem('from-tcp'));

    // And a plain message from a TCP account to the WebSocket session.
    await romeo.xmpp.send(xml('message', { to: 'juliet@localhost/web', type: 'chat', id: 'm1' }, xml('body', null, 'hello over tcp')));
    const m = await web.waitFor((el) => el.is('message') && el.attrs.id === 'm1');
    assert.equal(m.getChildText('body'), 'hello over tcp');
    assert.equal(m.attrs.from, 'romeo@localhost/tcp');
  });

  it('resumes a WebSocket session with stream management after the connection drops', async () => {
    const p = await login('romeo', 'phone', true, false);
    const sm = (p.xmpp as any).streamManagement;
    for (let i = 0; i < 200 && !sm.enabled; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(sm.enabled && sm.id, 'xmpp.js enabled stream management over WebSocket');
    await p.xmpp.send(xml('presence'));
    await p.waitFor((el) => el.is('presence') && el.attrs.from === 'romeo@localhost/phone');

    const disconnected = once(p.xmpp, 'disconnect');
    // The WebSocket is dropped without a <close/> (ws' terminate: no closing handshake).
    (p.xmpp as any).socket.socket.terminate();
    await disconnected;
    assert.equal(await untilHibernating(t.server), 1);

    const sender = peers.find((x) => x.jid === 'juliet@localhost/desk')!;
    await sender.xmpp.send(xml('message', { to: 'romeo@localhost/phone', type: 'chat', id: 'meanwhile' }, xml('body', null, 'while you were away')));
    await new Promise((r) => setImmediate(r));

    const resumed = once(sm, 'resumed');
    await (p.xmpp as any).reconnect.reconnect();
    await resumed;
    const m = await p.waitFor((el) => el.is('message') && el.attrs.id === 'meanwhile');
    assert.equal(m.getChildText('body'), 'while you were away');
    assert.equal((await t.storage.offline.size('romeo@localhost')).messages, 0);
  });
});
