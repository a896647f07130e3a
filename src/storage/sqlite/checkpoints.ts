// WAL checkpoints scheduled by us, with their slowest part done on the threadpool.
//
// SQLite's own autocheckpoint runs inside the COMMIT that takes the WAL past 1000 frames. Under
// synchronous=NORMAL a checkpoint first syncs the WAL — every frame written since the last one, which the
// kernel has mostly not written back yet — then copies the pages into the database and syncs that. On this
// VM the WAL sync was 5.9 ms of a 6.4 ms checkpoint at 1000 frames, paid on the main thread by whichever
// commit crossed the threshold: from one lone publisher, about one publish in 200.
//
// So when the WAL has grown by about `targetFrames` we first fdatasync it on the threadpool, and only when
// that has returned run the checkpoint (PASSIVE, on the main thread: better-sqlite3 is synchronous). Its own
// WAL sync then has only what was committed meanwhile to write.
// Tried and not kept: a checkpointing connection on a worker thread cannot reset the WAL while this one keeps
// writing (a reset needs every frame checkpointed), so the main thread had to checkpoint anyway, and the
// concurrent copying slowed our commits; repeating the write-back until little was left to sync kept the
// disk busy under the commits and made them slower.
//
// better-sqlite3 has no WAL hook, so the WAL's growth is estimated from the commits: each checkpoint reports
// the frames it found, which gives frames per commit for the next interval. SQLite's autocheckpoint stays as
// a backstop at twice the target, for a huge transaction (it fires only if we fall behind).
import { closeSync, fdatasync as fsFdatasync, openSync } from 'node:fs';
import { walFile, type SqliteDatabase } from './database.ts';
import type { Fdatasync } from './group-commit.ts';

export interface WalCheckpointsOptions {
  /**
   * WAL frames (pages) between checkpoints (default 4000, 16 MB; SQLite's own default is 1000). A
   * checkpoint's cost is mostly fixed (two syncs), so fewer larger ones cost less per commit: from one lone
   * publisher, storage time per publish was 83–105 µs at 1000 frames, 75–86 at 2000, 77 at 4000.
   */
  targetFrames?: number;
  /** The asynchronous fdatasync run before each checkpoint; tests wrap the real one to hold it. */
  fdatasync?: Fdatasync;
}

export interface WalCheckpointsStats {
  /** Checkpoints run (each after a write-back of the WAL). */
  checkpoints: number;
  /** Checkpoints that returned an error (the WAL then grows until the next one, or SQLite's backstop). */
  failed: number;
  /** Frames in the WAL at the last checkpoint. */
  lastFrames: number;
}

const BACKSTOP_FACTOR = 2;
/** Before any measurement every commit is taken to write FIRST_FRAMES_PER_COMMIT frames (most write a few). */
const FIRST_FRAMES_PER_COMMIT = 4;

export class WalCheckpoints {
  readonly stats: WalCheckpointsStats = { checkpoints: 0, failed: 0, lastFrames: 0 };
  private readonly targetFrames: number;
  private readonly fdatasync: Fdatasync;
  private fd: number | undefined;
  private commits = 0;
  private interval: number;
  private syncing = false;
  private closed = false;

  /** Returns undefined for a connection with no WAL file (':memory:', or not in WAL mode). */
  static open(db: SqliteDatabase, options: WalCheckpointsOptions = {}): WalCheckpoints | undefined {
    const wal = walFile(db);
    return wal === undefined ? undefined : new WalCheckpoints(db, openSync(wal, 'r+'), options);
  }

  private constructor(
    private readonly db: SqliteDatabase,
    fd: number,
    options: WalCheckpointsOptions,
  ) {
    this.fd = fd;
    this.targetFrames = Math.max(1, options.targetFrames ?? 4000);
    this.fdatasync = options.fdatasync ?? fsFdatasync;
    this.interval = Math.ceil(this.targetFrames / FIRST_FRAMES_PER_COMMIT);
    db.pragma(`wal_autocheckpoint = ${this.targetFrames * BACKSTOP_FACTOR}`);
  }

  /** Called after every transaction that committed. Never inside a transaction. */
  committed(): void {
    // Commits made during a write-back count towards the checkpoint that follows it: their frames are in it.
    this.commits++;
    if (this.closed || this.syncing || this.commits < this.interval) return;
    this.syncing = true;
    const done = () => this.checkpoint();
    try {
      this.fdatasync(this.fd!, done);
    } catch {
      process.nextTick(done);
    }
  }

  /** No checkpoint runs after this; a write-back still in flight closes the fd when it returns. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.syncing) this.closeFd();
  }

  // A failed write-back needs no handling: the checkpoint syncs the WAL itself before copying from it.
  private checkpoint(): void {
    this.syncing = false;
    if (this.closed) return this.closeFd();
    // Callbacks run between transactions, but a caller may hold one open across turns. The commit count is
    // still at or past the interval, so the next commit tries again.
    if (this.db.inTransaction) return;
    const commits = this.commits;
    this.commits = 0;
    try {
      const [result] = this.db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
      this.stats.checkpoints++;
      const frames = result?.log ?? 0;
      this.stats.lastFrames = frames;
      // Frames per commit over the interval just ended sets the next one. (When the previous checkpoint could
      // not finish, `log` also counts older frames: the estimate errs towards checkpointing sooner.)
      if (frames > 0) this.interval = Math.max(1, Math.round((commits * this.targetFrames) / frames));
    } catch {
      // Another process holding the database, or an I/O error that the next commit will report itself.
      this.stats.failed++;
    }
  }

  private closeFd(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
