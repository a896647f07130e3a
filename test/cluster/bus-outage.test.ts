// Bus outage: the nats-server of a two-node cluster is killed and started again. Meanwhile each node keeps
// serving its own sessions, a stanza for a session on the other node is bounced with recipient-unavailable
// (not lost, not held for ever), and once the bus is back the nodes find each other and cross-node
// delivery works again. PostgreSQL and NATS are started by this file.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { clusterAvailability, startClusterEnv, type ClusterEnv } from '../helpers/cluster.ts';
import type { NatsServer } from '../helpers/nats.ts';
import type { TestServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { until } from '../helpers/until.ts';

const availability = clusterAvailability();

describe('cluster bus outage', { skip: availability === 'skip' }, () => {
  let env: ClusterEnv | undefined;
  let nats: NatsServer | undefined;
  let nodes: TestServer[] = [];
  const clients: RawClient[] = [];

  before(async () => {
    env = await startClusterEnv({
      ids: ['n1', 'n2'],
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw', 'benvolio@localhost': 'pw' },
      cluster: { heartbeat_ms: 100, lease_ms: 1000, request_timeout_ms: 500 },
    });
    ({ nodes, nats } = env);
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await env?.stop();
  });

  async function login(node: number, user: string): Promise<RawClient> {
    const c = await RawClient.connect(nodes[node]!.port);
    clients.push(c);
    await c.login(`${user}@localhost`, 'pw', 'r');
    return c;
  }
  const chat = (to: string, id: string) => `<message to='${to}' type='chat' id='${id}'><body>${id}</body></message>`;

  it('local service goes on, cross-node stanzas bounce with recipient-unavailable, and all recovers with the bus', async () => {
    const juliet = await login(0, 'juliet');
    const benvolio = await login(0, 'benvolio');
    const romeo = await login(1, 'romeo');
    await until(() => nodes[0]!.server.sessions.get('romeo@localhost/r') !== undefined, 'n1 sees romeo');
    juliet.send(chat('romeo@localhost/r', 'before'));
    await romeo.waitStanza((e) => e.attrs.id === 'before', 10_000);

    await nats!.stop();
    await until(() => nodes.every((n) => n.server.cluster!.status().bus === 'disconnected'), 'both nodes notice the outage');

    juliet.send(chat('benvolio@localhost/r', 'local'));
    await benvolio.waitStanza((e) => e.attrs.id === 'local', 10_000);

    juliet.send(chat('romeo@localhost/r', 'during'));
    const bounce = await juliet.waitStanza((e) => e.attrs.id === 'during', 10_000);
    assert.equal(bounce.attrs.type, 'error');
    assert.ok(bounce.getChild('error')?.getChild('recipient-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas'), bounce.toString());
    // Leases do not run out while a node cannot hear anyone: romeo is still known on n1, not ended.
    assert.ok(nodes[0]!.server.sessions.get('romeo@localhost/r'));

    await nats!.start();
    await until(() => nodes.every((n) => n.server.cluster!.status().bus === 'connected'), 'both nodes reconnect', 30_000);
    await until(() => nodes[1]!.server.sessions.get('juliet@localhost/r') !== undefined && nodes[0]!.server.sessions.get('romeo@localhost/r') !== undefined, 'sessions known again');
    // The first stanzas after a reconnection may still meet the old subscriptions being replayed: retry until one passes.
    let n = 0;
    await until(async () => {
      const id = `after-${n++}`;
      juliet.send(chat('romeo@localhost/r', id));
      return romeo.waitStanza((e) => e.attrs.id === id, 1500).then(() => true, () => false);
    }, 'a message crosses nodes again', 30_000);
    await romeo.waitText(/<stream:stream/, 10); // the stream is still the one opened before the outage
    assert.equal(romeo.text.match(/<stream:error/g), null);
  });
});
