// Group commit: every write queued during one turn of the event loop runs in a single transaction, and
// each write's promise settles only after that transaction is durable.
//
// Durability without blocking the main thread: with `syncWal` (storage.sync = "full") the connection runs
// synchronous=NORMAL, so COMMIT only appends to the WAL and returns, and this queue makes each batch durable
// itself with an fdatasync of the WAL file on the libuv threadpool, settling the batch's promises only once
// that fdatasync has completed. FULL syncs the WAL at commit before returning; we sync it after the commit
// but before the acknowledgement, so an acknowledged write survives power loss exactly as under FULL.
// (fsync works per inode, so our own fd on the -wal file flushes what SQLite wrote through its fd. NORMAL
// still syncs the WAL before every checkpoint and the database after it, so the file never corrupts.)
//
// Pipelined: a batch's fdatasync starts as soon as it has committed, with up to `maxConcurrentSyncs`
// running at once (the disk overlaps them); batches committed while that many run wait for the next one to
// start. The main thread keeps committing (cheap without fsync) while the threadpool syncs. An fdatasync
// covers every commit made before it started, so when one completes, every older batch is durable too.
//
// Ordering guarantee (other code relies on it): writes and reads settle in the order they were issued.
// Batches settle strictly in commit order, ops within a batch in queue order.
//
// Each write runs inside its own SAVEPOINT (better-sqlite3 turns a nested transaction into one), so a
// write that throws is rolled back alone and rejects, while the rest of the batch still commits.
// Reads never return data that is committed but not yet durable (another session could otherwise observe
// an item the server then loses): a read runs at once only when nothing is queued and no fdatasync is in
// flight; otherwise it joins the queue, runs behind the writes issued before it, and settles with its batch.
//
// Participants (join): work an adapter defers to the end of a batch, still inside its transaction. The
// transparency log appends a batch's key events there, all at once, after the writes that produced them
// and before COMMIT (or before a read queued in the batch, which must see them): same transaction, so an
// acknowledged write has its leaf and a rolled-back one has none. A write rolled back alone drops what it
// deferred; a participant that throws rolls the whole batch back.
//
// Without `syncWal` (storage.sync = "normal", ':memory:', or a connection not in WAL mode, which then keeps
// synchronous=FULL itself) a batch settles right after its COMMIT.
import { closeSync, fdatasync, fdatasyncSync, fsyncSync, openSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Transaction } from 'better-sqlite3';
import { walFile, type SqliteDatabase } from './database.ts';
import { StorageClosedError } from '../errors.ts';
import type { WalCheckpoints } from './checkpoints.ts';
import type { CommitObserver } from '../types.ts';

interface QueuedOp {
  fn: () => unknown;
  write: boolean;
  resolve: (value: any) => void;
  reject: (reason: unknown) => void;
  ok?: boolean;
  result?: unknown;
  error?: unknown;
}

/** `startedAt` (performance.now()) is set on committed batches while an observer is set. */
type Batch = QueuedOp[] & { startedAt?: number; tokens?: unknown[] };

interface PendingSync {
  batches: Batch[];
  done: boolean;
  error?: unknown;
}

export type Fdatasync = (fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => void;

export interface GroupCommitOptions {
  /**
   * The connection was opened by openDatabase with synchronous FULL, i.e. it runs NORMAL and relies on this
   * queue to fdatasync the WAL before settling. Ignored unless the connection is in WAL mode on a file.
   */
  syncWal?: boolean;
  /** The asynchronous fdatasync used after commits; tests wrap the real one to slow it down. */
  fdatasync?: Fdatasync;
  /**
   * fdatasyncs allowed on the threadpool at once (default 2). While one runs, the next batch need not wait
   * for it to finish before its own starts: the disk overlaps them (measured on ext4/virtio: 3.7k syncs/s
   * one at a time, 5.2k two at a time, 8.3k three at a time).
   */
  maxConcurrentSyncs?: number;
  /** Told of every commit, to schedule the WAL's checkpoints (see checkpoints.ts); closed with the queue. */
  checkpoints?: WalCheckpoints;
}

/** See "Participants" above. */
export interface BatchParticipant {
  /** Where the deferred work stands, taken before each write runs in its savepoint. */
  mark(): number;
  /** The write started at `mark` was rolled back alone: drop what it deferred. */
  rollbackTo(mark: number): void;
  /** Does the deferred work, inside the batch's transaction. Throwing rolls the whole batch back. */
  flush(): void;
  /**
   * The batch is over: its transaction committed, or rolled back with everything deferred. What it returns
   * for a committed batch is handed to `durable` once that batch is durable (settled without error).
   */
  finished(committed: boolean): unknown;
  /** Told, in commit order, what `finished` returned for a committed batch, once it is durable. */
  durable?(token: unknown): void;
}

export interface GroupCommitStats {
  batches: number;
  operations: number;
  /** fdatasync calls on the WAL (at open, per pipelined sync, at close); several batches may share one. */
  syncs: number;
}

export class GroupCommit {
  private queue: QueuedOp[] = [];
  private scheduled = false;
  private closed = false;
  private readonly runOne: Transaction<(fn: () => unknown) => unknown>;
  private readonly runBatch: Transaction<(ops: QueuedOp[]) => void>;
  private readonly fdatasync: Fdatasync;
  /** Our fd on the WAL file, when commits must be synced by us. */
  private walFd: number | undefined;
  /** fdatasyncs started and not yet settled, oldest first, with the batches each is the first to cover. */
  private syncs: PendingSync[] = [];
  /** fdatasyncs running on the threadpool (they still use walFd, even after close()). */
  private running = 0;
  private readonly maxSyncs: number;
  private readonly checkpoints: WalCheckpoints | undefined;
  /** Batches finished but covered by no started fdatasync yet (something committed since the last one started). */
  private waiting: Batch[] = [];
  /** Something committed since the last fdatasync started. */
  private dirty = false;
  private readonly participants: BatchParticipant[] = [];
  private batching = false;
  readonly stats: GroupCommitStats = { batches: 0, operations: 0, syncs: 0 };
  /** Told of each committed batch once it is durable (metrics). */
  observer: CommitObserver | undefined;

  constructor(
    private readonly db: SqliteDatabase,
    options: GroupCommitOptions = {},
  ) {
    this.fdatasync = options.fdatasync ?? fdatasync;
    this.maxSyncs = Math.max(1, options.maxConcurrentSyncs ?? 2);
    this.checkpoints = options.checkpoints;
    this.runOne = db.transaction((fn: () => unknown) => fn());
    this.runBatch = db.transaction((ops: QueuedOp[]) => {
      const parts = this.participants;
      for (const op of ops) {
        // A read sees every write queued before it, deferred work included.
        if (!op.write) for (const p of parts) p.flush();
        const marks = op.write && parts.length ? parts.map((p) => p.mark()) : undefined;
        try {
          op.result = op.write ? this.runOne(op.fn) : op.fn();
          op.ok = true;
        } catch (err) {
          // Some errors (disk full, I/O) make SQLite abandon the whole transaction; later writes would
          // then autocommit one by one behind our back, so give up on the batch instead.
          if (!db.inTransaction) throw err;
          if (marks) parts.forEach((p, i) => p.rollbackTo(marks[i]!));
          op.ok = false;
          op.error = err;
        }
      }
      for (const p of parts) p.flush();
    });
    if (options.syncWal) this.openWal();
  }

  join(p: BatchParticipant): void {
    this.participants.push(p);
  }

  /** Whether a batch is running (a participant defers work only then). */
  get inBatch(): boolean {
    return this.batching;
  }

  /** Queues `fn` (synchronous, database work only) for the next batch. */
  write<T>(fn: () => T): Promise<T> {
    return this.enqueue(fn, true);
  }

  /**
   * Runs `fn` now, unless writes are queued or a committed batch still awaits its fdatasync, in which case
   * it runs in the next batch and settles with it.
   */
  read<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new StorageClosedError());
    if (this.queue.length > 0 || this.syncs.length > 0) return this.enqueue(fn, false);
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Commits everything queued, synchronously; the ops settle once the commit is durable. */
  flush(): void {
    const ops: Batch = this.queue;
    if (ops.length === 0) return;
    this.queue = [];
    let committed = false;
    let ran = false;
    const t0 = this.observer ? performance.now() : undefined;
    this.batching = true;
    try {
      this.runBatch(ops);
      ran = true;
      committed = ops.some((op) => op.write);
      if (committed) ops.startedAt = t0;
      this.stats.batches++;
      this.stats.operations += ops.length;
    } catch (err) {
      // Nothing in the batch committed.
      for (const op of ops) {
        op.ok = false;
        op.error = err;
      }
    } finally {
      this.batching = false;
    }
    const tokens = this.participants.map((p) => p.finished(ran));
    if (committed) ops.tokens = tokens;
    this.finished(ops, committed);
    if (committed) this.checkpoints?.committed();
  }

  /**
   * Commits what is queued, makes everything committed durable (fdatasync on this thread: close must stay
   * synchronous for the exit paths), settles every pending op and refuses anything further.
   */
  close(): void {
    if (this.closed) return;
    // Closed first, so the last batch joins the pending ones instead of starting an asynchronous fdatasync.
    this.closed = true;
    this.flush();
    this.checkpoints?.close();
    if (this.walFd === undefined) return;
    const pending = [...this.syncs.flatMap((sync) => sync.batches), ...this.waiting];
    this.syncs = [];
    this.waiting = [];
    this.dirty = false;
    let syncError: unknown;
    try {
      this.stats.syncs++;
      fdatasyncSync(this.walFd);
    } catch (err) {
      syncError = err;
    }
    for (const batch of pending) this.settle(batch, syncError);
    // A running asynchronous fdatasync still uses the fd; its callback closes it.
    if (this.running === 0) this.closeWal();
    if (syncError !== undefined) throw syncError;
  }

  private enqueue<T>(fn: () => T, write: boolean): Promise<T> {
    if (this.closed) return Promise.reject(new StorageClosedError());
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, write, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate runs after pending I/O callbacks and microtasks, so everything the current burst
        // of work (including promise continuations) wants to write lands in the same batch.
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  /** A batch ran (committed or not): settle it now, or after the fdatasync that makes it durable. */
  private finished(batch: Batch, committed: boolean): void {
    if (this.walFd === undefined) return this.settle(batch);
    if (committed) this.dirty = true;
    // When closing, close() syncs and settles it.
    if (this.closed) return void this.waiting.push(batch);
    if (this.dirty) {
      this.waiting.push(batch);
      if (this.running < this.maxSyncs) this.startSync();
      return;
    }
    // Nothing committed since the last fdatasync started, so this batch (reads, or a failed one) saw nothing
    // it does not cover: it settles with that one, in order, or now if none is pending.
    const last = this.syncs.at(-1);
    if (last) last.batches.push(batch);
    else this.settle(batch);
  }

  /** Starts an fdatasync covering every commit so far; it settles the batches waiting for one. */
  private startSync(): void {
    const sync: PendingSync = { batches: this.waiting, done: false };
    this.waiting = [];
    this.dirty = false;
    this.syncs.push(sync);
    this.running++;
    this.stats.syncs++;
    const done = (err: NodeJS.ErrnoException | null) => this.synced(sync, err);
    try {
      this.fdatasync(this.walFd!, done);
    } catch (err) {
      process.nextTick(done, err as NodeJS.ErrnoException);
    }
  }

  private synced(sync: PendingSync, err: NodeJS.ErrnoException | null): void {
    this.running--;
    if (this.closed) {
      // close() already synced and settled everything.
      if (this.running === 0) this.closeWal();
      return;
    }
    sync.done = true;
    if (err) {
      // The batches did commit, but whether they are durable is unknown: their ops reject.
      sync.error = err;
    } else {
      // A completed fdatasync covers every commit made before it started, so the older ones' batches are
      // durable too (an older fdatasync that already failed keeps its error).
      // (One that already settled, overtaken by a newer one, covers nothing still pending.)
      const i = this.syncs.indexOf(sync);
      for (let j = 0; j < i; j++) this.syncs[j]!.done = true;
    }
    // Start the next fdatasync first, so the disk is busy while we settle.
    if (this.dirty && this.running < this.maxSyncs) this.startSync();
    // Settle strictly in order: never past an fdatasync still running.
    while (this.syncs.length > 0 && this.syncs[0]!.done) {
      const first = this.syncs.shift()!;
      for (const batch of first.batches) this.settle(batch, first.error);
    }
  }

  private settle(batch: Batch, error?: unknown): void {
    // Before the ops settle: what reacts to them sees the participants told.
    if (batch.tokens && error === undefined) this.participants.forEach((p, i) => p.durable?.(batch.tokens![i]));
    settle(batch, error);
    if (batch.startedAt !== undefined && error === undefined) this.observer?.((performance.now() - batch.startedAt) / 1000, batch.length);
  }

  /** Opens our fd on the WAL and makes everything committed so far (the migrations, say) durable. */
  private openWal(): void {
    const walPath = walFile(this.db);
    if (walPath === undefined) return;
    if (!existsSync(walPath)) throw new Error(`SQLite WAL file missing after opening in WAL mode: ${walPath}`);
    // Read-write: some platforms refuse to flush a read-only handle. No locks live on the -wal file (they
    // are on the database file and -shm), so closing this fd cannot drop any of SQLite's POSIX locks.
    const fd = openSync(walPath, 'r+');
    try {
      // FULL syncs the directory of a newly created WAL at its first sync; NORMAL defers that to the first
      // checkpoint. Syncing it here also covers a database file created by this open.
      syncDirectory(dirname(walPath));
      this.stats.syncs++;
      fdatasyncSync(fd);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.walFd = fd;
  }

  private closeWal(): void {
    if (this.walFd === undefined) return;
    const fd = this.walFd;
    this.walFd = undefined;
    closeSync(fd);
  }
}

function settle(batch: Batch, error?: unknown): void {
  for (const op of batch) {
    if (!op.ok) op.reject(op.error);
    else if (error !== undefined) op.reject(error);
    else op.resolve(op.result);
  }
}

function syncDirectory(dir: string): void {
  // Windows cannot open a directory; NTFS journals its metadata.
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
