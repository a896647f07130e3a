// Offline storage, last-item delivery and presence probes behave across nodes as on one node (issue 16).
// One PostgreSQL and one nats-server started here, two pepkeys nodes in this process. The same story runs
// twice: both users on node A, then the publisher on node A and the contact logging in on node B.
// While the contact is offline the publisher sends him a message and publishes to a presence-access PEP node;
// when he comes online (caps +notify) he gets the stored message, the last item, and the publisher's presence
// in answer to his probe.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { RosterItem } from '../../src/storage/types.ts';
import { clusterAvailability, startClusterEnv, type ClusterEnv } from '../helpers/cluster.ts';
import { advertiseCaps, connectPeer, xml, type Peer, type XjsElement } from '../helpers/xmpp-js.ts';
import { until } from '../helpers/until.ts';

const NODE = 'urn:xmpp:tmp:pubkey';
const PUBSUB = 'http://jabber.org/protocol/pubsub';
const EVENT = 'http://jabber.org/protocol/pubsub#event';

const users = {
  'juliet@capulet.lit': 'juliet-pw',
  'romeo@montague.lit': 'romeo-pw',
  'rosaline@capulet.lit': 'rosaline-pw',
  'benvolio@montague.lit': 'benvolio-pw',
};
type User = keyof typeof users;

function publish(id: string) {
  return xml('iq', { type: 'set' }, xml('pubsub', { xmlns: PUBSUB },
    xml('publish', { node: NODE }, xml('item', { id }, xml('key', { xmlns: NODE }, xml('x509cert', null, id)))),
    xml('publish-options', null, xml('x', { xmlns: 'jabber:x:data', type: 'submit' },
      xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', null, 'http://jabber.org/protocol/pubsub#publish-options')),
      xml('field', { var: 'pubsub#access_model' }, xml('value', null, 'presence'))))));
}

const availability = clusterAvailability();

describe('offline messages, last item and probes across two nodes', { skip: availability === 'skip' }, () => {
  let env: ClusterEnv | undefined;
  const peers: Peer[] = [];

  before(async () => {
    env = await startClusterEnv({ ids: ['a', 'b'], users, hosts: ['capulet.lit', 'montague.lit'], cluster: { heartbeat_ms: 200, lease_ms: 1000 } });
    const both = (jid: string): RosterItem => ({ jid, subscription: 'both', groups: [] });
    const s = env.nodes[0]!.storage;
    await s.roster.putItem('juliet@capulet.lit', both('romeo@montague.lit'));
    await s.roster.putItem('romeo@montague.lit', both('juliet@capulet.lit'));
    await s.roster.putItem('rosaline@capulet.lit', both('benvolio@montague.lit'));
    await s.roster.putItem('benvolio@montague.lit', both('rosaline@capulet.lit'));
  });
  after(async () => {
    for (const p of peers) await p.stop().catch(() => undefined);
    await env?.stop();
  });

  async function connect(at: number, jid: User, resource: string): Promise<Peer> {
    const [username, domain] = jid.split('@') as [string, string];
    const p = await connectPeer({ port: env!.nodes[at]!.port, domain, username, password: users[jid], resource });
    peers.push(p);
    return p;
  }

  async function story(publisher: User, contact: User, contactNode: number): Promise<void> {
    const nodes = env!.nodes;
    const pub = await connect(0, publisher, 'balcony');
    await pub.xmpp.send(xml('presence'));
    // Every node knows the publisher is available before the contact probes.
    await until(() => nodes.every((n) => n.server.sessions.get(pub.jid)?.available === true), `${pub.jid} available everywhere`);
    assert.equal(nodes.some((n) => n.server.sessions.resources(contact).length > 0), false, `${contact} is offline`);

    await pub.xmpp.send(xml('message', { to: contact, type: 'chat' }, xml('body', null, `while you slept, ${contact}`)));
    await until(async () => (await nodes[0]!.storage.offline.count(contact)) === 1, 'the message is stored offline');
    await pub.iq(publish(`key-of-${publisher}`));

    const c = await connect(contactNode, contact, 'orchard');
    await c.xmpp.send(xml('presence', null, advertiseCaps(c, [`${NODE}+notify`])));

    const msg = await c.waitFor((el) => el.name === 'message' && el.getChildText('body') === `while you slept, ${contact}`, 10_000);
    assert.equal(msg.attrs.from, pub.jid);
    assert.ok(msg.getChild('delay', 'urn:xmpp:delay'), 'the stored message carries its delay stamp');

    const isLast = (el: XjsElement) => el.name === 'message' && el.attrs.from === publisher && el.getChild('event', EVENT)?.getChild('items')?.attrs.node === NODE;
    const last = await c.waitFor(isLast, 10_000);
    assert.deepEqual(last.getChild('event', EVENT)!.getChild('items')!.getChildren('item').map((i) => i.attrs.id), [`key-of-${publisher}`]);

    const presence = await c.waitFor((el) => el.name === 'presence' && el.attrs.from === pub.jid, 10_000);
    assert.equal(presence.attrs.type, undefined, 'available presence in answer to the probe');
    assert.equal(await nodes[0]!.storage.offline.count(contact), 0, 'the offline store is emptied');
  }

  it('on one node: Rosaline (A) and Benvolio logging in on A', async () => {
    await story('rosaline@capulet.lit', 'benvolio@montague.lit', 0);
  });

  it('across nodes: Juliet (A) and Romeo logging in on B', async () => {
    await story('juliet@capulet.lit', 'romeo@montague.lit', 1);
  });
});
