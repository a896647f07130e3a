// A cluster for tests: a private PostgreSQL database and nats-server, and pepkeys nodes in this process
// (startTestServer) on both, each with its own storage pool, listeners, caches and bus connection. The
// accounts go in once, through the first node. stop() ends the nodes, then NATS and PostgreSQL.
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';
import { POSTGRES_MISSING, startPostgres, type PostgresServer } from './postgres.ts';
import { startNats, type NatsServer } from './nats.ts';
import { startTestServer, type TestServer } from './server.ts';
import { until } from './until.ts';
import type { Logger } from '../../src/server/core/logger.ts';

export { postgresAvailability as clusterAvailability } from './postgres.ts';

export interface ClusterEnv {
  pg: PostgresServer;
  nats: NatsServer;
  /** The database every node uses. */
  url: string;
  nodes: TestServer[];
  stop(): Promise<void>;
}

export interface ClusterEnvOptions {
  /** Node ids, one in-process node each (may be empty: PostgreSQL and NATS only). */
  ids: string[];
  users?: Record<string, string>;
  hosts?: string[];
  /** [cluster] settings beyond enabled, node_id and bus_url. */
  cluster?: Record<string, unknown>;
  /** PostgreSQL pool settings of each node. */
  pool?: { connectionTimeoutMillis?: number };
  /** Other tables of each node's configuration (s2s, ...). */
  config?: Record<string, unknown>;
  /** One SASL secret for every node, as an operator copies it (docs/cluster.md). */
  saslSecret?: Buffer;
  /** A node's logger (log-capture.ts), by node id; default silent. */
  logger?: (id: string) => Logger | undefined;
}

export async function startClusterEnv(opts: ClusterEnvOptions): Promise<ClusterEnv> {
  const pg = await startPostgres();
  if (!pg) throw new Error(POSTGRES_MISSING);
  const nodes: TestServer[] = [];
  let nats: NatsServer | undefined;
  const stop = async () => {
    for (const n of nodes) await n.stop().catch(() => undefined);
    await nats?.close();
    await pg.stop();
  };
  try {
    nats = await startNats();
    const url = await pg.createDatabase();
    for (const [i, id] of opts.ids.entries()) {
      nodes.push(await startTestServer({
        hosts: opts.hosts,
        storage: await openPostgresStorage({ connectionString: url, ...opts.pool }),
        users: i === 0 ? opts.users : {},
        config: { ...opts.config, cluster: { enabled: true, node_id: id, bus_url: nats.url, ...opts.cluster } },
        saslSecret: opts.saslSecret,
        logger: opts.logger?.(id),
      }));
    }
    await until(() => nodes.every((n) => n.server.cluster!.status().nodes.length === nodes.length), 'every node sees every node');
    return { pg, nats, url, nodes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
