// Three pepkeys nodes as one service: one PostgreSQL database and one nats-server, both started by this file,
// and three XmppServer instances in this process, each with its own listeners, caches and bus connection.
// Juliet, Romeo and the Nurse sit on different nodes: the XEP-0222 story, presence and chat across nodes,
// access control right after a roster change made on another node, and a resource conflict across nodes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CapsService } from '../../src/server/modules/caps/index.ts';
import type { RosterItem } from '../../src/storage/types.ts';
import { clusterAvailability, startClusterEnv, type ClusterEnv } from '../helpers/cluster.ts';
import type { TestServer } from '../helpers/server.ts';
import { advertiseCaps, connectPeer, xml, type Peer, type XjsElement } from '../helpers/xmpp-js.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { until } from '../helpers/until.ts';

const NODE = 'urn:xmpp:tmp:pubkey';
const PUBSUB = 'http://jabber.org/protocol/pubsub';
const EVENT = 'http://jabber.org/protocol/pubsub#event';
const ERRORS = 'http://jabber.org/protocol/pubsub#errors';
const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

const users = {
  'juliet@capulet.lit': 'juliet-pw',
  'nurse@capulet.lit': 'nurse-pw',
  'romeo@montague.lit': 'romeo-pw',
};
type User = keyof typeof users;

const isEvent = (el: XjsElement) => el.name === 'message' && el.getChild('event', EVENT)?.getChild('items')?.attrs.node === NODE;
const itemIds = (el: XjsElement) => el.getChild('event', EVENT)!.getChild('items')!.getChildren('item').map((i) => i.attrs.id);

function publish(id: string, options: Record<string, string>) {
  return xml('iq', { type: 'set' }, xml('pubsub', { xmlns: PUBSUB },
    xml('publish', { node: NODE }, xml('item', { id }, xml('key', { xmlns: NODE }, xml('x509cert', null, id)))),
    xml('publish-options', null, xml('x', { xmlns: 'jabber:x:data', type: 'submit' },
      xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', null, 'http://jabber.org/protocol/pubsub#publish-options')),
      ...Object.entries(options).map(([k, v]) => xml('field', { var: `pubsub#${k}` }, xml('value', null, v)))))));
}
const listing1 = { persist_items: 'true', send_last_published_item: 'never', access_model: 'roster', roster_groups_allowed: 'Friends' };

function errorOf(e: unknown): { condition: string | undefined; pubsub: string | undefined } {
  const err = (e as { element?: XjsElement }).element;
  const kids = err?.getChildElements() ?? [];
  return { condition: kids.find((k) => k.attrs.xmlns === STANZAS)?.name, pubsub: kids.find((k) => k.attrs.xmlns === ERRORS)?.name };
}

const availability = clusterAvailability();

describe('three nodes on one PostgreSQL and one NATS', { skip: availability === 'skip' }, () => {
  let env: ClusterEnv | undefined;
  let nodes: TestServer[] = [];
  const peers: Peer[] = [];

  before(async () => {
    env = await startClusterEnv({ ids: ['n1', 'n2', 'n3'], users, hosts: ['capulet.lit', 'montague.lit'], cluster: { heartbeat_ms: 200, lease_ms: 1000 } });
    nodes = env.nodes;
    // Relationships as XEP-0222 §1.2 lists them.
    const both = (jid: string, groups: string[]): RosterItem => ({ jid, subscription: 'both', groups });
    const s = nodes[0]!.storage;
    await s.roster.putItem('juliet@capulet.lit', both('romeo@montague.lit', ['Friends']));
    await s.roster.putItem('juliet@capulet.lit', both('nurse@capulet.lit', ['Servants']));
    await s.roster.putItem('romeo@montague.lit', both('juliet@capulet.lit', []));
    await s.roster.putItem('nurse@capulet.lit', both('juliet@capulet.lit', []));
  });
  after(async () => {
    for (const p of peers) await p.stop().catch(() => undefined);
    await env?.stop();
  });

  /** Logs in on node `at` (0-based), advertising +notify for the key node, and waits for its caps to be verified there. */
  async function login(at: number, jid: User, resource: string): Promise<Peer> {
    const [username, domain] = jid.split('@') as [string, string];
    const t = nodes[at]!;
    const p = await connectPeer({ port: t.port, domain, username, password: users[jid], resource });
    peers.push(p);
    await p.xmpp.send(xml('presence', null, advertiseCaps(p, [`${NODE}+notify`])));
    const caps = t.server.service<CapsService>('caps')!;
    await until(() => caps.features(p.jid) !== undefined, `caps of ${p.jid} verified`);
    // Every node knows the session, with its caps, before anyone publishes to it.
    await until(() => nodes.every((n) => n.server.service<CapsService>('caps')!.features(p.jid) !== undefined), `${p.jid} replicated`);
    return p;
  }

  let juliet: Peer;
  let julietChamber: Peer;
  let romeo: Peer;
  let nurse: Peer;

  it('XEP-0222: Juliet (node 1) publishes; Romeo (node 2, Friends) gets it, the Nurse (node 3, Servants) does not', async () => {
    juliet = await login(0, 'juliet@capulet.lit', 'balcony');
    romeo = await login(1, 'romeo@montague.lit', 'orchard');
    nurse = await login(2, 'nurse@capulet.lit', 'kitchen');
    await juliet.iq(publish('key1', listing1));
    const got = await romeo.waitFor(isEvent, 10_000);
    assert.equal(got.attrs.from, 'juliet@capulet.lit');
    assert.equal(got.attrs.to, 'romeo@montague.lit/orchard');
    assert.deepEqual(itemIds(got), ['key1']);
    await juliet.waitFor(isEvent);
    await nurse.none(isEvent, 300);
    await romeo.none(isEvent, 100);

    // Retrieval is decided by the requester's node from the shared database.
    const items = await romeo.iq(xml('iq', { type: 'get', to: 'juliet@capulet.lit' }, xml('pubsub', { xmlns: PUBSUB }, xml('items', { node: NODE }))));
    assert.deepEqual(items.getChild('pubsub')!.getChild('items')!.getChildren('item').map((i) => i.attrs.id), ['key1']);
    const e = await nurse.iq(xml('iq', { type: 'get', to: 'juliet@capulet.lit' }, xml('pubsub', { xmlns: PUBSUB }, xml('items', { node: NODE })))).then(() => undefined, (err) => err);
    assert.deepEqual(errorOf(e), { condition: 'not-authorized', pubsub: 'not-in-roster-group' });
  });

  it('presence and chat cross nodes: Romeo sees Juliet available and gets her message', async () => {
    const m = romeo.waitFor((el) => el.name === 'message' && el.getChildText('body') === 'wherefore', 10_000);
    await juliet.xmpp.send(xml('message', { to: 'romeo@montague.lit', type: 'chat' }, xml('body', null, 'wherefore')));
    const msg = await m;
    assert.equal(msg.attrs.from, 'juliet@capulet.lit/balcony');
    // A probe answered across nodes: a new resource of Juliet on node 3 learns Romeo is there.
    julietChamber = await login(2, 'juliet@capulet.lit', 'chamber');
    await until(() => nodes[2]!.server.sessions.get('romeo@montague.lit/orchard')?.available === true, 'node 3 sees romeo available');
  });

  it('access right after a roster change on another node: Romeo, moved out of Friends on node 3, gets nothing of a publish on node 1', async () => {
    // Warm every cache that could answer "Romeo may": a notification and a retrieval.
    await juliet.iq(publish('key2', listing1));
    assert.deepEqual(itemIds(await romeo.waitFor(isEvent, 10_000)), ['key2']);
    await romeo.iq(xml('iq', { type: 'get', to: 'juliet@capulet.lit' }, xml('pubsub', { xmlns: PUBSUB }, xml('items', { node: NODE }))));
    // Juliet's other resource, on node 3, moves Romeo to another group; the change is acknowledged...
    await julietChamber.iq(xml('iq', { type: 'set' }, xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'romeo@montague.lit' }, xml('group', null, 'Exiled')))));
    // ...and at once her resource on node 1 publishes: Romeo (node 2) must get nothing, nor retrieve it.
    await juliet.iq(publish('key3', listing1));
    await juliet.waitFor((el) => isEvent(el) && itemIds(el)[0] === 'key3');
    await romeo.none(isEvent, 500);
    const e = await romeo.iq(xml('iq', { type: 'get', to: 'juliet@capulet.lit' }, xml('pubsub', { xmlns: PUBSUB }, xml('items', { node: NODE })))).then(() => undefined, (err) => err);
    assert.deepEqual(errorOf(e), { condition: 'not-authorized', pubsub: 'not-in-roster-group' });
  });

  it('RFC 6120 §7.7.2.2 across nodes: the same full JID bound on another node wins; the first gets <conflict/>', async () => {
    const first = await RawClient.connect(nodes[0]!.port);
    await first.login('nurse@capulet.lit', users['nurse@capulet.lit'], 'phone');
    await until(() => nodes[1]!.server.sessions.get('nurse@capulet.lit/phone') !== undefined, 'node 2 sees the first session');
    const second = await RawClient.connect(nodes[1]!.port);
    try {
      await second.login('nurse@capulet.lit', users['nurse@capulet.lit'], 'phone');
      await first.waitText(/<stream:error><conflict xmlns=["']urn:ietf:params:xml:ns:xmpp-streams["']/, 10_000);
      await until(() => nodes[2]!.server.sessions.get('nurse@capulet.lit/phone') !== undefined && nodes[0]!.server.sessions.get('nurse@capulet.lit/phone')?.isClosed === false, 'the new session is known everywhere');
      assert.equal(nodes[0]!.server.sessions.size, nodes[0]!.server.cluster!.status().nodes.find((n) => n.self)!.sessions);
    } finally {
      first.destroy();
      second.destroy();
    }
  });

  it('cluster status names the nodes and their sessions', async () => {
    const st = nodes[0]!.server.cluster!.status();
    assert.equal(st.bus, 'connected');
    assert.deepEqual(st.nodes.map((n) => n.id), ['n1', 'n2', 'n3']);
    await until(() => nodes[0]!.server.cluster!.status().nodes.find((n) => n.id === 'n2')!.sessions === nodes[1]!.server.sessions.size, 'n1 counts n2\'s sessions');
  });
});
