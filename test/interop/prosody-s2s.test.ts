// Federation with a real Prosody 0.12: pepkeys hosts capulet.lit, Prosody montague.lit, on loopback with
// static routes both ways. Each side authenticates the other with XEP-0220 dialback over STARTTLS; a message
// goes each way, an IQ from Prosody's user is answered by pepkeys, presence subscriptions run both ways,
// and the Prosody user retrieves a pepkeys user's open PEP item.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startProsody, skipProsody, type ProsodyServer } from '../helpers/prosody.ts';
import { startTestServer, rawSessions, type TestServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { publishOpen } from '../helpers/federation.ts';

const ROSTER = 'jabber:iq:roster';
const PUBSUB = 'http://jabber.org/protocol/pubsub';

describe('federation with Prosody', { skip: skipProsody() && 'prosody not installed and PEPKEYS_SKIP_PROSODY=1' }, () => {
  let cap: TestServer;
  let p: ProsodyServer;
  const users = rawSessions(() => cap);
  let juliet: RawClient;
  let romeo: RawClient;

  before(async () => {
    cap = await startTestServer({ hosts: ['capulet.lit'], users: { 'juliet@capulet.lit': 'pw' }, config: { s2s: { listen: ['127.0.0.1:0'] } } });
    p = await startProsody({ hosts: ['montague.lit'], users: { 'romeo@montague.lit': 'romeo-pw' }, s2s: { routes: { 'capulet.lit': `127.0.0.1:${cap.s2sPort}` } } });
    cap.server.s2s!.routes['montague.lit'] = `127.0.0.1:${p.s2sPort}`;
    juliet = await users.login('juliet', 'balcony', 'pw', 'capulet.lit');
    romeo = await RawClient.connect(p.port);
    await romeo.login('romeo@montague.lit', 'romeo-pw', 'orchard');
  });
  after(async () => {
    romeo?.destroy();
    users.destroyAll();
    await cap?.stop();
    await p?.stop();
  });

  it('delivers a message from pepkeys to a Prosody user', async () => {
    juliet.send(`<message to='romeo@montague.lit/orchard' type='chat' id='to-prosody'><body>O Romeo</body></message>`);
    const m = await romeo.waitStanza((e) => e.name === 'message' && e.attrs.id === 'to-prosody', 15_000).catch((err) => {
      throw new Error(`${(err as Error).message}\nprosody log:\n${p.log().slice(-3000)}`);
    });
    assert.equal(m.attrs.from, 'juliet@capulet.lit/balcony');
    assert.equal(m.getChildText('body'), 'O Romeo');
  });

  it('delivers a message from a Prosody user to pepkeys, and answers his IQ', async () => {
    romeo.send(`<message to='juliet@capulet.lit/balcony' type='chat' id='from-prosody'><body>Call me but love</body></message>`);
    const m = await juliet.waitStanza((e) => e.name === 'message' && e.attrs.id === 'from-prosody', 15_000).catch((err) => {
      throw new Error(`${(err as Error).message}\nprosody log:\n${p.log().slice(-3000)}`);
    });
    assert.equal(m.attrs.from, 'romeo@montague.lit/orchard');
    const ping = await romeo.iq(`<iq type='get' to='capulet.lit'><ping xmlns='urn:xmpp:ping'/></iq>`, 15_000);
    assert.equal(ping.attrs.type, 'result');
    assert.ok(cap.server.s2s!.status().inbound.some((s) => s.domains.includes('montague.lit')), 'Prosody authenticated on an inbound stream');
  });

  it('runs a subscription from a pepkeys user to a Prosody user: approval, roster, presence', async () => {
    await juliet.iq(`<iq type='get'><query xmlns='${ROSTER}'/></iq>`);
    await romeo.iq(`<iq type='get'><query xmlns='${ROSTER}'/></iq>`);
    juliet.send(`<presence/>`);
    romeo.send(`<presence/>`);
    juliet.send(`<presence to='romeo@montague.lit' type='subscribe'/>`);
    const sub = await romeo.waitStanza((e) => e.name === 'presence' && e.attrs.type === 'subscribe', 15_000);
    assert.equal(sub.attrs.from, 'juliet@capulet.lit');
    romeo.send(`<presence to='juliet@capulet.lit' type='subscribed'/>`);
    await juliet.waitStanza((e) => e.name === 'iq' && e.getChild('query', ROSTER)?.getChild('item')?.attrs.subscription === 'to', 15_000);
    const avail = await juliet.waitStanza((e) => e.name === 'presence' && e.attrs.from === 'romeo@montague.lit/orchard' && e.attrs.type === undefined, 15_000);
    assert.ok(avail);
    const rr = await romeo.iq(`<iq type='get'><query xmlns='${ROSTER}'/></iq>`, 15_000);
    assert.equal(rr.getChild('query')!.getChildren('item').find((i) => i.attrs.jid === 'juliet@capulet.lit')?.attrs.subscription, 'from');
  });

  it('runs a subscription from a Prosody user to a pepkeys user: request, approval, roster, presence', async () => {
    romeo.send(`<presence to='juliet@capulet.lit' type='subscribe'/>`);
    const sub = await juliet.waitStanza((e) => e.name === 'presence' && e.attrs.type === 'subscribe', 15_000);
    assert.equal(sub.attrs.from, 'romeo@montague.lit');
    juliet.send(`<presence to='romeo@montague.lit' type='subscribed'/>`);
    await romeo.waitStanza((e) => e.name === 'iq' && e.getChild('query', ROSTER)?.getChild('item')?.attrs.subscription === 'both', 15_000);
    const avail = await romeo.waitStanza((e) => e.name === 'presence' && e.attrs.from === 'juliet@capulet.lit/balcony' && e.attrs.type === undefined, 15_000);
    assert.ok(avail);
    const jr = await juliet.iq(`<iq type='get'><query xmlns='${ROSTER}'/></iq>`);
    assert.equal(jr.getChild('query')!.getChildren('item').find((i) => i.attrs.jid === 'romeo@montague.lit')?.attrs.subscription, 'both');
  });

  it('lets the Prosody user retrieve an item of an open PEP node on pepkeys', async () => {
    const pub = await publishOpen(juliet, 'urn:test:open', `<item id='k1'><key xmlns='urn:test'>AAAA</key></item>`);
    assert.equal(pub.attrs.type, 'result', pub.toString());
    const items = await romeo.iq(`<iq type='get' to='juliet@capulet.lit'><pubsub xmlns='${PUBSUB}'><items node='urn:test:open'/></pubsub></iq>`, 15_000);
    assert.equal(items.attrs.type, 'result', items.toString());
    assert.equal(items.getChild('pubsub')!.getChild('items')!.getChild('item')!.getChildText('key'), 'AAAA');
  });
});
