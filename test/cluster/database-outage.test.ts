// Database outage under a two-node cluster: PostgreSQL is killed and started again. While it is down a
// publish fails with a clear error (and other nodes keep their bus and sessions); after it is back,
// publishing works again, and what was refused was not half-written.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { clusterAvailability, startClusterEnv, type ClusterEnv } from '../helpers/cluster.ts';
import type { PostgresServer } from '../helpers/postgres.ts';
import type { TestServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { until } from '../helpers/until.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const NODE = 'urn:xmpp:test:db';
const availability = clusterAvailability();

describe('cluster: database outage', { skip: availability === 'skip' }, () => {
  let env: ClusterEnv | undefined;
  let pg: PostgresServer | undefined;
  let nodes: TestServer[] = [];
  const clients: RawClient[] = [];

  before(async () => {
    env = await startClusterEnv({
      ids: ['n1', 'n2'],
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' },
      cluster: { heartbeat_ms: 100, lease_ms: 1000 },
      pool: { connectionTimeoutMillis: 2000 },
    });
    ({ nodes, pg } = env);
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await env?.stop();
  });

  const publish = (id: string) => `<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='${NODE}'><item id='${id}'><entry xmlns='urn:test'>${id}</entry></item></publish></pubsub></iq>`;

  it('a publish fails with an error while PostgreSQL is down and works again after, with nothing half-written', { timeout: 120_000 }, async () => {
    const juliet = await RawClient.connect(nodes[0]!.port);
    clients.push(juliet);
    await juliet.login('juliet@localhost', 'pw', 'balcony');
    const romeo = await RawClient.connect(nodes[1]!.port);
    clients.push(romeo);
    await romeo.login('romeo@localhost', 'pw', 'orchard');
    assert.equal((await juliet.iq(publish('before'), 20_000)).attrs.type, 'result');

    pg!.crash();
    const r = await juliet.iq(publish('during'), 60_000);
    assert.equal(r.attrs.type, 'error');
    assert.ok(r.getChild('error')?.getChild('internal-server-error', 'urn:ietf:params:xml:ns:xmpp-stanzas'), r.toString());
    // The cluster itself does not depend on the database: both nodes still see each other and their sessions.
    assert.equal(nodes[1]!.server.cluster!.status().nodes.length, 2);
    assert.ok(nodes[1]!.server.sessions.get('juliet@localhost/balcony'));

    pg!.restart();
    await until(async () => (await juliet.iq(publish(`after-${Date.now()}`), 20_000).catch(() => undefined))?.attrs.type === 'result', 'publishing works again', 60_000);
    const ids = (await nodes[1]!.storage.pubsub.getItems('juliet@localhost', NODE)).map((i) => i.id);
    assert.ok(ids.includes('before'));
    assert.ok(!ids.includes('during'), 'a refused publish left nothing behind');
  });
});
