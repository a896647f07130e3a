// Group commit for PostgreSQL: the writes one process issues while the previous batch is committing run
// together in ONE transaction on one pooled connection, in issue order, and every write's promise settles
// only after that transaction's COMMIT has returned (synchronous_commit=on: flushed to WAL on disk). One
// WAL flush and one BEGIN/COMMIT pair then cover a whole batch.
//
// Why not one transaction per write on the pool (both measured in bench/storage-postgres.ts):
// - Order. The contract wants the writes of one process applied in the order they were issued (500
//   unawaited publishes land newest-last; a roster version returned later is the newer one). Independent
//   transactions on N pooled connections race; a single ordered lane does not.
// - Cost. A lone write costs BEGIN + its statements + COMMIT (and a WAL flush); inside a batch it costs
//   only its statements, one round trip for nearly every write (publishItem is one PL/pgSQL call).
//
// Failures without savepoints. The SQLite adapter wraps each write in a SAVEPOINT; here that would add a
// round trip to every write (the lane's throughput is bounded by round trips: at 256 concurrent
// publishers, 1.1-1.6k publishes/s with savepoints against 2.3-3.6k without, on a loaded 2-core
// machine), and more than 64 subtransactions in one
// transaction overflow PostgreSQL's per-backend subxid cache, slowing every other backend's snapshots.
// Instead a failing write rolls the whole transaction back; the writes before it are replayed in a fresh
// transaction and committed, then the failed write runs first in a transaction of its own, where it
// either fails again (and rejects alone) or succeeds. Writes are closures that only issue SQL, so a
// replay is invisible: the rolled-back attempt never existed. Failures are rare (duplicate account,
// missing node), so replays cost little.
//
// Several servers writing the same rows: statements take row locks (SELECT ... FOR UPDATE, UPDATE ...
// RETURNING, upserts), held until COMMIT. Two batches from different processes can therefore deadlock
// (A locks X then wants Y, B locks Y then wants X); PostgreSQL aborts one statement with 40P01. The victim
// rolls back (releasing its locks, so the other proceeds), replays the writes before the loser, commits
// them, and retries the loser first in a fresh transaction: progress is guaranteed and issue order kept.
//
// Participants (join): work an adapter defers to the end of a transaction, still inside it, before COMMIT.
// The transparency log appends a batch's key events there, all at once (one lock and one read of each log's
// end per batch instead of per event). A participant starts afresh at every BEGIN: a rolled-back attempt's
// deferred work is dropped with it, and the replay defers it again. When the flush fails, the transaction
// rolls back; a deadlock or serialization conflict retries the same writes, any other failure runs them
// again one per transaction, so that a write whose deferred work cannot be done fails alone.
//
// Reads: with no write queued or in flight a read runs at once on any pooled connection. Otherwise it
// waits until every write issued before it has committed, so a read always sees this process's earlier
// writes (and, being READ COMMITTED, whatever other servers have committed).
import type { Pool, PoolClient } from 'pg';
import { StorageClosedError } from '../errors.ts';
import { dbOf, type Db } from './db.ts';
import type { CommitObserver } from '../types.ts';

interface QueuedWrite {
  fn: (db: Db) => Promise<unknown>;
  resolve: (value: any) => void;
  reject: (reason: unknown) => void;
  attempts: number;
  /** Failed after other writes in a transaction (or its deferred work did): must run first in the next one. */
  isolate?: boolean;
  result?: unknown;
}

/** See "Participants" above. */
export interface BatchParticipant {
  /** A transaction begins: drop whatever an earlier, rolled-back one deferred. */
  begin(): void;
  /** Does the deferred work on the transaction's connection, before COMMIT. Throwing rolls it back. */
  flush(db: Db): Promise<void>;
}

export interface GroupCommitStats {
  batches: number;
  transactions: number;
  operations: number;
  /** Transactions rolled back because a write in them failed (its predecessors are then replayed). */
  rollbacks: number;
  /** Writes retried after losing a deadlock or serialization conflict while first in their transaction. */
  retries: number;
}

/** Bounds how long one batch holds its row locks (and what a failure replays). */
const MAX_BATCH = 128;
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
  readonly stats: GroupCommitStats = { batches: 0, transactions: 0, operations: 0, rollbacks: 0, retries: 0 };
  /** Told of each batch once every write in it has committed or failed (metrics). */
  observer: CommitObserver | undefined;
  private readonly participants: BatchParticipant[] = [];

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

  join(p: BatchParticipant): void {
    this.participants.push(p);
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
    const t0 = this.observer ? performance.now() : undefined;
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      for (const op of ops) op.reject(err);
      return;
    }
    const db = dbOf(client);
    let broken: Error | undefined;
    let pending = ops;
    try {
      // One transaction per iteration; normally a single one commits the whole batch.
      while (pending.length > 0) {
        await client.query('BEGIN');
        this.stats.transactions++;
        for (const p of this.participants) p.begin();
        const done: QueuedWrite[] = [];
        let failed = false;
        for (const op of pending) {
          if (op.isolate && done.length > 0) break;
          try {
            op.result = await op.fn(db);
            done.push(op);
          } catch (err) {
            failed = true;
            this.stats.rollbacks++;
            await client.query('ROLLBACK');
            if (done.length > 0) {
              // Undo the writes before it too, then replay them and run this one first in a transaction
              // of its own, where its outcome is its own.
              op.isolate = true;
            } else if (isRetryable(err) && ++op.attempts < MAX_ATTEMPTS) {
              this.stats.retries++;
            } else {
              op.reject(err);
              pending = pending.slice(1);
            }
            break;
          }
        }
        if (failed) continue;
        try {
          for (const p of this.participants) await p.flush(db);
        } catch (err) {
          // `done` holds at least the first write (had it failed, we would not be here).
          this.stats.rollbacks++;
          await client.query('ROLLBACK');
          if (isRetryable(err) && ++done[0]!.attempts < MAX_ATTEMPTS) this.stats.retries++;
          else if (done.length > 1) for (const op of done) op.isolate = true;
          else {
            done[0]!.reject(err);
            pending = pending.slice(1);
          }
          continue;
        }
        await client.query('COMMIT');
        this.stats.operations += done.length;
        for (const op of done) op.resolve(op.result);
        pending = pending.slice(done.length);
      }
      if (t0 !== undefined) this.observer?.((performance.now() - t0) / 1000, ops.length);
    } catch (err) {
      // Connection-level failure (or COMMIT refused): nothing unsettled committed, or its outcome is
      // unknown. Writes settled by an earlier COMMIT stay resolved (a second settle is a no-op).
      broken = err as Error;
      for (const op of ops) op.reject(err);
      await client.query('ROLLBACK').catch(() => undefined);
    } finally {
      // A broken connection is destroyed instead of going back to the pool.
      client.release(broken);
    }
  }
}
