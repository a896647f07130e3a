// The durable-storage contract: what a storage that keeps data across restarts (SQLite, PostgreSQL) must do
// beyond the storage contract. Schema migrations run once and a newer schema is refused; everything
// survives close and reopen; a write that fails half-way through a batch is undone alone; and every
// acknowledged write survives SIGKILL of the process writing it (and of the database server, where there is
// one).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SchemaTooNewError } from '../../src/storage/errors.ts';
import type { Storage } from '../../src/storage/types.ts';
import { credentials, item } from './fixtures.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** A database is named by a location: a file path or a connection string. */
export interface DurableTarget {
  name: string;
  latestSchemaVersion: number;
  /** A location for a new, empty database (created on first open where the adapter does that). */
  create(): Promise<string> | string;
  open(location: string): Promise<Storage> | Storage;
  /** Runs SQL on a connection of the test's own, outside the adapter. */
  sql(location: string, text: string): Promise<Record<string, unknown>[]>;
  /** Makes the database look written by a schema newer than latestSchemaVersion. */
  markNewerSchema(location: string): Promise<void>;
  /** Installs a trigger that fails the roster version bump of `owner`, the second step of a putItem. */
  failRosterVersionOf(location: string, owner: string): Promise<void>;
  /** Batches committed so far, where the adapter counts them. */
  batches?(storage: Storage): number;
  crash: {
    /** test/helpers/crash-writer.ts's driver argument. */
    writer: 'sqlite' | 'postgres';
    /** Kills whatever else dies with the writer (the database server), at the same moment. */
    alsoKill?(): void;
    /** Runs after the kill, before the database is reopened: checks, or restarting the server. */
    afterKill?(location: string): Promise<void> | void;
  };
}

/** Enough acknowledged writes that the kill lands mid-stream. */
const ACKS_BEFORE_KILL = 400;

export function durableStorageContract(target: DurableTarget): void {
  const { open } = target;
  const reopen = async <T>(location: string, check: (s: Storage) => Promise<T>): Promise<T> => {
    const s = await open(location);
    try {
      return await check(s);
    } finally {
      await s.close();
    }
  };

  describe(`durable storage contract: ${target.name}`, () => {
    it('runs the migrations once, recorded in schema_migrations', async () => {
      const location = await target.create();
      await (await open(location)).close();
      await (await open(location)).close();
      const rows = await target.sql(location, 'SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(rows.map((r) => Number(r.version)), Array.from({ length: target.latestSchemaVersion }, (_, i) => i + 1));
    });

    it('storages opened at once on a fresh database migrate it exactly once', async () => {
      const location = await target.create();
      const stores = await Promise.all(Array.from({ length: 6 }, async () => open(location)));
      await Promise.all(stores.map((s) => s.close()));
      const rows = await target.sql(location, 'SELECT count(*) AS n FROM schema_migrations');
      assert.equal(Number(rows[0].n), target.latestSchemaVersion);
    });

    it('refuses a database written by a newer schema', async () => {
      const location = await target.create();
      await (await open(location)).close();
      await target.markNewerSchema(location);
      await assert.rejects(async () => open(location), SchemaTooNewError);
    });

    it('keeps everything across close and reopen', async () => {
      const location = await target.create();
      const a = await open(location);
      await a.accounts.create('alice@example.org', credentials('a'));
      const version = await a.roster.putItem('alice@example.org', { jid: 'bob@example.org', name: 'Bob', subscription: 'both', approved: false, groups: ['F'] });
      await a.roster.addPendingIn('alice@example.org', { from: 'eve@example.org', stanza: '<presence type="subscribe"/>' });
      await a.offline.push('alice@example.org', { stanza: '<message/>', storedAt: 7 });
      await a.caps.put('sha-1:k', { identities: [{ category: 'client', type: 'pc' }], features: ['f'], forms: [] });
      await a.pubsub.createNode({ service: 'alice@example.org', node: 'n', config: { max_items: '5' }, createdAt: 3 });
      for (const id of ['1', '2', '3']) await a.pubsub.publishItem(item('alice@example.org', 'n', id), 5);
      await a.pubsub.setAffiliation('alice@example.org', 'n', 'alice@example.org', 'owner');
      await a.pubsub.setSubscription('alice@example.org', 'n', 'bob@example.org/r', 'subscribed');
      // Issued without awaiting: close must commit it.
      const last = a.pubsub.publishItem(item('alice@example.org', 'n', '4'), 5);
      await a.close();
      await last;

      await reopen(location, async (b) => {
        assert.deepEqual((await b.accounts.get('alice@example.org'))?.credentials, credentials('a'));
        const roster = await b.roster.get('alice@example.org');
        assert.equal(roster.version, version);
        assert.deepEqual(roster.items, [{ jid: 'bob@example.org', name: 'Bob', subscription: 'both', approved: false, groups: ['F'] }]);
        assert.equal((await b.roster.listPendingIn('alice@example.org')).length, 1);
        assert.equal(await b.offline.count('alice@example.org'), 1);
        assert.deepEqual((await b.caps.get('sha-1:k'))?.features, ['f']);
        assert.deepEqual(await b.pubsub.getNode('alice@example.org', 'n'), { service: 'alice@example.org', node: 'n', config: { max_items: '5' }, createdAt: 3 });
        assert.deepEqual((await b.pubsub.getItems('alice@example.org', 'n')).map((i) => i.id), ['4', '3', '2', '1']);
        assert.equal((await b.pubsub.getAffiliations('alice@example.org', 'n')).get('alice@example.org'), 'owner');
        assert.equal((await b.pubsub.getSubscriptions('alice@example.org', 'n')).get('bob@example.org/r'), 'subscribed');
        // Versions and item order keep growing after a restart.
        const v2 = await b.roster.putItem('alice@example.org', { jid: 'carl@example.org', subscription: 'none', groups: [] });
        assert.ok(Number(v2) > Number(version));
        await b.pubsub.publishItem(item('alice@example.org', 'n', '5'), 5);
        assert.deepEqual((await b.pubsub.getItems('alice@example.org', 'n', { max: 2 })).map((i) => i.id), ['5', '4']);
      });
    });

    it('a write failing half-way through a batch is rolled back alone', async () => {
      const location = await target.create();
      await (await open(location)).close();
      // putItem writes the item, then bumps the version: failing the bump for one owner leaves only a
      // per-write savepoint to undo the item.
      await target.failRosterVersionOf(location, 'boom@example.org');
      await reopen(location, async (s) => {
        await s.pubsub.createNode({ service: 'alice@example.org', node: 'n', config: {}, createdAt: 1 });
        const batchesBefore = target.batches?.(s);
        // All issued in one tick, so they share one transaction.
        const results = await Promise.allSettled([
          s.pubsub.publishItem(item('alice@example.org', 'n', 'before'), undefined),
          s.roster.putItem('alice@example.org', { jid: 'bob@example.org', subscription: 'none', groups: [] }),
          s.roster.putItem('boom@example.org', { jid: 'bob@example.org', subscription: 'none', groups: [] }),
          s.accounts.create('carol@example.org', credentials('c')),
          s.pubsub.publishItem(item('alice@example.org', 'n', 'after'), undefined),
        ]);
        assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
        assert.match(String((results[2] as PromiseRejectedResult).reason), /boom/);
        if (batchesBefore !== undefined) assert.equal(target.batches!(s) - batchesBefore, 1, 'the five writes shared one batch');
      });
      await reopen(location, async (again) => {
        assert.equal(await again.roster.getItem('boom@example.org', 'bob@example.org'), undefined);
        assert.ok(await again.roster.getItem('alice@example.org', 'bob@example.org'));
        assert.ok(await again.accounts.get('carol@example.org'));
        assert.deepEqual((await again.pubsub.getItems('alice@example.org', 'n')).map((i) => i.id), ['after', 'before']);
      });
    });

    const killed = target.crash.alsoKill ? 'the writing process and of the database server' : 'the writing process';
    it(`every acknowledged write survives SIGKILL of ${killed}`, async () => {
      const location = await target.create();
      const acked = await writeUntilKilled(target, location);
      await target.crash.afterKill?.(location);
      await reopen(location, async (s) => {
        const stored = await s.pubsub.getItems('crash@example.org', 'urn:test:crash', { ids: acked });
        const storedIds = new Set(stored.map((i) => i.id));
        const lost = acked.filter((id) => !storedIds.has(id));
        assert.deepEqual(lost, [], `${lost.length} acknowledged writes lost`);
        assert.ok((await s.pubsub.countItems('crash@example.org', 'urn:test:crash')) >= acked.length);
      });
    });
  });
}

/**
 * Runs test/helpers/crash-writer.ts (8 concurrent writers) against the database and SIGKILLs it (and
 * whatever the target also kills) once ACKS_BEFORE_KILL writes are acknowledged; returns every id it
 * acknowledged.
 */
async function writeUntilKilled(target: DurableTarget, location: string): Promise<string[]> {
  const acked: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/crash-writer.ts', target.crash.writer, location, '8'], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  let buffered = '';
  let killed = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) if (line !== 'ready') acked.push(line);
    if (acked.length >= ACKS_BEFORE_KILL && !killed) {
      killed = true;
      // All at once: transactions in flight die with the server, which must recover every commit.
      child.kill('SIGKILL');
      target.crash.alsoKill?.();
    }
  });
  const signal = await exited;
  assert.equal(signal, 'SIGKILL', `writer exited on its own: ${stderr}`);
  assert.ok(acked.length >= ACKS_BEFORE_KILL);
  return acked;
}
