// GroupCommit holds (group-commit.ts "Holds"): a batch whose write waits for input prepared on another thread
// stays open until that input arrives, collecting the writes queued meanwhile, and never longer than its bound.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { openDatabase, type SqliteDatabase } from '../../src/storage/sqlite/database.ts';
import { GroupCommit } from '../../src/storage/sqlite/group-commit.ts';

const root = mkdtempSync(join(tmpdir(), 'pepkeys-gc-hold-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
function open(): SqliteDatabase {
  const db = openDatabase(join(root, `db-${counter++}`, 'gc.sqlite'), 'NORMAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  return db;
}
const insert = (db: SqliteDatabase, v: string) => () => db.prepare('INSERT INTO t (v) VALUES (?)').run(v).changes;
const rows = (db: SqliteDatabase) => db.prepare('SELECT v FROM t ORDER BY id').pluck().all() as string[];

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('group commit holds', () => {
  it('keeps the batch open until the hold settles; writes queued meanwhile commit with it, in order', async () => {
    const db = open();
    // A bound far beyond the test, so only the hold ends the wait.
    const gc = new GroupCommit(db, { holdMaxMs: 600_000 });
    const batches: number[] = [];
    gc.observer = (_s, ops) => batches.push(ops);
    try {
      const input = deferred();
      gc.hold(input.promise);
      let settled = false;
      const first = gc.write(insert(db, 'a')).then(() => (settled = true));
      for (let i = 0; i < 5; i++) await turn();
      assert.equal(settled, false, 'the held batch did not commit');
      assert.deepEqual(rows(db), [], 'nothing committed while held');
      const second = gc.write(insert(db, 'b'));
      input.resolve();
      await Promise.all([first, second]);
      assert.deepEqual(rows(db), ['a', 'b']);
      assert.deepEqual(batches, [2], 'one batch');
    } finally {
      gc.close();
      db.close();
    }
  });

  it('a hold that never settles delays its batch by the bound only', async () => {
    const db = open();
    const gc = new GroupCommit(db, { holdMaxMs: 5 });
    try {
      gc.hold(new Promise(() => {}));
      assert.equal(await gc.write(insert(db, 'x')), 1);
      assert.deepEqual(rows(db), ['x']);
      // The next batch has no hold of its own: it commits on its turn.
      assert.equal(await gc.write(insert(db, 'y')), 1);
    } finally {
      gc.close();
      db.close();
    }
  });

  it('close() commits a held batch at once', async () => {
    const db = open();
    const gc = new GroupCommit(db, { holdMaxMs: 600_000 });
    try {
      gc.hold(new Promise(() => {}));
      const w = gc.write(insert(db, 'z'));
      await turn();
      gc.close();
      assert.equal(await w, 1);
      assert.deepEqual(rows(db), ['z']);
    } finally {
      db.close();
    }
  });
});
