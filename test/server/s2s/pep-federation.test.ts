// PEP between two pepkeys servers as between two local users: the remote contact's caps are learnt by
// disco#info over s2s from the full JID of its presence and filter notifications (+notify); the access model
// (roster groups, whitelist) decides which remote contacts get them; a remote contact's new resource gets
// the last item; a remote server's refusal reaches the local client with its condition.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFederatedPair } from '../../helpers/federation.ts';
import { befriendAcross } from '../../helpers/roster-setup.ts';
import { RawClient } from '../../helpers/raw-client.ts';
import type { TestServer } from '../../helpers/server.ts';
import type { CapsService } from '../../../src/server/modules/caps/index.ts';
import type { Element } from '../../../src/xml/index.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const OWNER = 'http://jabber.org/protocol/pubsub#owner';
const EVENT = 'http://jabber.org/protocol/pubsub#event';
const ERRORS = 'http://jabber.org/protocol/pubsub#errors';
const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

const options = (fields: Record<string, string>) =>
  `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>${Object.entries(fields).map(([k, v]) => `<field var='pubsub#${k}'><value>${v}</value></field>`).join('')}</x></publish-options>`;
const publish = (node: string, id: string, opts?: Record<string, string>) =>
  `<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='${node}'><item id='${id}'><v xmlns='urn:test'>${id}</v></item></publish>${opts ? options(opts) : ''}</pubsub></iq>`;
const eventItem = (e: Element, node: string) => {
  const items = e.name === 'message' ? e.getChild('event', EVENT)?.getChild('items') : undefined;
  return items?.attrs.node === node ? items.getChild('item')?.attrs.id : undefined;
};
const errorOf = (iq: Element) => {
  const err = iq.getChild('error');
  return { condition: err?.elements.find((e) => e.ns === STANZAS && e.local !== 'text')?.local, pubsub: err?.elements.find((e) => e.ns === ERRORS)?.local };
};

/** Logs in on `t`, announces caps with these +notify interests, and waits until `knower` has verified them over s2s. */
async function loginRemote(t: TestServer, knower: TestServer, opened: RawClient[], jid: string, resource: string, notify: string[]): Promise<RawClient> {
  const c = await RawClient.connect(t.port);
  opened.push(c);
  await c.login(jid, 'pw', resource);
  c.sendPresenceWithCaps(notify.map((n) => `${n}+notify`));
  const caps = knower.server.service<CapsService>('caps')!;
  for (let i = 0; i < 500 && !caps.remoteFeatures(`${jid}/${resource}`); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(caps.remoteFeatures(`${jid}/${resource}`), `${knower.server.hosts[0]} never learnt the caps of ${jid}/${resource}`);
  return c;
}

describe('PEP across two pepkeys servers', () => {
  let cap: TestServer;
  let mon: TestServer;
  let stop: () => Promise<void>;
  const opened: RawClient[] = [];
  let juliet: RawClient;
  let romeo: RawClient;
  let benvolio: RawClient;

  before(async () => {
    ({ cap, mon, stop } = await startFederatedPair({ 'juliet@capulet.lit': 'pw' }, { 'romeo@montague.lit': 'pw', 'benvolio@montague.lit': 'pw' }));
    const c = (t: TestServer) => ({ host: '127.0.0.1', port: t.port, tls: { rejectUnauthorized: false } });
    await befriendAcross(c(cap), c(mon), { jid: 'juliet@capulet.lit', password: 'pw' }, { jid: 'romeo@montague.lit', password: 'pw' }, ['Friends'], []);
    await befriendAcross(c(cap), c(mon), { jid: 'juliet@capulet.lit', password: 'pw' }, { jid: 'benvolio@montague.lit', password: 'pw' }, ['Kinsmen'], []);
    juliet = await RawClient.connect(cap.port);
    opened.push(juliet);
    await juliet.login('juliet@capulet.lit', 'pw', 'balcony');
    juliet.send('<presence/>');
    romeo = await loginRemote(mon, cap, opened, 'romeo@montague.lit', 'orchard', ['urn:test:a', 'urn:test:keys', 'urn:test:white']);
    benvolio = await loginRemote(mon, cap, opened, 'benvolio@montague.lit', 'square', ['urn:test:a', 'urn:test:keys']);
  });
  after(async () => {
    for (const c of opened) c.destroy();
    await stop?.();
  });

  it('notifies a remote contact of the nodes his caps ask for (+notify), and not of the others', async () => {
    assert.equal((await juliet.iq(publish('urn:test:b', 'b1'))).attrs.type, 'result');
    assert.equal((await juliet.iq(publish('urn:test:a', 'a1'))).attrs.type, 'result');
    const ev = await romeo.waitStanza((e) => eventItem(e, 'urn:test:a') === 'a1', 10_000);
    assert.equal(ev.attrs.from, 'juliet@capulet.lit');
    assert.equal(ev.attrs.to, 'romeo@montague.lit/orchard');
    // One link carries both in publish order: b1 would have arrived first.
    assert.ok(!romeo.stanzas.some((e) => eventItem(e, 'urn:test:b') !== undefined), 'no urn:test:b notification without +notify');
  });

  it('notifies only the remote contacts in the roster groups the node allows', async () => {
    assert.equal((await juliet.iq(publish('urn:test:keys', 'k1', { access_model: 'roster', roster_groups_allowed: 'Friends' }))).attrs.type, 'result');
    await romeo.waitStanza((e) => eventItem(e, 'urn:test:keys') === 'k1', 10_000);
    assert.equal((await juliet.iq(publish('urn:test:a', 'a2'))).attrs.type, 'result');
    await benvolio.waitStanza((e) => eventItem(e, 'urn:test:a') === 'a2', 10_000);
    assert.ok(!benvolio.stanzas.some((e) => eventItem(e, 'urn:test:keys') !== undefined), 'Benvolio is not in Friends');
  });

  it('notifies a remote whitelisted member', async () => {
    assert.equal((await juliet.iq(publish('urn:test:white', 'w0', { access_model: 'whitelist' }))).attrs.type, 'result');
    const set = await juliet.iq(`<iq type='set'><pubsub xmlns='${OWNER}'><affiliations node='urn:test:white'><affiliation jid='romeo@montague.lit' affiliation='member'/></affiliations></pubsub></iq>`);
    assert.equal(set.attrs.type, 'result', set.toString());
    assert.equal((await juliet.iq(publish('urn:test:white', 'w1'))).attrs.type, 'result');
    await romeo.waitStanza((e) => eventItem(e, 'urn:test:white') === 'w1', 10_000);
  });

  it('sends the last item to a remote contact\'s new resource when its presence arrives, as the access model allows', async () => {
    const tomb = await loginRemote(mon, cap, opened, 'romeo@montague.lit', 'tomb', ['urn:test:keys']);
    const last = await tomb.waitStanza((e) => eventItem(e, 'urn:test:keys') === 'k1', 10_000);
    assert.equal(last.attrs.from, 'juliet@capulet.lit');
    const street = await loginRemote(mon, cap, opened, 'benvolio@montague.lit', 'street', ['urn:test:keys', 'urn:test:a']);
    await street.waitStanza((e) => eventItem(e, 'urn:test:a') === 'a2', 10_000);
    assert.ok(!street.stanzas.some((e) => eventItem(e, 'urn:test:keys') !== undefined), 'Benvolio is not in Friends');
  });

  it('relays a refusal of the remote server to the local client with its condition', async () => {
    const r = await benvolio.iq(`<iq type='get' to='juliet@capulet.lit'><pubsub xmlns='${PUBSUB}'><items node='urn:test:keys'/></pubsub></iq>`, 10_000);
    assert.equal(r.attrs.type, 'error');
    assert.deepEqual(errorOf(r), { condition: 'not-authorized', pubsub: 'not-in-roster-group' });
    const missing = await juliet.iq(`<iq type='get' to='romeo@montague.lit'><pubsub xmlns='${PUBSUB}'><items node='urn:test:none'/></pubsub></iq>`, 10_000);
    assert.equal(errorOf(missing).condition, 'item-not-found');
  });

  it('stops notifying a remote resource once it went unavailable, and keeps its siblings', async () => {
    romeo.send(`<presence type='unavailable'/>`);
    const caps = cap.server.service<CapsService>('caps')!;
    for (let i = 0; i < 500 && caps.remoteFeatures('romeo@montague.lit/orchard'); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(caps.remoteFeatures('romeo@montague.lit/orchard'), undefined);
    assert.ok(caps.remoteFeatures('romeo@montague.lit/tomb'));
  });
});
