// A PEP fan-out to another node is one bus message per node; NATS refuses messages over its max_payload
// (1 MiB by default). One publish of a large item to many sessions on the other node must still arrive.
// Found by bench/cluster/two-nodes.ts: with 250 subscribers on node B and 16 items in flight, node B's
// subscribers got nothing.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CapsService } from '../../src/server/modules/caps/index.ts';
import { clusterAvailability, startClusterEnv, type ClusterEnv } from '../helpers/cluster.ts';
import { advertiseCaps, connectPeer, xml, type Peer } from '../helpers/xmpp-js.ts';
import { until } from '../helpers/until.ts';

const NODE = 'urn:xmpp:tmp:pubkey';
const PUBSUB = 'http://jabber.org/protocol/pubsub';
const EVENT = 'http://jabber.org/protocol/pubsub#event';
const RESOURCES = 24;
const montagues = Array.from({ length: RESOURCES }, (_, i) => `montague${i}`);
const users: Record<string, string> = { 'juliet@capulet.lit': 'juliet-pw', ...Object.fromEntries(montagues.map((u) => [`${u}@montague.lit`, `${u}-pw`])) };

describe('a fan-out larger than one bus message', { skip: clusterAvailability() === 'skip' }, () => {
  let env: ClusterEnv | undefined;
  const peers: Peer[] = [];
  before(async () => {
    env = await startClusterEnv({ ids: ['a', 'b'], users, hosts: ['capulet.lit', 'montague.lit'] });
    const s = env.nodes[0]!.storage;
    for (const u of montagues) {
      await s.roster.putItem('juliet@capulet.lit', { jid: `${u}@montague.lit`, subscription: 'both', groups: [] });
      await s.roster.putItem(`${u}@montague.lit`, { jid: 'juliet@capulet.lit', subscription: 'both', groups: [] });
    }
  });
  after(async () => {
    for (const p of peers) await p.stop().catch(() => undefined);
    await env?.stop();
  });

  it(`a 60 KB item reaches all ${RESOURCES} Montagues on node B (over 1 MiB in one batch)`, async () => {
    const nodes = env!.nodes;
    const juliet = await connectPeer({ port: nodes[0]!.port, domain: 'capulet.lit', username: 'juliet', password: users['juliet@capulet.lit']!, resource: 'balcony' });
    peers.push(juliet);
    await juliet.xmpp.send(xml('presence'));
    const romeos: Peer[] = [];
    for (let i = 0; i < RESOURCES; i++) {
      const r = await connectPeer({ port: nodes[1]!.port, domain: 'montague.lit', username: montagues[i]!, password: users[`${montagues[i]}@montague.lit`]!, resource: 'house' });
      peers.push(r);
      romeos.push(r);
      await r.xmpp.send(xml('presence', null, advertiseCaps(r, [`${NODE}+notify`])));
    }
    const caps = nodes[0]!.server.service<CapsService>('caps')!;
    await until(() => romeos.every((r) => caps.features(r.jid) !== undefined), 'node A knows the caps of every Montague');
    const big = 'k'.repeat(60_000);
    await juliet.iq(xml('iq', { type: 'set' }, xml('pubsub', { xmlns: PUBSUB },
      xml('publish', { node: NODE }, xml('item', { id: 'big' }, xml('key', { xmlns: NODE }, xml('x509cert', null, big)))))));
    const got = await Promise.all(romeos.map((r) => r.waitFor((el) => el.getChild('event', EVENT)?.getChild('items')?.getChild('item')?.attrs.id === 'big', 10_000)));
    assert.equal(got.length, RESOURCES);
  });
});
