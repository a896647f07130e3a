// Two pepkeys servers federating over real sockets (capulet.lit and montague.lit, each its own storage),
// with static routes to each other's s2s port: STARTTLS and XEP-0220 dialback between them, then messages,
// IQs, a presence subscription and a PEP retrieval across, and bounces when the peer cannot be reached.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rawSessions, type TestServer } from '../../helpers/server.ts';
import { publishOpen, startFederatedPair } from '../../helpers/federation.ts';
import type { RawClient } from '../../helpers/raw-client.ts';
import type { Element } from '../../../src/xml/index.ts';

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const PUBSUB = 'http://jabber.org/protocol/pubsub';
const ROSTER = 'jabber:iq:roster';

const condition = (el: Element) => el.getChild('error')?.elements.find((e) => e.ns === STANZAS && e.local !== 'text')?.local;

describe('federation between two pepkeys servers', () => {
  let cap: TestServer;
  let mon: TestServer;
  const capUsers = rawSessions(() => cap);
  const monUsers = rawSessions(() => mon);
  let juliet: RawClient;
  let romeo: RawClient;
  let capStopped = false;

  before(async () => {
    ({ cap, mon } = await startFederatedPair({ 'juliet@capulet.lit': 'pw', 'nurse@capulet.lit': 'pw' }, { 'romeo@montague.lit': 'pw' }));
    juliet = await capUsers.login('juliet', 'balcony', 'pw', 'capulet.lit');
    romeo = await monUsers.login('romeo', 'orchard', 'pw', 'montague.lit');
  });
  after(async () => {
    capUsers.destroyAll();
    monUsers.destroyAll();
    if (!capStopped) await cap?.stop();
    await mon?.stop();
  });

  it('carries a message from Juliet to Romeo, authenticated by dialback over TLS', async () => {
    juliet.send(`<message to='romeo@montague.lit/orchard' type='chat' id='m1'><body>Wherefore art thou?</body></message>`);
    const m = await romeo.waitStanza((e) => e.name === 'message' && e.attrs.id === 'm1');
    assert.equal(m.attrs.from, 'juliet@capulet.lit/balcony');
    assert.equal(m.getChildText('body'), 'Wherefore art thou?');
    const out = cap.server.s2s!.status().outbound.find((l) => l.remote === 'montague.lit');
    assert.equal(out?.authenticated, true);
    // montague.lit authenticated capulet.lit on its inbound stream, through dialback.
    assert.ok(mon.server.s2s!.status().inbound.some((s) => s.domains.includes('capulet.lit')));
  });

  it('answers IQs across: ping to the remote server and disco#info to a remote account', async () => {
    const ping = await romeo.iq(`<iq type='get' to='capulet.lit'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(ping.attrs.type, 'result');
    assert.equal(ping.attrs.from, 'capulet.lit');
    const info = await romeo.iq(`<iq type='get' to='juliet@capulet.lit'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
    assert.equal(info.attrs.type, 'result', info.toString());
    assert.ok(info.getChild('query')!.getChildren('identity').some((i) => i.attrs.category === 'account' || i.attrs.category === 'pubsub'));
  });

  it('returns a remote error to the sender: an IQ to a missing remote resource', async () => {
    const r = await romeo.iq(`<iq type='get' to='juliet@capulet.lit/nowhere'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(r.attrs.type, 'error');
    assert.equal(condition(r), 'service-unavailable');
  });

  it('runs a presence subscription across both servers, rosters updated on each side', async () => {
    // Roster pushes go to resources that asked for the roster (RFC 6121 §2.1.6).
    await juliet.iq(`<iq type='get'><query xmlns='${ROSTER}'/></iq>`);
    await romeo.iq(`<iq type='get'><query xmlns='${ROSTER}'/></iq>`);
    juliet.send(`<presence/>`);
    romeo.send(`<presence/>`);
    juliet.send(`<presence to='romeo@montague.lit' type='subscribe'/>`);
    const sub = await romeo.waitStanza((e) => e.name === 'presence' && e.attrs.type === 'subscribe');
    assert.equal(sub.attrs.from, 'juliet@capulet.lit');
    romeo.send(`<presence to='juliet@capulet.lit' type='subscribed'/>`);
    // Juliet's server records the approval (roster push: subscription to) and she gets Romeo's presence.
    await juliet.waitStanza((e) => e.name === 'iq' && e.attrs.type === 'set' && e.getChild('query', ROSTER)?.getChild('item')?.attrs.subscription === 'to');
    const avail = await juliet.waitStanza((e) => e.name === 'presence' && e.attrs.from === 'romeo@montague.lit/orchard' && e.attrs.type === undefined);
    assert.ok(avail);
    const jr = await juliet.iq(`<iq type='get'><query xmlns='${ROSTER}'/></iq>`);
    assert.equal(jr.getChild('query')!.getChildren('item').find((i) => i.attrs.jid === 'romeo@montague.lit')?.attrs.subscription, 'to');
    const rr = await romeo.iq(`<iq type='get'><query xmlns='${ROSTER}'/></iq>`);
    assert.equal(rr.getChild('query')!.getChildren('item').find((i) => i.attrs.jid === 'juliet@capulet.lit')?.attrs.subscription, 'from');
  });

  it('probes the remote contact for a new resource: it learns Romeo\'s presence from his server', async () => {
    const tomb = await capUsers.login('juliet', 'tomb', 'pw', 'capulet.lit');
    tomb.send(`<presence/>`);
    const p = await tomb.waitStanza((e) => e.name === 'presence' && e.attrs.from === 'romeo@montague.lit/orchard');
    assert.equal(p.attrs.type, undefined);
    tomb.send(`<presence type='unavailable'/>`);
  });

  it('broadcasts presence changes to a remote subscriber', async () => {
    romeo.send(`<presence><show>away</show></presence>`);
    const p = await juliet.waitStanza((e) => e.name === 'presence' && e.attrs.from === 'romeo@montague.lit/orchard' && e.getChildText('show') === 'away');
    assert.ok(p);
  });

  it('stores a remote sender\'s message for an offline account and delivers it at login', async () => {
    romeo.send(`<message to='nurse@capulet.lit' type='chat' id='off1'><body>Tell her I am here</body></message>`);
    // The nurse logs in only once the message has been stored (an answer across the same link comes after it).
    await romeo.iq(`<iq type='get' to='capulet.lit'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const nurse = await capUsers.login('nurse', 'kitchen', 'pw', 'capulet.lit');
    nurse.send(`<presence/>`);
    const m = await nurse.waitStanza((e) => e.name === 'message' && e.attrs.id === 'off1');
    assert.equal(m.attrs.from, 'romeo@montague.lit/orchard');
    assert.ok(m.getChild('delay', 'urn:xmpp:delay'));
  });

  it('lets Romeo retrieve an item of Juliet\'s open PEP node across', async () => {
    const pub = await publishOpen(juliet, 'urn:test:open', `<item id='k1'><key xmlns='urn:test'>AAAA</key></item>`);
    assert.equal(pub.attrs.type, 'result', pub.toString());
    const items = await romeo.iq(`<iq type='get' to='juliet@capulet.lit'><pubsub xmlns='${PUBSUB}'><items node='urn:test:open'/></pubsub></iq>`);
    assert.equal(items.attrs.type, 'result', items.toString());
    const item = items.getChild('pubsub')!.getChild('items')!.getChild('item')!;
    assert.equal(item.attrs.id, 'k1');
    assert.equal(item.getChildText('key'), 'AAAA');
  });

  it('notifies Romeo, an explicit subscriber on the other server, of Juliet\'s next publication', async () => {
    const sub = await romeo.iq(`<iq type='set' to='juliet@capulet.lit'><pubsub xmlns='${PUBSUB}'><subscribe node='urn:test:open' jid='romeo@montague.lit/orchard'/></pubsub></iq>`);
    assert.equal(sub.attrs.type, 'result', sub.toString());
    assert.equal(sub.getChild('pubsub')!.getChild('subscription')!.attrs.subscription, 'subscribed');
    await juliet.iq(`<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='urn:test:open'><item id='k2'><key xmlns='urn:test'>BBBB</key></item></publish></pubsub></iq>`);
    const ev = await romeo.waitStanza((e) => e.name === 'message' && e.getChild('event', `${PUBSUB}#event`)?.getChild('items')?.getChild('item')?.attrs.id === 'k2');
    assert.equal(ev.attrs.from, 'juliet@capulet.lit');
    assert.equal(ev.getChild('event')!.getChild('items')!.attrs.node, 'urn:test:open');
  });

  it('has carried all of it over one stream per direction', () => {
    // One outbound link per (local, remote) pair, reused: montague.lit saw capulet.lit authenticate once.
    assert.equal(mon.server.s2s!.status().inbound.filter((s) => s.domains.includes('capulet.lit')).length, 1);
    assert.equal(cap.server.s2s!.status().inbound.filter((s) => s.domains.includes('montague.lit')).length, 1);
  });

  it('bounces with remote-server-not-found when the peer cannot be reached, and never bounces an error', async () => {
    cap.server.s2s!.routes['verona.lit'] = '127.0.0.1:1';
    juliet.send(`<message to='friar@verona.lit' type='chat' id='lost'><body>hello?</body></message>`);
    const b = await juliet.waitStanza((e) => e.name === 'message' && e.attrs.id === 'lost');
    assert.equal(b.attrs.type, 'error');
    assert.equal(condition(b), 'remote-server-not-found');
    juliet.send(`<message to='friar@verona.lit' type='error' id='err1'><error type='cancel'><undefined-condition xmlns='${STANZAS}'/></error></message>`);
    const r = await juliet.iq(`<iq type='get' to='friar@verona.lit'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(condition(r), 'remote-server-not-found');
    assert.ok(!juliet.stanzas.some((e) => e.attrs.id === 'err1'), 'an error stanza is not bounced');
  });

  it('tells a remote subscriber that Juliet went offline when her server shuts down', async () => {
    romeo.send(`<presence to='juliet@capulet.lit' type='subscribe'/>`);
    await juliet.waitStanza((e) => e.name === 'presence' && e.attrs.type === 'subscribe' && e.attrs.from === 'romeo@montague.lit');
    juliet.send(`<presence to='romeo@montague.lit' type='subscribed'/>`);
    await romeo.waitStanza((e) => e.name === 'presence' && e.attrs.from === 'juliet@capulet.lit/balcony' && e.attrs.type === undefined);
    capStopped = true;
    await cap.stop();
    const gone = await romeo.waitStanza((e) => e.name === 'presence' && e.attrs.from === 'juliet@capulet.lit/balcony' && e.attrs.type === 'unavailable');
    assert.ok(gone);
  });
});
