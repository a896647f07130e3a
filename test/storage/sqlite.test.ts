import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import { openSqliteWorkerStorage } from '../../src/storage/sqlite/worker-storage.ts';
import { latestSchemaVersion } from '../../src/storage/sqlite/migrations.ts';
import { SchemaTooNewError } from '../../src/storage/errors.ts';
import type { Storage } from '../../src/storage/types.ts';
import { storageContract, type StorageTarget } from '../contract/storage-contract.ts';
import { credentials, item } from '../contract/fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'pepkeys-sqlite-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshPath = () => join(root, `db-${process.pid}-${counter++}`, 'pepkeys.sqlite');
const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * One database file per suite, emptied before each test through a second connection: opening the worker
 * storage costs about 0.4 s under tsx (the worker registers tsx before it can load the adapter). The plain
 * 'sqlite file' suite keeps opening a fresh file per test.
 */
function emptiedBetweenTests(openAt: (path: string) => Storage | Promise<Storage>): StorageTarget {
  const paths = new WeakMap<Storage, string>();
  return {
    async open() {
      const path = freshPath();
      const storage = await openAt(path);
      paths.set(storage, path);
      return storage;
    },
    reset(storage) {
      const db = new Database(paths.get(storage)!);
      try {
        db.pragma('busy_timeout = 10000');
        const tables = db
          .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name <> 'schema_migrations'")
          .pluck()
          .all() as string[];
        db.transaction(() => {
          for (const table of tables) db.exec(`DELETE FROM "${table}"`);
        })();
      } finally {
        db.close();
      }
    },
  };
}

storageContract('sqlite file', () => openSqliteStorage({ path: freshPath() }));
storageContract("sqlite ':memory:'", () => openSqliteStorage({ path: ':memory:' }));
storageContract('sqlite file, synchronous NORMAL', emptiedBetweenTests((path) => openSqliteStorage({ path, synchronous: 'NORMAL' })));
storageContract('sqlite file on a worker thread', emptiedBetweenTests((path) => openSqliteWorkerStorage({ path })));

describe('sqlite adapter on a worker thread', () => {
  it('reports a database it cannot open as openSqliteStorage does, and leaves no thread behind', { timeout: 20_000 }, async () => {
    const path = freshPath();
    await openSqliteStorage({ path }).close();
    const db = new Database(path);
    db.pragma(`user_version = ${latestSchemaVersion + 1}`);
    db.close();
    await assert.rejects(openSqliteWorkerStorage({ path }), SchemaTooNewError);
  });

  it('a write issued before close() is durable once close() resolves; later calls are refused', { timeout: 20_000 }, async () => {
    const path = freshPath();
    const s = await openSqliteWorkerStorage({ path });
    const created = s.accounts.create('alice@example.org', credentials('a'));
    await s.close();
    await created;
    await assert.rejects(s.accounts.get('alice@example.org'), { code: 'STORAGE_CLOSED' });
    const again = openSqliteStorage({ path });
    assert.ok(await again.accounts.get('alice@example.org'));
    await again.close();
  });

  it('when the thread dies, pending and later calls fail, onFatal hears of it once, and close() still returns', { timeout: 20_000 }, async () => {
    const fatal: Error[] = [];
    const s = await openSqliteWorkerStorage({ path: freshPath(), onFatal: (e) => fatal.push(e) });
    await s.accounts.create('alice@example.org', credentials('a'));
    const pending = s.accounts.get('alice@example.org');
    await s.worker.terminate();
    await assert.rejects(pending, /SQLite storage worker stopped/);
    await assert.rejects(s.accounts.get('alice@example.org'), /SQLite storage worker stopped/);
    assert.equal(fatal.length, 1);
    await s.close();
  });
});

describe('sqlite adapter', () => {
  it('creates missing directories and runs the migrations once', async () => {
    const path = join(root, 'deep', 'er', 'still', 'pepkeys.sqlite');
    assert.equal(existsSync(dirname(path)), false);
    await openSqliteStorage({ path }).close();
    await openSqliteStorage({ path }).close();
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('user_version', { simple: true }), latestSchemaVersion);
      const rows = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      assert.deepEqual(rows, Array.from({ length: latestSchemaVersion }, (_, i) => i + 1));
    } finally {
      db.close();
    }
  });

  it('refuses a database written by a newer schema', async () => {
    const path = freshPath();
    await openSqliteStorage({ path }).close();
    const db = new Database(path);
    db.pragma(`user_version = ${latestSchemaVersion + 1}`);
    db.close();
    assert.throws(() => openSqliteStorage({ path }), SchemaTooNewError);
  });

  it('keeps everything across close and reopen', async () => {
    const path = freshPath();
    const a = openSqliteStorage({ path });
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

    const b = openSqliteStorage({ path });
    try {
      assert.deepEqual((await b.accounts.get('alice@example.org'))?.credentials, credentials('a'));
      const roster = await b.roster.get('alice@example.org');
      assert.equal(roster.version, version);
      assert.deepEqual(roster.items, [{ jid: 'bob@example.org', name: 'Bob', subscription: 'both', approved: false, groups: ['F'] }]);
      assert.equal((await b.roster.listPendingIn('alice@example.org')).length, 1);
      assert.equal(await b.offline.count('alice@example.org'), 1);
      assert.deepEqual((await b.caps.get('sha-1:k'))?.features, ['f']);
      assert.deepEqual((await b.pubsub.getNode('alice@example.org', 'n'))?.config, { max_items: '5' });
      assert.deepEqual((await b.pubsub.getItems('alice@example.org', 'n')).map((i) => i.id), ['4', '3', '2', '1']);
      assert.equal((await b.pubsub.getAffiliations('alice@example.org', 'n')).get('alice@example.org'), 'owner');
      assert.equal((await b.pubsub.getSubscriptions('alice@example.org', 'n')).get('bob@example.org/r'), 'subscribed');
      // Versions and item order keep growing after a restart.
      const v2 = await b.roster.putItem('alice@example.org', { jid: 'carl@example.org', subscription: 'none', groups: [] });
      assert.ok(Number(v2) > Number(version));
      await b.pubsub.publishItem(item('alice@example.org', 'n', '5'), 5);
      assert.deepEqual((await b.pubsub.getItems('alice@example.org', 'n', { max: 2 })).map((i) => i.id), ['5', '4']);
    } finally {
      await b.close();
    }
  });

  it('an operation failing half-way through a batch is rolled back alone', async () => {
    const path = freshPath();
    await openSqliteStorage({ path }).close();
    // putItem writes the item and then bumps the version. Make the second statement fail for one owner,
    // so only a per-operation savepoint can undo the first.
    const raw = new Database(path);
    raw.exec(`CREATE TRIGGER fail_boom BEFORE INSERT ON roster_versions WHEN NEW.owner = 'boom@example.org'
              BEGIN SELECT RAISE(ABORT, 'boom'); END`);
    raw.close();

    const s = openSqliteStorage({ path });
    try {
      await s.pubsub.createNode({ service: 'alice@example.org', node: 'n', config: {}, createdAt: 1 });
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
    } finally {
      await s.close();
    }
    const again = openSqliteStorage({ path });
    try {
      assert.equal(await again.roster.getItem('boom@example.org', 'bob@example.org'), undefined);
      assert.ok(await again.roster.getItem('alice@example.org', 'bob@example.org'));
      assert.ok(await again.accounts.get('carol@example.org'));
      assert.deepEqual((await again.pubsub.getItems('alice@example.org', 'n')).map((i) => i.id), ['after', 'before']);
    } finally {
      await again.close();
    }
  });

  it('every acknowledged write survives SIGKILL of the writing process', async () => {
    const path = freshPath();
    const acked: string[] = [];
    const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'test/helpers/crash-writer.ts'), 'sqlite', path, '8'], {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) if (line !== 'ready') acked.push(line);
      if (acked.length >= 400 && !child.killed) child.kill('SIGKILL');
    });
    const signal = await exited;
    assert.equal(signal, 'SIGKILL', `writer exited on its own: ${stderr}`);
    assert.ok(acked.length >= 400);

    const raw = new Database(path);
    try {
      assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      raw.close();
    }
    const s = openSqliteStorage({ path });
    try {
      const stored = await s.pubsub.getItems('crash@example.org', 'urn:test:crash', { ids: acked });
      const storedIds = new Set(stored.map((i) => i.id));
      const lost = acked.filter((id) => !storedIds.has(id));
      assert.deepEqual(lost, [], `${lost.length} acknowledged writes lost`);
      assert.ok((await s.pubsub.countItems('crash@example.org', 'urn:test:crash')) >= acked.length);
    } finally {
      await s.close();
    }
  });
});
