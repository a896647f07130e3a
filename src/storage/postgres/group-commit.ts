// Group commit for PostgreSQL: the writes one process issues while the previous batch is committing are run
// together in ONE transaction on one pooled connection, each inside its own savepoint, and every write's
// promise settles only after that transaction's COMMIT has returned (synchronous_commit=on: flushed to
// WAL on disk). One WAL flush and one BEGIN/COMMIT pair then cover a whole batch.
//
// Why this design rather than one transaction per write on the pool (measured in bench/storage-postgres.ts
// and reported in docs/configuration.md):
// - Order. The contract wants the writes of one process applied in the order they were issued (500
//   unawaited publishes land newest-last; a roster version returned later is the newer one). Independent
//   transactions on N pooled connections race; a single ordered lane does not.
// - Round trips. A lone write costs BEGIN + statements + COMMIT; inside a batch it costs its statements plus
//   one combined "RELEASE SAVEPOINT; SAVEPOINT" simple query, and the batch shares one COMMIT and one fsync.
//
// Savepoints: a write that fails (SQL error or a thrown NodeNotFoundError, ...) is rolled back alone with
// ROLLBACK TO SAVEPOINT and rejects; the rest of the batch commits. Batches are capped at 64 writes, the
// size of PostgreSQL's per-backend subtransaction cache, so a batch never overflows it (an overflowed
// transaction makes every other backend's snapshots slower while it is open).
//
// Several nodes writing the same rows: statements take row locks (SELECT ... FOR UPDATE, UPDATE ...
// RETURNING, upserts), held until COMMIT. Two batches from different processes can therefore deadlock
// (A locks X then wants Y, B locks Y then wants X); PostgreSQL aborts one statement with 40P01. The victim
// rolls back that write's savepoint, COMMITs the writes before it (releasing its locks) and retries the
// write at the start of a fresh transaction, so progress is guaranteed and issue order is kept.
//
// Reads: with no write queued or in flight a read runs at once on any pooled connection. Otherwise it
// waits until every write issued before it has committed, so a read always sees this process's earlier
// writes (and, being READ COMMITTED, whatever other nodes have committed).
import type { Pool, PoolClient } from 'pg';
import { StorageClosedError } from '../errors.ts';
import { dbOf, type Db } from './db.ts';

interface QueuedWrite {
  fn: (db: Db) => Promise<unknown>;
  resolve: (value: any) => void;
  reject: (reason: unknown) => void;
  attempts: number;
  ok?: boolean;
  result?: unknown;
  error?: unknown;
}

export interface GroupCommitStats {
  batches: number;
  transactions: number;
  operations: number;
  retries: number;
}

/** PostgreSQL's PGPROC_MAX_CACHED_SUBXIDS. */
const MAX_BATCH = 64;
/** How often one write is retried after losing a deadlock or serialization conflict. */
const MAX_ATTEMPTS = 8;
const RETRYABLE = new Set(['40P01', '40001']); // deadlock_detected, serialization_failure

const isRetryable = (err: unknown) => RETRYABLE.has((err as { code?: string })?.code ?? '');

export class GroupCommit {
  private queue: QueuedWrite[] = [];
  private running: Promise<void> | undefined;
  private closed = false;
  /** Settles when every write queued so far has settled; reads wait on it. */
  private idle: Promise<void> = Promise.resolve();
  private pendingWrites = 0;
  private readonly poolDb: Db;
  readonly stats: GroupCommitStats = { batches: 0, transactions: 0, operations: 0, retries: 0 };

  constructor(private readonly pool: Pool) {
    this.poolDb = dbOf(pool);
  }

  /** Queues a write; `fn` runs on the batch's connection inside a transaction and its own savepoint. */
  write<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StorageClosedError());
    const promise = new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve, reject, attempts: 0 });
    });
    this.pendingWrites++;
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    void settled.then(() => this.pendingWrites--);
    // Writes settle in issue order, so waiting for the last one waits for all.
    this.idle = settled;
    this.kick();
    return promise;
  }

  /** Runs a read on the pool, after every write issued before it has committed. */
  async read<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    if (this.closed) throw new StorageClosedError();
    if (this.pendingWrites > 0) await this.idle;
    return fn(this.poolDb);
  }

  /** Waits for every queued write, then refuses further operations. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle;
  }

  private kick(): void {
    if (this.running) return;
    // Start on the next turn so the whole current burst (and its promise continuations) joins the batch;
    // while a batch runs, new writes gather and go in the next one.
    this.running = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const ops = this.queue.splice(0, MAX_BATCH);
        await this.runBatch(ops);
      }
    } finally {
      this.running = undefined;
      if (this.queue.length > 0) this.kick();
    }
  }

  private async runBatch(ops: QueuedWrite[]): Promise<void> {
    this.stats.batches++;
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      for (const op of ops) op.reject(err);
      return;
    }
    const db = dbOf(client);
    let broken: Error | undefined;
    let next = 0;
    try {
      // One transaction per iteration; normally a single one covers the whole batch.
      while (next < ops.length) {
        const first = next;
        let retryFrom: number | undefined;
        await client.query('BEGIN; SAVEPOINT w');
        this.stats.transactions++;
        for (; next < ops.length; next++) {
          const op = ops[next];
          if (next > first) await client.query('RELEASE SAVEPOINT w; SAVEPOINT w');
          try {
            op.result = await op.fn(db);
            op.ok = true;
          } catch (err) {
            // Restores the transaction to before this write (also after a SQL error aborted it). If even
            // this fails the connection is gone and the outer catch fails the batch.
            await client.query('ROLLBACK TO SAVEPOINT w');
            if (isRetryable(err) && ++op.attempts < MAX_ATTEMPTS) {
              this.stats.retries++;
              retryFrom = next;
              break;
            }
            op.ok = false;
            op.error = err;
          }
        }
        try {
          await client.query('COMMIT');
        } catch (err) {
          // Nothing in this transaction committed.
          for (let i = first; i < (retryFrom ?? next); i++) ops[i].reject(err);
          await client.query('ROLLBACK').catch(() => undefined);
          continue;
        }
        this.stats.operations += (retryFrom ?? next) - first;
        for (let i = first; i < (retryFrom ?? next); i++) {
          const op = ops[i];
          if (op.ok) op.resolve(op.result);
          else op.reject(op.error);
        }
      }
    } catch (err) {
      // Connection-level failure: whatever was not settled did not commit (or its outcome is unknown).
      broken = err as Error;
      // Ops settled by an earlier COMMIT stay resolved (a second settle is a no-op); the current
      // transaction's never committed.
      for (const op of ops) op.reject(err);
      await client.query('ROLLBACK').catch(() => undefined);
    } finally {
      // A broken connection is destroyed instead of going back to the pool.
      client.release(broken);
    }
  }
}
