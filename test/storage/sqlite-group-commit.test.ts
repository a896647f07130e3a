// GroupCommit on real SQLite files: batching, fdatasync of the WAL off the main thread before settling,
// pipelined syncs, issue-order settlement, reads held behind undurable commits, close() and NORMAL/:memory:.
// The only seam is GroupCommit's fdatasync parameter, which the tests wrap around the real fs.fdatasync to
// hold its completion until they release it.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, fdatasync, readdirSync, readlinkSync, existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase, type SqliteDatabase } from '../../src/storage/sqlite/database.ts';
import { GroupCommit, type Fdatasync } from '../../src/storage/sqlite/group-commit.ts';
import { WalCheckpoints } from '../../src/storage/sqlite/checkpoints.ts';

const root = mkdtempSync(join(tmpdir(), 'pepkeys-group-commit-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshPath = () => join(root, `db-${process.pid}-${counter++}`, 'gc.sqlite');

function open(path: string, synchronous: 'FULL' | 'NORMAL' = 'FULL'): SqliteDatabase {
  const db = openDatabase(path, synchronous);
  db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  return db;
}

const insert = (db: SqliteDatabase, v: string) => () => db.prepare('INSERT INTO t (v) VALUES (?)').run(v).changes;
const values = (db: SqliteDatabase) => () => db.prepare('SELECT v FROM t ORDER BY id').pluck().all() as string[];

/** The real fdatasync, whose completion is held until release() (or released at once when not holding). */
function gatedSync() {
  const held: (() => void)[] = [];
  let holding = true;
  let calls = 0;
  let completed = 0;
  const fn: Fdatasync = (fd, cb) => {
    calls++;
    fdatasync(fd, (err) => {
      completed++;
      if (holding) held.push(() => cb(err));
      else cb(err);
    });
  };
  return {
    fn,
    get calls() {
      return calls;
    },
    /** Real fdatasyncs that finished (held or not). */
    get completed() {
      return completed;
    },
    get held() {
      return held.length;
    },
    release() {
      const next = held.shift();
      assert.ok(next, 'no held fdatasync to release');
      next();
    },
    /** Reports the most recently finished fdatasync first (the disk may complete them out of order). */
    releaseNewest() {
      const next = held.pop();
      assert.ok(next, 'no held fdatasync to release');
      next();
    },
    releaseAll() {
      holding = false;
      while (held.length) held.shift()!();
    },
  };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Lets several event-loop turns (and any ready I/O callbacks) pass. */
async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

function track<T>(p: Promise<T>, name: string, log: string[]): Promise<T> {
  return p.then(
    (v) => {
      log.push(name);
      return v;
    },
    (err) => {
      log.push(`${name}!`);
      throw err;
    },
  );
}

/** How many fds this process has open on `path` (SQLite's own included); undefined where /proc is missing. */
/**
 * A GroupCommit over a fresh file whose fdatasyncs the test releases by hand; everything is released and
 * closed afterwards, whatever the test did.
 */
async function withGatedCommit(
  options: { maxConcurrentSyncs?: number; released?: boolean },
  test: (t: { db: SqliteDatabase; sync: ReturnType<typeof gatedSync>; gc: GroupCommit; log: string[] }) => Promise<void>,
): Promise<void> {
  const db = open(freshPath());
  const sync = gatedSync();
  if (options.released) sync.releaseAll();
  const gc = new GroupCommit(db, { syncWal: true, fdatasync: sync.fn, maxConcurrentSyncs: options.maxConcurrentSyncs });
  try {
    await test({ db, sync, gc, log: [] });
  } finally {
    sync.releaseAll();
    gc.close();
    db.close();
  }
}

function openFds(path: string): number | undefined {
  if (!existsSync('/proc/self/fd')) return undefined;
  path = realpathSync(path);
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

describe('sqlite group commit', () => {
  it('FULL runs the connection under NORMAL and syncs the WAL once at open', () => {
    const path = freshPath();
    const db = open(path);
    try {
      assert.equal(db.pragma('synchronous', { simple: true }), 1); // NORMAL
      db.pragma('user_version'); // SQLite opens the WAL at the first read
      const sqliteFds = openFds(`${path}-wal`);
      const gc = new GroupCommit(db, { syncWal: true });
      assert.equal(gc.stats.syncs, 1);
      if (sqliteFds !== undefined) assert.equal(openFds(`${path}-wal`), sqliteFds + 1);
      gc.close();
      if (sqliteFds !== undefined) assert.equal(openFds(`${path}-wal`), sqliteFds);
    } finally {
      db.close();
    }
  });

  it('writes issued in one turn share one commit and one fdatasync', () =>
    withGatedCommit({ released: true }, async ({ db, sync, gc }) => {
      const before = { ...gc.stats };
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => gc.write(insert(db, `v${i}`))));
      assert.deepEqual(results, Array(10).fill(1));
      assert.equal(gc.stats.batches - before.batches, 1);
      assert.equal(gc.stats.operations - before.operations, 10);
      assert.equal(gc.stats.syncs - before.syncs, 1);
      assert.equal(sync.calls, 1);
    }));

  it('settles a write only after its fdatasync, and batches committed meanwhile share the next one, in issue order', () =>
    withGatedCommit({ maxConcurrentSyncs: 1 }, async ({ db, sync, gc, log }) => {
      const w1 = track(gc.write(insert(db, 'a')), 'w1', log);
      await until(() => sync.held === 1, 'the first fdatasync');
      // Committed and its fdatasync finished on the threadpool, but not yet reported: w1 must not settle.
      await turns();
      assert.deepEqual(log, []);
      assert.equal(gc.stats.batches, 1);

      // Three more batches in three turns while the first sync is in flight: each commits at once, none
      // starts a sync of its own.
      const w2 = track(gc.write(insert(db, 'b')), 'w2', log);
      await turns(1);
      const r1 = track(gc.read(values(db)), 'r1', log);
      await turns(1);
      const w3 = track(gc.write(insert(db, 'c')), 'w3', log);
      await turns(3);
      assert.equal(gc.stats.batches, 4);
      assert.equal(sync.calls, 1);
      assert.deepEqual(log, []);

      sync.release();
      await w1;
      // The next fdatasync started as soon as the first completed and covers w2, r1 and w3.
      await until(() => sync.held === 1, 'the second fdatasync');
      await turns();
      assert.deepEqual(log, ['w1']);
      assert.equal(sync.calls, 2);

      sync.release();
      await Promise.all([w2, r1, w3]);
      assert.deepEqual(log, ['w1', 'w2', 'r1', 'w3']);
      assert.deepEqual(await r1, ['a', 'b']);
      assert.equal(gc.stats.syncs, 1 + 2); // the one at open, then two for four batches
    }));

  it('runs up to maxConcurrentSyncs fdatasyncs at once and still settles in commit order', () =>
    withGatedCommit({ maxConcurrentSyncs: 2 }, async ({ db, sync, gc, log }) => {
      const w1 = track(gc.write(insert(db, 'a')), 'w1', log);
      await until(() => sync.held === 1, 'the first fdatasync');
      // Committed while the first runs: its own fdatasync starts at once.
      const w2 = track(gc.write(insert(db, 'b')), 'w2', log);
      await until(() => sync.held === 2, 'the second fdatasync');
      // Two running: a third batch commits and waits for a free slot.
      const w3 = track(gc.write(insert(db, 'c')), 'w3', log);
      const r1 = track(gc.read(values(db)), 'r1', log);
      await turns(3);
      assert.equal(sync.calls, 2);
      assert.deepEqual(log, []);

      // The newer fdatasync finishes first: it covers w1's commit too, so both settle, oldest first.
      sync.releaseNewest();
      await Promise.all([w1, w2]);
      assert.deepEqual(log, ['w1', 'w2']);
      // Its slot went to the batches that were waiting.
      await until(() => sync.calls === 3, 'the third fdatasync');
      await turns();
      assert.deepEqual(log, ['w1', 'w2'], 'w3 and r1 wait for their own fdatasync');

      // The first fdatasync reporting late settles nothing new; the third does.
      sync.release();
      await turns();
      assert.deepEqual(log, ['w1', 'w2']);
      await until(() => sync.held === 1, 'the third fdatasync to finish');
      sync.release();
      assert.deepEqual(await r1, ['a', 'b', 'c']);
      await w3;
      assert.deepEqual(log, ['w1', 'w2', 'w3', 'r1']);
    }));

  it('a read issued while a committed batch awaits its fdatasync waits for it', () =>
    withGatedCommit({}, async ({ db, sync, gc, log }) => {
      const w = track(gc.write(insert(db, 'x')), 'w', log);
      await until(() => sync.held === 1, 'the fdatasync');
      const r = track(gc.read(values(db)), 'r', log);
      await turns();
      assert.deepEqual(log, [], 'the read saw a commit that is not durable yet');
      sync.release();
      assert.deepEqual(await r, ['x']);
      await w;
      assert.deepEqual(log, ['w', 'r']);
      // Nothing in flight any more: a read runs at once, without a batch or a sync.
      const before = { ...gc.stats };
      assert.deepEqual(await gc.read(values(db)), ['x']);
      assert.deepEqual(gc.stats, before);
    }));

  it('with the real fdatasync, a stream of batches settles in issue order', async () => {
    const db = open(freshPath());
    const gc = new GroupCommit(db, { syncWal: true });
    const log: string[] = [];
    try {
      const before = { ...gc.stats };
      const all: Promise<unknown>[] = [];
      // One write per turn (and a read every fifth), issued without waiting for earlier acknowledgements.
      for (let i = 0; i < 100; i++) {
        all.push(track(gc.write(insert(db, `v${i}`)), `w${i}`, log));
        if (i % 5 === 0) all.push(track(gc.read(values(db)), `r${i}`, log));
        await turns(1);
      }
      await Promise.all(all);
      const expected: string[] = [];
      for (let i = 0; i < 100; i++) expected.push(`w${i}`, ...(i % 5 === 0 ? [`r${i}`] : []));
      assert.deepEqual(log, expected);
      const batches = gc.stats.batches - before.batches;
      const syncs = gc.stats.syncs - before.syncs;
      assert.ok(batches >= 100, `${batches} batches`);
      assert.ok(syncs >= 1 && syncs <= batches, `${syncs} syncs for ${batches} batches`);
    } finally {
      gc.close();
      db.close();
    }
  });

  it('an fdatasync error rejects the batches it covered and later batches carry on', async () => {
    const db = open(freshPath());
    let fail = true;
    const failing: Fdatasync = (fd, cb) => {
      if (fail) {
        fail = false;
        const err = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }) as NodeJS.ErrnoException;
        setImmediate(() => cb(err));
      } else fdatasync(fd, cb);
    };
    const gc = new GroupCommit(db, { syncWal: true, fdatasync: failing });
    try {
      const first = await Promise.allSettled([gc.write(insert(db, 'a')), gc.read(values(db))]);
      assert.deepEqual(first.map((r) => r.status), ['rejected', 'rejected']);
      assert.match(String((first[0] as PromiseRejectedResult).reason), /EIO/);
      assert.equal(await gc.write(insert(db, 'b')), 1);
      // The first batch did commit: only its durability was unknown.
      assert.deepEqual(await gc.read(values(db)), ['a', 'b']);
    } finally {
      gc.close();
      db.close();
    }
  });

  it('close() commits and syncs queued writes synchronously, also with an fdatasync in flight', async () => {
    const path = freshPath();
    const db = open(path);
    const sync = gatedSync();
    db.pragma('user_version'); // SQLite opens the WAL at the first read
    const sqliteFds = openFds(`${path}-wal`);
    const gc = new GroupCommit(db, { syncWal: true, fdatasync: sync.fn, maxConcurrentSyncs: 1 });
    const log: string[] = [];
    const w1 = track(gc.write(insert(db, 'a')), 'w1', log);
    await until(() => sync.held === 1, 'the fdatasync');
    const w2 = track(gc.write(insert(db, 'b')), 'w2', log); // committed while w1's sync is in flight
    await turns(2);
    const w3 = track(gc.write(insert(db, 'c')), 'w3', log); // still queued
    const syncs = gc.stats.syncs;
    gc.close();
    assert.equal(gc.stats.syncs, syncs + 1); // one fdatasyncSync, no new asynchronous one
    assert.equal(sync.calls, 1);
    await Promise.all([w1, w2, w3]);
    assert.deepEqual(log, ['w1', 'w2', 'w3']);
    await assert.rejects(gc.write(insert(db, 'd')), /closed/i);
    // The asynchronous fdatasync completes after close(): ignored, and it closes our fd on the WAL.
    if (sqliteFds !== undefined) assert.equal(openFds(`${path}-wal`), sqliteFds + 1);
    sync.releaseAll();
    await turns();
    if (sqliteFds !== undefined) assert.equal(openFds(`${path}-wal`), sqliteFds);
    db.close();

    const again = new Database(path, { readonly: true });
    try {
      assert.deepEqual(values(again)(), ['a', 'b', 'c']);
    } finally {
      again.close();
    }
  });

  it('acknowledged writes are there after close and reopen', async () => {
    const path = freshPath();
    {
      const db = open(path);
      const gc = new GroupCommit(db, { syncWal: true });
      for (let i = 0; i < 20; i++) await Promise.all([gc.write(insert(db, `a${i}`)), gc.write(insert(db, `b${i}`))]);
      gc.close();
      db.close();
    }
    const db = open(path);
    const gc = new GroupCommit(db, { syncWal: true });
    try {
      const rows = await gc.read(values(db));
      assert.equal(rows.length, 40);
      assert.deepEqual(rows.slice(0, 4), ['a0', 'b0', 'a1', 'b1']);
    } finally {
      gc.close();
      db.close();
    }
  });

  it('NORMAL and :memory: never fdatasync', async () => {
    for (const [name, db, syncWal] of [
      ['NORMAL', open(freshPath(), 'NORMAL'), false],
      [':memory:', open(':memory:'), true],
    ] as const) {
      let calls = 0;
      const gc = new GroupCommit(db, {
        syncWal,
        fdatasync: (fd, cb) => {
          calls++;
          fdatasync(fd, cb);
        },
      });
      try {
        assert.deepEqual(await Promise.all([gc.write(insert(db, 'a')), gc.write(insert(db, 'b'))]), [1, 1], name);
        await gc.write(insert(db, 'c'));
        assert.deepEqual(await gc.read(values(db)), ['a', 'b', 'c'], name);
        gc.close();
        assert.equal(calls, 0, name);
        assert.equal(gc.stats.syncs, 0, name);
        assert.equal(gc.stats.batches, 2, name);
      } finally {
        gc.close();
        db.close();
      }
    }
    // The NORMAL file connection runs NORMAL; ':memory:' keeps FULL (it has no WAL to sync, nothing to defer).
    const normal = openDatabase(freshPath(), 'NORMAL');
    const memory = openDatabase(':memory:', 'FULL');
    try {
      assert.equal(normal.pragma('synchronous', { simple: true }), 1);
      assert.equal(memory.pragma('synchronous', { simple: true }), 2);
    } finally {
      normal.close();
      memory.close();
    }
  });
});

// WalCheckpoints (checkpoints.ts): the checkpoint runs only once the write-back fdatasync it started has
// returned, commits go on meanwhile, and the WAL is then reset. The gated fdatasync is its only seam.
describe('sqlite WAL checkpoints', () => {
  /** Frames in the WAL now (this checkpoints them too). */
  const walFrames = (db: SqliteDatabase) => (db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!.log;

  it('a checkpoint waits for the write-back of the WAL, commits go on meanwhile, and the WAL is reset', async () => {
    const db = open(freshPath(), 'NORMAL');
    const sync = gatedSync();
    const checkpoints = WalCheckpoints.open(db, { targetFrames: 8, fdatasync: sync.fn })!;
    const gc = new GroupCommit(db, { checkpoints });
    try {
      // SQLite's own autocheckpoint is only the backstop now.
      assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 16);
      // Before any measurement: a checkpoint every targetFrames / 4 commits (each writes at least one frame).
      await gc.write(insert(db, 'w0'));
      assert.equal(sync.calls, 0);
      await gc.write(insert(db, 'w1'));
      assert.equal(sync.calls, 1, 'the write-back starts at the second commit');
      for (let i = 2; i < 10; i++) await gc.write(insert(db, `w${i}`)); // not held up by it
      assert.equal(sync.calls, 1, 'one write-back at a time');
      assert.equal(checkpoints.stats.checkpoints, 0, 'no checkpoint before the write-back returned');
      await until(() => sync.held === 1, 'the write-back');
      sync.release();
      assert.equal(checkpoints.stats.checkpoints, 1);
      assert.ok(checkpoints.stats.lastFrames >= 10, `all ten commits' frames were in the WAL (${checkpoints.stats.lastFrames})`);
      // Everything was checkpointed, so the next commit starts the WAL over.
      await gc.write(insert(db, 'after'));
      assert.ok(walFrames(db) < 10, 'the WAL was reset');
      // The interval now follows the measured frames per commit: ~8 frames' worth of commits.
      const calls = sync.calls;
      for (let i = 0; i < 8 && sync.calls === calls; i++) await gc.write(insert(db, `x${i}`));
      assert.equal(sync.calls, calls + 1, 'the next write-back comes within 8 commits');
      assert.equal(checkpoints.stats.failed, 0);
    } finally {
      sync.releaseAll();
      gc.close();
      db.close();
    }
  });

  it('closing with a write-back in flight runs no checkpoint and closes its fd when the fdatasync returns', async () => {
    const path = freshPath();
    const db = open(path, 'NORMAL');
    db.pragma('user_version'); // SQLite opens the WAL at the first read
    const sqliteFds = openFds(`${path}-wal`);
    const sync = gatedSync();
    const checkpoints = WalCheckpoints.open(db, { targetFrames: 4, fdatasync: sync.fn })!;
    const gc = new GroupCommit(db, { checkpoints });
    await gc.write(insert(db, 'a'));
    await until(() => sync.held === 1, 'the write-back');
    gc.close(); // closes the checkpoints too
    if (sqliteFds !== undefined) assert.equal(openFds(`${path}-wal`), sqliteFds + 1);
    sync.releaseAll();
    assert.equal(checkpoints.stats.checkpoints, 0);
    if (sqliteFds !== undefined) assert.equal(openFds(`${path}-wal`), sqliteFds);
    db.close();
  });

  it('with the real fdatasync, under a stream of commits, checkpoints keep up and lose nothing', async () => {
    const path = freshPath();
    const db = open(path, 'NORMAL');
    const checkpoints = WalCheckpoints.open(db, { targetFrames: 16 })!;
    const gc = new GroupCommit(db, { checkpoints });
    const n = 400;
    for (let i = 0; i < n; i++) await gc.write(insert(db, `v${i}`));
    gc.close();
    db.close();
    assert.ok(checkpoints.stats.checkpoints > 0);
    assert.equal(checkpoints.stats.failed, 0);
    const again = new Database(path, { readonly: true });
    try {
      assert.equal(again.pragma('integrity_check', { simple: true }), 'ok');
      assert.deepEqual(values(again)(), Array.from({ length: n }, (_, i) => `v${i}`));
    } finally {
      again.close();
    }
  });

  it('there is nothing to schedule without a WAL file', () => {
    const db = openDatabase(':memory:', 'NORMAL');
    try {
      assert.equal(WalCheckpoints.open(db), undefined);
    } finally {
      db.close();
    }
  });
});
