// The SQLite storage worker: runs the ordinary SQLite adapter (group commit, fdatasync before settling) on
// its own thread, so statement execution and COMMIT leave the server's event loop. See worker-storage.ts.
import { parentPort, workerData } from 'node:worker_threads';
import type { Storage } from '../types.ts';
import { openSqliteStorage } from './index.ts';
import { serializeError, type Call, type FromWorker, type Reply, type ToWorker, type WorkerInit } from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('storage/sqlite/worker.ts runs as a worker thread only');

const post = (message: FromWorker) => port.postMessage(message);

let storage: Storage;
try {
  storage = openSqliteStorage((workerData as WorkerInit).options);
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'open-failed', error: serializeError(err) });
  port.close();
}

let replies: Reply[] = [];
let flushing = false;
// Replies settled in one turn go back in one message. A batch's ops settle together (group commit), and
// their reactions are queued before the microtask queued here, so it sends them all at once.
function reply(r: Reply): void {
  replies.push(r);
  if (flushing) return;
  flushing = true;
  queueMicrotask(flushReplies);
}

function flushReplies(): void {
  flushing = false;
  if (replies.length === 0) return;
  const batch = replies;
  replies = [];
  post({ type: 'replies', replies: batch });
}

function run([id, store, method, args]: Call): void {
  let result: Promise<unknown>;
  try {
    const target = storage[store] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    result = target[method]!(...args);
  } catch (err) {
    result = Promise.reject(err);
  }
  // The adapter settles ops in the order they were issued, so replies leave in that order too.
  result.then(
    (value) => reply([id, true, value]),
    (err: unknown) => reply([id, false, serializeError(err)]),
  );
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'calls') {
    for (const call of message.calls) run(call);
    return;
  }
  // close: settles whatever is still queued (durably), then answers. The answer waits for a macrotask so
  // that every reply those settlements produce (some go through a few promise hops) leaves before it.
  const answer = (error?: unknown) =>
    setImmediate(() => {
      flushReplies();
      post(error === undefined ? { type: 'closed' } : { type: 'closed', error: serializeError(error) });
      port.close();
    });
  storage.close().then(() => answer(), answer);
});
