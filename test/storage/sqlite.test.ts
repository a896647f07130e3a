import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import { openSqliteWorkerStorage } from '../../src/storage/sqlite/worker-storage.ts';
import { latestSchemaVersion } from '../../src/storage/sqlite/migrations.ts';
import { SchemaTooNewError } from '../../src/storage/errors.ts';
import type { Storage } from '../../src/storage/types.ts';
import { storageContract, type StorageTarget } from '../contract/storage-contract.ts';
import { credentials } from '../contract/fixtures.ts';
import { durableStorageContract } from '../contract/durable-storage-contract.ts';

const root = mkdtempSync(join(tmpdir(), 'pepkeys-sqlite-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshPath = () => join(root, `db-${process.pid}-${counter++}`, 'pepkeys.sqlite');

/** Runs `fn` on a connection of the test's own. */
function withDatabase<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/**
 * One database file per suite, emptied before each test through a second connection: opening the worker
 * storage costs about 0.4 s under tsx (the worker registers tsx before it can load the adapter). The plain
 * 'sqlite file' suite keeps opening a fresh file per test.
 */
function emptiedBetweenTests(openAt: (path: string) => Storage | Promise<Storage>): StorageTarget {
  const paths = new WeakMap<Storage, string>();
  return {
    logNeedsFreshStorage: true,
    async open() {
      const path = freshPath();
      const storage = await openAt(path);
      paths.set(storage, path);
      return storage;
    },
    reset(storage) {
      withDatabase(paths.get(storage)!, (db) => {
        db.pragma('busy_timeout = 10000');
        const tables = db
          .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name <> 'schema_migrations'")
          .pluck()
          .all() as string[];
        db.transaction(() => {
          for (const table of tables) db.exec(`DELETE FROM "${table}"`);
        })();
      });
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
    withDatabase(path, (db) => db.pragma(`user_version = ${latestSchemaVersion + 1}`));
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

durableStorageContract({
  name: 'sqlite',
  latestSchemaVersion,
  create: freshPath,
  open: (path) => openSqliteStorage({ path }),
  sql: async (path, text) => withDatabase(path, (db) => db.prepare(text).all() as Record<string, unknown>[]),
  markNewerSchema: async (path) => withDatabase(path, (db) => void db.pragma(`user_version = ${latestSchemaVersion + 1}`)),
  failRosterVersionOf: async (path, owner) =>
    withDatabase(path, (db) => {
      db.exec(`CREATE TRIGGER fail_boom BEFORE INSERT ON roster_versions WHEN NEW.owner = '${owner}'
               BEGIN SELECT RAISE(ABORT, 'boom'); END`);
    }),
  crash: {
    writer: 'sqlite',
    afterKill: (path) => withDatabase(path, (db) => assert.equal(db.pragma('integrity_check', { simple: true }), 'ok')),
  },
});

describe('sqlite adapter', () => {
  it('creates missing directories, in WAL mode, with user_version mirroring the schema', async () => {
    const path = join(root, 'deep', 'er', 'still', 'pepkeys.sqlite');
    assert.equal(existsSync(dirname(path)), false);
    await openSqliteStorage({ path }).close();
    withDatabase(path, (db) => {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('user_version', { simple: true }), latestSchemaVersion);
    });
  });
});
