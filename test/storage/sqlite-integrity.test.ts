// Issue 19, finding 15: a damaged or emptied database is refused at open, with a sentence that says what to
// do, instead of a server that says it is serving and then fails every login (or starts empty).
import { ktFileOf } from '../../src/storage/sqlite/kt-file.ts';
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import { openSqliteWorkerStorage } from '../../src/storage/sqlite/worker-storage.ts';
import { StorageCorruptError, StorageEmptyError } from '../../src/storage/errors.ts';
import { deriveCredentials } from '../../src/server/core/sasl/index.ts';

describe('SQLite integrity at open', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-integrity-'));
    path = join(dir, 'pepkeys.sqlite');
    const s = openSqliteStorage({ path });
    for (let i = 0; i < 10; i++) await s.accounts.create(`user${i}@localhost`, deriveCredentials('pw', 4096));
    await s.close();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('opens a sound database and marks it as created', async () => {
    assert.ok(existsSync(`${path}.created`));
    const s = openSqliteStorage({ path });
    assert.ok(await s.accounts.get('user7@localhost'));
    await s.close();
  });

  it('refuses a database whose accounts page is overwritten', () => {
    const db = new Database(path, { readonly: true });
    const root = db.prepare(`SELECT rootpage FROM sqlite_schema WHERE name = 'accounts'`).pluck().get() as number;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.close();
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(8, 0xa5), 0, 8, (root - 1) * pageSize);
    closeSync(fd);
    assert.throws(() => openSqliteStorage({ path }), (err: unknown) => err instanceof StorageCorruptError && /is damaged .*restore it from a backup/.test((err as Error).message));
  });

  it('refuses a file that is not a database at all', () => {
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.from('this is no SQLite header at all'), 0, 30, 0);
    closeSync(fd);
    assert.throws(() => openSqliteStorage({ path }), StorageCorruptError);
  });

  it('refuses a database emptied after it was created, on the main thread and on the worker', async () => {
    truncateSync(path, 0);
    assert.throws(() => openSqliteStorage({ path }), (err: unknown) => err instanceof StorageEmptyError && (err as Error).message.includes(`${path}.created`));
    await assert.rejects(openSqliteWorkerStorage({ path }), /is empty, but it was created on/);
    // Deleting the marker is the operator saying "start afresh".
    rmSync(`${path}.created`);
    // The old transparency file holds another database's log (and how far it read that one's journal): it
    // is not taken over silently.
    assert.throws(() => openSqliteStorage({ path }), (err: unknown) => (err as { code?: string }).code === 'KT_FILE_MISMATCH' && (err as Error).message.includes(ktFileOf(path)));
    rmSync(ktFileOf(path));
    const s = openSqliteStorage({ path });
    assert.equal(await s.accounts.get('user7@localhost'), undefined);
    await s.close();
  });
});
