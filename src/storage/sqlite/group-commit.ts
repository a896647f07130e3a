// Group commit: every write queued during one turn of the event loop runs in a single transaction, and
// each write's promise settles only after that transaction has committed. One fsync then covers the whole
// batch, which is what makes synchronous=FULL affordable.
//
// Each write runs inside its own SAVEPOINT (better-sqlite3 turns a nested transaction into one), so a
// write that throws is rolled back alone and rejects, while the rest of the batch still commits.
// Reads arriving while writes are queued join the queue behind them, so a read always sees every write
// issued before it; with nothing queued a read runs at once.
import type { Transaction } from 'better-sqlite3';
import type { SqliteDatabase } from './database.ts';
import { StorageClosedError } from '../errors.ts';

interface QueuedOp {
  fn: () => unknown;
  write: boolean;
  resolve: (value: any) => void;
  reject: (reason: unknown) => void;
  ok?: boolean;
  result?: unknown;
  error?: unknown;
}

export interface GroupCommitStats {
  batches: number;
  operations: number;
}

export class GroupCommit {
  private queue: QueuedOp[] = [];
  private scheduled = false;
  private closed = false;
  private readonly runOne: Transaction<(fn: () => unknown) => unknown>;
  private readonly runBatch: Transaction<(ops: QueuedOp[]) => void>;
  readonly stats: GroupCommitStats = { batches: 0, operations: 0 };

  constructor(private readonly db: SqliteDatabase) {
    this.runOne = db.transaction((fn: () => unknown) => fn());
    this.runBatch = db.transaction((ops: QueuedOp[]) => {
      for (const op of ops) {
        try {
          op.result = op.write ? this.runOne(op.fn) : op.fn();
          op.ok = true;
        } catch (err) {
          // Some errors (disk full, I/O) make SQLite abandon the whole transaction; later writes would
          // then autocommit one by one behind our back, so give up on the batch instead.
          if (!db.inTransaction) throw err;
          op.ok = false;
          op.error = err;
        }
      }
    });
  }

  /** Queues `fn` (synchronous, database work only) for the next batch. */
  write<T>(fn: () => T): Promise<T> {
    return this.enqueue(fn, true);
  }

  /** Runs `fn` now, unless writes are queued, in which case it runs after them in their batch. */
  read<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new StorageClosedError());
    if (this.queue.length > 0) return this.enqueue(fn, false);
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Commits everything queued, synchronously. */
  flush(): void {
    const ops = this.queue;
    if (ops.length === 0) return;
    this.queue = [];
    try {
      this.runBatch(ops);
    } catch (err) {
      // Nothing in the batch committed.
      for (const op of ops) op.reject(err);
      return;
    }
    this.stats.batches++;
    this.stats.operations += ops.length;
    for (const op of ops) {
      if (op.ok) op.resolve(op.result);
      else op.reject(op.error);
    }
  }

  /** Commits what is queued and refuses anything further. */
  close(): void {
    this.flush();
    this.closed = true;
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
}
