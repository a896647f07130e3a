// `pepkeys cluster status` over the admin socket: on a single node it says clustering is off; on a node of
// a two-node cluster (PostgreSQL and NATS started here) it lists both nodes and their sessions; and a
// cluster on SQLite is refused at start.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';
import { startRunningServer, type RunningServer } from '../server/admin/running-server.ts';
import { postgresAvailability, POSTGRES_MISSING, startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { startNats, type NatsServer } from '../helpers/nats.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { until } from '../helpers/until.ts';

describe('pepkeys cluster status', () => {
  it('on a single node: clustering is off', async () => {
    const t = await startRunningServer(['localhost']);
    try {
      const r = await t.cli(['cluster', 'status']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /clustering is off/);
    } finally {
      await t.stop();
    }
  });

  it('refuses a cluster on SQLite: every node must see the same data', async () => {
    await assert.rejects(startRunningServer(['localhost'], { cluster: { enabled: true, node_id: 'n1' } }), /cluster\.enabled needs storage\.driver = "postgres"/);
  });

  const availability = postgresAvailability();
  describe('on a node of a two-node cluster', { skip: availability === 'skip' }, () => {
    let pg: PostgresServer | undefined;
    let nats: NatsServer | undefined;
    let n1: RunningServer | undefined;
    let n2: TestServer | undefined;
    let client: RawClient | undefined;
    before(async () => {
      if (availability === 'missing') throw new Error(POSTGRES_MISSING);
      pg = await startPostgres();
      nats = await startNats();
      const url = await pg!.createDatabase();
      n1 = await startRunningServer(['localhost'], { storage: { driver: 'postgres', url }, cluster: { enabled: true, node_id: 'n1', bus_url: nats.url, heartbeat_ms: 100, lease_ms: 1000 } });
      n2 = await startTestServer({
        storage: await openPostgresStorage({ connectionString: url }),
        users: { 'romeo@localhost': 'pw' },
        config: { cluster: { enabled: true, node_id: 'n2', bus_url: nats.url, heartbeat_ms: 100, lease_ms: 1000 } },
      });
      client = await RawClient.connect(n2.port);
      await client.login('romeo@localhost', 'pw', 'r');
      await until(() => n1!.server.sessions.get('romeo@localhost/r') !== undefined, 'n1 sees the session on n2');
    });
    after(async () => {
      client?.destroy();
      await n2?.stop();
      await n1?.stop();
      await nats?.close();
      await pg?.stop();
    });

    it('lists the nodes, sessions per node and the bus state', async () => {
      const r = await n1!.cli(['cluster', 'status']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^node n1, bus connected\n/);
      assert.match(r.stdout, /^n1 \*\s+0\s+\(this node\)$/m);
      assert.match(r.stdout, /^n2\s+1\s+[\d.]+ s ago$/m);
      const j = await n1!.cli(['cluster', 'status', '--json']);
      const s = JSON.parse(j.stdout);
      assert.equal(s.node, 'n1');
      assert.equal(s.bus, 'connected');
      assert.deepEqual(s.nodes.map((n: { id: string; sessions: number }) => [n.id, n.sessions]), [['n1', 0], ['n2', 1]]);
    });
  });
});
