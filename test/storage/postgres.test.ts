// The PostgreSQL adapter against a real PostgreSQL server that this file starts (test/helpers/postgres.ts):
// the storage contract, the durable-storage contract (migrations, persistence, acknowledged writes surviving
// SIGKILL of both the writing process and the database server), and two servers ("nodes") sharing one
// database.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStorage, type PostgresStorage } from '../../src/storage/postgres/index.ts';
import { latestSchemaVersion } from '../../src/storage/postgres/migrations.ts';
import type { Storage } from '../../src/storage/types.ts';
import { storageContract } from '../contract/storage-contract.ts';
import { credentials, item } from '../contract/fixtures.ts';
import { durableStorageContract } from '../contract/durable-storage-contract.ts';
import { ktReopenContract } from '../contract/kt-reopen-contract.ts';
import { postgresAvailability, POSTGRES_MISSING, startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { publishBurstTests, seedBurstAccounts } from '../helpers/publish-burst.ts';

const availability = postgresAvailability();

const TABLES = [
  'accounts',
  'roster_versions',
  'roster_items',
  'roster_pending_in',
  'offline_messages',
  'caps',
  'pubsub_nodes',
  'pubsub_items',
  'pubsub_affiliations',
  'pubsub_subscriptions',
  'archive_messages',
  'archive_prefs',
  'blocklist',
  'kt_blocks',
  'kt_jids',
  'kt_names',
  'kt_logs',
];

function suites(server: PostgresServer, contractUrl: string): void {
  // The contract wants an empty store per test: one database and one storage for the whole contract,
  // emptied before each test (opening a storage checks the migrations under an advisory lock).
  storageContract('postgres', {
    open: () => openPostgresStorage({ connectionString: contractUrl }),
    // DELETE, not TRUNCATE: on tables this small it is several times faster (no new files, no fsyncs).
    reset: async () => void (await server.query(TABLES.map((t) => `DELETE FROM ${t};`).join(' '), dbName(contractUrl))),
  });

  durableStorageContract({
    name: 'postgres',
    latestSchemaVersion,
    create: () => server.createDatabase(),
    open: (url) => openPostgresStorage({ connectionString: url }),
    sql: async (url, text) => (await server.query(text, dbName(url))).rows,
    markNewerSchema: async (url) =>
      void (await server.query(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${latestSchemaVersion + 1}, 'future', 0)`, dbName(url))),
    failRosterVersionOf: async (url, owner) =>
      void (await server.query(
        `CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.owner = '${owner}' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$;
         CREATE TRIGGER fail_boom BEFORE INSERT ON roster_versions FOR EACH ROW EXECUTE FUNCTION boom();`,
        dbName(url),
      )),
    batches: (s) => (s as PostgresStorage).stats.batches,
    crash: { writer: 'postgres', alsoKill: () => server.crash(), afterKill: () => server.restart() },
  });

  ktReopenContract('postgres', { create: () => server.createDatabase(), open: (url) => openPostgresStorage({ connectionString: url }) });

  describe('postgres adapter', () => {
    const open = (url: string) => openPostgresStorage({ connectionString: url });

    it('rejects with the connection error when the server cannot be reached', async () => {
      await assert.rejects(
        openPostgresStorage({ connectionString: `postgres://postgres@127.0.0.1:1/none`, connectionTimeoutMillis: 2000 }),
        (err: unknown) => /ECONNREFUSED|connect/i.test(String((err as Error).message ?? err)),
      );
    });

    it('concurrent writes group commit: far fewer transactions than writes, each write acknowledged after COMMIT', async () => {
      const url = await server.createDatabase();
      const s = await open(url);
      try {
        await s.pubsub.createNode({ service: 'alice@example.org', node: 'n', config: {}, createdAt: 1 });
        const before = { ...s.stats };
        await Promise.all(Array.from({ length: 640 }, (_, i) => s.pubsub.publishItem(item('alice@example.org', 'n', `i${i}`), undefined)));
        const ops = s.stats.operations - before.operations;
        const txs = s.stats.transactions - before.transactions;
        assert.equal(ops, 640);
        assert.ok(txs <= 640 / 32, `${txs} transactions for 640 writes`);
        // Visible from a separate connection: committed, not merely written in an open transaction.
        const { rows } = await server.query(`SELECT count(*)::int AS n FROM pubsub_items`, dbName(url));
        assert.equal(rows[0].n, 640);
      } finally {
        await s.close();
      }
    });
  });

  describe('postgres: two servers sharing one database', () => {
    let a: PostgresStorage;
    let b: PostgresStorage;
    const both = async (url: string) => {
      a = await openPostgresStorage({ connectionString: url });
      b = await openPostgresStorage({ connectionString: url });
    };
    const closeBoth = async () => {
      await a?.close();
      await b?.close();
    };

    it('roster versions from both servers are unique and grow in commit order; no update is lost', async () => {
      await both(await server.createDatabase());
      try {
        const owner = 'alice@example.org';
        const n = 150;
        // Each server issues its writes in bursts, interleaved with the other's.
        const run = async (s: Storage, tag: string) => {
          const versions: number[] = [];
          for (let burst = 0; burst < 5; burst++) {
            const batch = Array.from({ length: n / 5 }, (_, i) =>
              s.roster.putItem(owner, { jid: `${tag}${burst}-${i}@example.org`, subscription: 'none', groups: [] }),
            );
            versions.push(...(await Promise.all(batch)).map(Number));
          }
          return versions;
        };
        const [va, vb] = await Promise.all([run(a, 'a'), run(b, 'b')]);
        for (const vs of [va, vb]) for (let i = 1; i < vs.length; i++) assert.ok(vs[i] > vs[i - 1], `versions not increasing: ${vs[i - 1]} then ${vs[i]}`);
        const all = [...va, ...vb];
        assert.equal(new Set(all).size, 2 * n, 'a version was handed out twice');
        const roster = await a.roster.get(owner);
        assert.equal(roster.items.length, 2 * n);
        assert.equal(Number(roster.version), Math.max(...all));
        assert.equal((await b.roster.get(owner)).version, roster.version);
      } finally {
        await closeBoth();
      }
    });

    it('items published to one node from both servers keep each server\'s order, and trimming stays exact', async () => {
      await both(await server.createDatabase());
      try {
        const svc = 'alice@example.org';
        await a.pubsub.createNode({ service: svc, node: 'all', config: {}, createdAt: 1 });
        await a.pubsub.createNode({ service: svc, node: 'capped', config: {}, createdAt: 1 });
        const n = 200;
        const publishAll = (s: Storage, tag: string, node: string, max?: number) =>
          Promise.all(Array.from({ length: n }, (_, i) => s.pubsub.publishItem(item(svc, node, `${tag}${i}`), max)));
        const [, , ra, rb] = await Promise.all([
          publishAll(a, 'a', 'all'),
          publishAll(b, 'b', 'all'),
          publishAll(a, 'a', 'capped', 25),
          publishAll(b, 'b', 'capped', 25),
        ]);
        const newestFirst = (await b.pubsub.getItems(svc, 'all')).map((i) => i.id);
        assert.equal(newestFirst.length, 2 * n, 'an item was lost');
        const oldestFirst = [...newestFirst].reverse();
        for (const tag of ['a', 'b']) {
          assert.deepEqual(oldestFirst.filter((id) => id.startsWith(tag)), Array.from({ length: n }, (_, i) => `${tag}${i}`));
        }
        // Capped: exactly 25 remain, and every other id was reported evicted exactly once.
        const remaining = (await a.pubsub.getItems(svc, 'capped')).map((i) => i.id);
        assert.equal(remaining.length, 25);
        assert.equal(await b.pubsub.countItems(svc, 'capped'), 25);
        const evicted = [...ra, ...rb].flatMap((r) => r.evicted);
        assert.equal(new Set(evicted).size, evicted.length, 'an id was evicted twice');
        assert.deepEqual([...evicted, ...remaining].sort(), [...Array.from({ length: n }, (_, i) => `a${i}`), ...Array.from({ length: n }, (_, i) => `b${i}`)].sort());
      } finally {
        await closeBoth();
      }
    });

    it('writes crossing each other\'s rows in opposite order (deadlocks) all complete, in issue order', async (t) => {
      await both(await server.createDatabase());
      try {
        const [x, y] = ['x@example.org', 'y@example.org'];
        const rounds = 20;
        const run = async (s: Storage, first: string, second: string, tag: string) => {
          const out: number[][] = [];
          for (let r = 0; r < rounds; r++) {
            // One batch on each server locking x then y, the other y then x.
            const [v1, v2] = await Promise.all([
              s.roster.putItem(first, { jid: `${tag}${r}@example.org`, subscription: 'none', groups: [] }),
              s.roster.putItem(second, { jid: `${tag}${r}@example.org`, subscription: 'none', groups: [] }),
            ]);
            out.push([Number(v1), Number(v2)]);
          }
          return out;
        };
        await Promise.all([run(a, x, y, 'a'), run(b, y, x, 'b')]);
        t.diagnostic(`rollbacks ${a.stats.rollbacks + b.stats.rollbacks}, retries ${a.stats.retries + b.stats.retries}`);
        assert.equal((await a.roster.get(x)).items.length, 2 * rounds);
        assert.equal((await a.roster.get(y)).items.length, 2 * rounds);
        assert.equal(Number((await b.roster.get(x)).version), 2 * rounds);
        assert.equal(Number((await b.roster.get(y)).version), 2 * rounds);
      } finally {
        await closeBoth();
      }
    });

    it('offline messages are handed out once across servers; one account creation wins', async () => {
      await both(await server.createDatabase());
      try {
        const owner = 'alice@example.org';
        const pushes = [a, b].flatMap((s, si) => Array.from({ length: 100 }, (_, i) => s.offline.push(owner, { stanza: `<message id="${si}-${i}"/>`, storedAt: i })));
        await Promise.all(pushes);
        const takes = await Promise.all([a.offline.takeAll(owner), b.offline.takeAll(owner), a.offline.takeAll(owner), b.offline.takeAll(owner)]);
        const got = takes.flat().map((m) => m.stanza);
        assert.equal(got.length, 200);
        assert.equal(new Set(got).size, 200);

        const created = await Promise.allSettled([a.accounts.create('bob@example.org', credentials('a')), b.accounts.create('bob@example.org', credentials('b'))]);
        assert.deepEqual(created.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
        const loser = created.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        assert.equal(loser.reason.code, 'ACCOUNT_EXISTS');
      } finally {
        await closeBoth();
      }
    });

    it('a write on one server is visible to the next read on the other (no stale cache)', async () => {
      await both(await server.createDatabase());
      try {
        await a.pubsub.createNode({ service: 's@example.org', node: 'n', config: { max_items: '1' }, createdAt: 1 });
        assert.deepEqual((await b.pubsub.getNode('s@example.org', 'n'))?.config, { max_items: '1' });
        await b.pubsub.updateConfig('s@example.org', 'n', { max_items: '2' });
        assert.deepEqual((await a.pubsub.getNode('s@example.org', 'n'))?.config, { max_items: '2' });
        await a.accounts.create('c@example.org', credentials('1'));
        await b.accounts.setCredentials('c@example.org', credentials('2'));
        assert.deepEqual((await a.accounts.get('c@example.org'))?.credentials, credentials('2'));
        await b.accounts.delete('c@example.org');
        assert.equal(await a.accounts.get('c@example.org'), undefined);
      } finally {
        await closeBoth();
      }
    });
  });

  describe('pipelined publishes over TCP (PostgreSQL storage)', () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ storage: await openPostgresStorage({ connectionString: await server.createDatabase() }) });
      await seedBurstAccounts(t);
    });
    after(() => t.stop());
    publishBurstTests(() => t);
  });

  describe('server with storage.driver = "postgres"', () => {
    it('starts via startServer and a user logs in', async () => {
      const { startServer, deriveCredentials } = await import('../../src/server/index.ts');
      const { parseConfig } = await import('../../src/server/config.ts');
      const { RawClient } = await import('../helpers/raw-client.ts');
      const url = await server.createDatabase();
      const seed = await openPostgresStorage({ connectionString: url });
      await seed.accounts.create('juliet@localhost', deriveCredentials('r0m30', 4096));
      await seed.close();

      const dataDir = mkdtempSync(join(tmpdir(), 'pepkeys-pg-server-'));
      const config = parseConfig({
        hosts: ['localhost'],
        data_dir: dataDir,
        log_level: 'silent',
        c2s: { listen: ['127.0.0.1:0'], require_tls: false, insecure_plain_auth: true },
        http: { listen: [] },
        storage: { driver: 'postgres', url },
      });
      const { server: xmpp, addresses } = await startServer(config);
      try {
        const client = await RawClient.connect(addresses.c2s[0]!.port);
        try {
          const jid = await client.login('juliet@localhost', 'r0m30', 'balcony');
          assert.equal(jid, 'juliet@localhost/balcony');
          // The roster module reads it from PostgreSQL.
          const roster = await client.iq(`<iq type='get'><query xmlns='jabber:iq:roster'/></iq>`);
          assert.equal(roster.attrs.type, 'result');
        } finally {
          client.destroy();
        }
      } finally {
        await xmpp.stop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
}

function dbName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

// Every await happens before the first test is registered: node:test starts running registered tests (and
// the root's `after`) while a module is still awaiting.
if (availability === 'skip') {
  it('PostgreSQL tests', { skip: 'PEPKEYS_SKIP_POSTGRES=1 and PostgreSQL is not installed' }, () => {});
} else if (availability === 'missing') {
  it('PostgreSQL is installed', () => assert.fail(POSTGRES_MISSING));
} else {
  const server = (await startPostgres())!;
  let contractUrl: string;
  try {
    contractUrl = await server.createDatabase();
  } catch (err) {
    await server.stop();
    throw err;
  }
  after(() => server.stop());
  suites(server, contractUrl);
}

describe('config: storage.driver = "postgres"', () => {
  it('requires storage.url, naming the key', async () => {
    const { parseConfig, ConfigError } = await import('../../src/server/config.ts');
    assert.throws(() => parseConfig({ storage: { driver: 'postgres' } }, 'pepkeys.toml'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^pepkeys\.toml: storage\.url: storage\.url is required when storage\.driver is "postgres"/);
      return true;
    });
    assert.throws(() => parseConfig({ storage: { driver: 'postgres', url: 'postgres://h/db', path: 'x.sqlite' } }), /storage\.path/);
    const ok = parseConfig({ storage: { driver: 'postgres', url: 'postgres://h/db' } });
    assert.equal(ok.storage.url, 'postgres://h/db');
    assert.equal(parseConfig({}).storage.driver, 'sqlite');
  });
});
