// `pepkeys cluster status` over the admin socket: on a single node it says clustering is off; on a node of
// a two-node cluster (PostgreSQL and NATS started here) it lists both nodes and their sessions; and a
// cluster on SQLite is refused at start.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRunningServer, type RunningServer } from '../server/admin/running-server.ts';
import { clusterAvailability, startClusterEnv, type ClusterEnv } from '../helpers/cluster.ts';
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

  const availability = clusterAvailability();
  describe('on a node of a two-node cluster', { skip: availability === 'skip' }, () => {
    let env: ClusterEnv | undefined;
    let n1: RunningServer | undefined;
    let client: RawClient | undefined;
    before(async () => {
      // n2 in-process; n1 started as `pepkeys serve` starts, with its admin socket.
      env = await startClusterEnv({ ids: ['n2'], users: { 'romeo@localhost': 'pw' }, cluster: { heartbeat_ms: 100, lease_ms: 1000 } });
      n1 = await startRunningServer(['localhost'], { storage: { driver: 'postgres', url: env.url }, cluster: { enabled: true, node_id: 'n1', bus_url: env.nats.url, heartbeat_ms: 100, lease_ms: 1000 } });
      client = await RawClient.connect(env.nodes[0]!.port);
      await client.login('romeo@localhost', 'pw', 'r');
      await until(() => n1!.server.sessions.get('romeo@localhost/r') !== undefined, 'n1 sees the session on n2');
    });
    after(async () => {
      client?.destroy();
      await n1?.stop();
      await env?.stop();
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
