// The SQLite adapter on a worker thread: the same stores, group commit and fdatasync-before-settling as
// openSqliteStorage, but executed by worker.ts, so that SQLite's statements and COMMITs (about a third of
// the server's CPU time under a publish load) run beside the event loop instead of on it.
//
// Every call made during one turn of this thread's event loop crosses in one message, and the worker sends
// its replies in batches as its group commits settle. Replies come back in the order the calls were issued
// (the adapter settles in issue order and the worker keeps it), which preserves the guarantee callers rely
// on: a read issued after a write sees it.
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../runtime/start-worker.ts';
import type { Storage } from '../types.ts';
import { StorageClosedError } from '../errors.ts';
import type { SqliteStorageOptions } from './index.ts';
import {
  deserializeError,
  STORE_METHODS,
  type Call,
  type FromWorker,
  type StoreName,
  type ToWorker,
  type WorkerInit,
} from './worker-protocol.ts';

export interface SqliteWorkerStorageOptions extends SqliteStorageOptions {
  /**
   * Called once if the worker thread dies unexpectedly. Every pending and later call then rejects; the
   * server cannot go on without its storage, so the caller usually logs this and stops.
   */
  onFatal?: (err: Error) => void;
}

export interface SqliteWorkerStorage extends Storage {
  /** The thread SQLite runs on (its threadId names it in diagnostics). */
  readonly worker: Worker;
}

interface Pending {
  resolve: (value: any) => void;
  reject: (err: unknown) => void;
}

/** Opens the database on a worker thread; resolves once it is open and migrated (or rejects as openSqliteStorage throws). */
export async function openSqliteWorkerStorage(options: SqliteWorkerStorageOptions): Promise<SqliteWorkerStorage> {
  const { onFatal, ...sqliteOptions } = options;
  const init: WorkerInit = { options: sqliteOptions };
  const worker = startWorker(import.meta.url, 'worker', { workerData: init });
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let outgoing: Call[] = [];
  let sendScheduled = false;
  /** Set once nothing more may be called: closing, closed or dead. */
  let refusal: (() => Error) | undefined;
  let closing: Promise<void> | undefined;
  let closed: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  let opened: { resolve: () => void; reject: (err: unknown) => void } | undefined;

  const failAll = (err: () => Error) => {
    for (const p of pending.values()) p.reject(err());
    pending.clear();
  };

  // While a call is pending the worker keeps the process alive (a CLI command awaiting its write must not
  // exit); otherwise it does not, as an open database on the main thread would not either.
  let awaitingClose = false;
  const reference = () => {
    if (pending.size === 0 && !awaitingClose) worker.unref();
    else worker.ref();
  };

  const send = () => {
    sendScheduled = false;
    if (outgoing.length === 0) return;
    const calls = outgoing;
    outgoing = [];
    worker.postMessage({ type: 'calls', calls } satisfies ToWorker);
  };

  const call = (store: StoreName, method: string, args: unknown[]): Promise<unknown> => {
    if (refusal) return Promise.reject(refusal());
    const id = nextId++;
    // Trailing undefined arguments (optional parameters) need not cross.
    while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
    outgoing.push([id, store, method, args]);
    if (!sendScheduled) {
      sendScheduled = true;
      // Everything this turn of the event loop issues (a socket read's worth of stanzas) goes in one message.
      setImmediate(send);
    }
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      if (pending.size === 1) reference();
    });
  };

  worker.on('message', (message: FromWorker) => {
    switch (message.type) {
      case 'ready':
        opened?.resolve();
        return;
      case 'open-failed':
        refusal = () => new StorageClosedError();
        opened?.reject(deserializeError(message.error));
        return;
      case 'replies':
        for (const [id, ok, value] of message.replies) {
          const p = pending.get(id);
          if (!p) continue;
          pending.delete(id);
          if (ok) p.resolve(value);
          else p.reject(deserializeError(value));
        }
        reference();
        return;
      case 'closed':
        // Everything issued before close() was answered before this; nothing can be left but to be safe.
        failAll(() => new StorageClosedError());
        if (message.error) closed?.reject(deserializeError(message.error));
        else closed?.resolve();
        return;
    }
  });

  let dead = false;
  const died = (err: Error) => {
    dead = true;
    const wasClosing = closing !== undefined;
    refusal ??= () => new Error(`SQLite storage worker stopped: ${err.message}`);
    failAll(refusal);
    opened?.reject(err);
    closed?.reject(err);
    if (!wasClosing) onFatal?.(err);
  };
  worker.on('error', died);
  worker.on('exit', (code) => {
    // A normal exit follows 'closed' (or 'open-failed'); anything else is a crash.
    if (!closed && !refusal) return died(new Error(`the worker thread exited with code ${code}`));
    // Nothing is left after 'closed'; after a crash while closing, what was pending fails rather than hang.
    failAll(refusal ?? (() => new StorageClosedError()));
    closed?.resolve();
  });

  await new Promise<void>((resolve, reject) => {
    opened = { resolve, reject };
  }).finally(() => {
    opened = undefined;
  }).catch(async (err: unknown) => {
    refusal = () => new StorageClosedError();
    await worker.terminate();
    throw err;
  });
  reference();

  const proxy = (store: StoreName) =>
    Object.fromEntries(STORE_METHODS[store].map((m) => [m, (...args: unknown[]) => call(store, m as string, args)]));

  return {
    kind: 'sqlite',
    worker,
    accounts: proxy('accounts') as unknown as Storage['accounts'],
    roster: proxy('roster') as unknown as Storage['roster'],
    offline: proxy('offline') as unknown as Storage['offline'],
    caps: proxy('caps') as unknown as Storage['caps'],
    pubsub: proxy('pubsub') as unknown as Storage['pubsub'],
    archive: proxy('archive') as unknown as Storage['archive'],
    blocklist: proxy('blocklist') as unknown as Storage['blocklist'],
    transparency: proxy('transparency') as unknown as Storage['transparency'],
    ktMap: proxy('ktMap') as unknown as Storage['ktMap'],
    close() {
      if (closing) return closing;
      if (dead) return Promise.resolve();
      refusal ??= () => new StorageClosedError();
      closing = new Promise<void>((resolve, reject) => {
        closed = { resolve, reject };
        awaitingClose = true;
        reference();
        // What is queued still goes, ahead of the close, and settles (durably) before it.
        send();
        worker.postMessage({ type: 'close' } satisfies ToWorker);
      });
      return closing;
    },
  };
}
