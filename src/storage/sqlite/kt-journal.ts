// The key-transparency log of a SQLite file database, as the event loop sees it (docs/transparency.md
// "Storage", "Atomicity"). A group-commit batch's key events cost it one journal record, written at the
// batch's end inside its transaction (kt-journal-record.ts): the payloads as stored, nothing derived. The
// key-log process (kt-process.ts) derives the leaves (payload hash, fingerprint) and appends them to the
// transparency file (kt-file.ts); the records it reports appended are deleted by later batches. So the event
// loop neither hashes, parses, nor writes a block, and its connection is the only writer of its file
// (measured in docs/benchmarks.md: the leaf work inline cost a publish more than half its throughput); one
// record per batch rather than per event spares it an INSERT per key event (sbench, main-thread CPU per
// publish in batches of 16: 16–18 µs with a record per event, 14–15 with one per batch, ~9 without the log).
//
// Guarantees: an event is in a record exactly when its write committed (a write rolled back alone drops the
// events it deferred; the record is written in the batch's transaction), so a leaf is appended exactly for
// the acknowledged events, in commit order (records are numbered in commit order, never reused, and hold
// their events in write order); the key-log process is told only of records of durable batches. A read of
// the log is answered once every record of a batch settled before the read was issued is appended: a client
// that was told its publish succeeded finds its leaf.
import { startBackgroundProcess, type BackgroundProcess } from '../../runtime/background-process.ts';
import { LOWEST_PRIORITY } from '../../runtime/thread-priority.ts';
import { assertEncodable } from '../../transparency/leaf.ts';
import type { LogAppend, TransparencyStore } from '../types.ts';
import { StorageClosedError } from '../errors.ts';
import type { SqliteDatabase } from './database.ts';
import type { GroupCommit } from './group-commit.ts';
import { encodeJournalRecord } from './kt-journal-record.ts';
import type { KtFromThread, KtMapMethod, KtReadMethod, KtThreadInit, KtToThread } from './kt-protocol.ts';
import type { KtMapStore } from '../kt-map.ts';
import type { LogHost, LogHostChannel } from '../log-host.ts';
import { deserializeError } from './worker-protocol.ts';

/** Longest a durable record waits before the key-log process is told of it (unless a read tells it first). */
const ANNOUNCE_MS = 50;

/**
 * The key-log process's nice value, the lowest: on a machine with fewer free cores than busy threads the
 * kernel runs the event loop first (it acknowledges publishes), then the key log (log reads wait for its
 * drain), then the map's VRF process (SCHED_IDLE: vrf-worker.ts). Not SCHED_IDLE itself: it did not help the
 * event loop measurably (won one series of alternating runs, lost two; docs/benchmarks.md), and log reads wait
 * for its drains, which a SCHED_IDLE process on a saturated machine can put off for seconds. Against nice 10 (a weight of 110),
 * 19 (15) halved what the event loop waited for a core; it still drains a burst as soon as a core idles.
 */
const KEY_LOG_PRIORITY = LOWEST_PRIORITY;

export interface KtJournal {
  store: TransparencyStore;
  /** The verifiable maps, kept in the transparency file by the same process. */
  ktMap: KtMapStore;
  /** Modules run in the key-log process, beside the log and the map's store (storage/log-host.ts). */
  logHost: LogHost;
  /** Call only inside a gc.write callback, after the pubsub write it goes with succeeded. */
  append(log: LogAppend): void;
  /** Stops the key-log process once it has drained every record of a durable batch; call after the group commit closed. */
  close(): Promise<void>;
}

export function createKtJournal(db: SqliteDatabase, gc: GroupCommit, paths: { mainPath: string; ktPath: string }): KtJournal {
  const insert = db.prepare('INSERT INTO kt_journal (events) VALUES (?)');
  // Below the drained record, never it: the highest record stays, so max(seq) + 1, the next number, is never one
  // the key-log process's cursor has passed (the table numbers without AUTOINCREMENT, migration 10).
  const deleteBelow = db.prepare('DELETE FROM kt_journal WHERE seq < ?');

  /** The running batch's key events not written yet, in write order. */
  let pending: LogAppend[] = [];
  /** The number of the running batch's last record (a read in the batch makes it write one before it). */
  let written = 0;
  let announceTimer: NodeJS.Timeout | undefined;
  /** The highest record of a durable batch, as told to the key-log process. */
  let announced = 0;
  /** What the key-log process reported appended, and what committed batches deleted of it. */
  let drained = 0;
  let deleted = 0;
  let deleting = 0;

  let worker: BackgroundProcess | undefined;
  let failure: Error | undefined;
  let closing: Promise<void> | undefined;
  let nextId = 0;
  const calls = new Map<number, { resolve: (v: any) => void; reject: (e: unknown) => void }>();
  let onClosed: (() => void) | undefined;

  const fail = (err: Error) => {
    failure ??= err;
    for (const c of calls.values()) c.reject(failure);
    calls.clear();
    onClosed?.();
  };

  /** The key-log process starts at the first key event or read: processes that never touch the log (the CLI's user commands) spare it. */
  const keyLog = (): BackgroundProcess => {
    if (worker) return worker;
    const init: KtThreadInit = paths;
    const w = startBackgroundProcess(import.meta.url, 'kt-process', { data: init, priority: KEY_LOG_PRIORITY });
    worker = w;
    // The records are durable whether or not the key-log process drains them now; only close() waits for it.
    w.unref();
    w.on('message', (m: KtFromThread) => {
      switch (m.type) {
        case 'drained':
          drained = Math.max(drained, m.cursor);
          return;
        case 'reply': {
          const c = calls.get(m.id);
          calls.delete(m.id);
          // Referenced only while it owes answers: an idle key log must not keep a stopping process alive.
          if (calls.size === 0 && !closing) w.unref();
          if (m.ok) c?.resolve(m.value);
          else c?.reject(deserializeError(m.error));
          return;
        }
        case 'open-failed':
        case 'fatal':
          fail(deserializeError(m.error));
          return;
        case 'closed':
          for (const c of calls.values()) c.reject(new StorageClosedError());
          calls.clear();
          onClosed?.();
          return;
        case 'ready':
          drained = Math.max(drained, m.cursor);
          return;
        case 'hosted':
          for (const h of hosted.get(m.host) ?? []) h(m.message);
          return;
      }
    });
    w.on('error', (err) => fail(err));
    w.on('exit', (code) => {
      if (!closing || code !== 0) fail(new Error(`the key-log process exited (code ${code})`));
    });
    if (announced > 0) send({ type: 'journal', upTo: announced });
    return w;
  };
  const send = (m: KtToThread) => keyLog().postMessage(m);

  gc.join({
    mark: () => pending.length,
    // The write started at `mark` rolled back alone: its events go with it (no flush runs in between).
    rollbackTo: (mark) => void (pending.length = mark),
    flush: () => {
      // Records the key-log process has appended go in whichever batch comes next.
      if (drained > deleted && deleting < drained) {
        deleteBelow.run(drained);
        deleting = drained;
      }
      if (pending.length === 0) return;
      const events = pending;
      pending = [];
      written = Number(insert.run(encodeJournalRecord(events)).lastInsertRowid);
    },
    finished: (committed) => {
      // Rolled back whole (a participant threw before flushing, say): what was deferred goes with it.
      pending = [];
      const wrote = written;
      written = 0;
      if (!committed) {
        deleting = deleted;
        return undefined;
      }
      deleted = Math.max(deleted, deleting);
      return wrote > 0 ? wrote : undefined;
    },
    durable: (token) => {
      if (typeof token !== 'number' || token <= announced) return;
      announced = token;
      // One message per ANNOUNCE_MS at most: a message over the IPC channel costs the event loop tens of
      // microseconds (serialization, a write, the key-log process woken), more than a small batch's journal
      // records; reads carry what is announced themselves, so none waits for it, and the key-log process
      // drains larger chunks. (Measured with one per 5 ms: ~1% of the event loop, docs/benchmarks.md.)
      announceTimer ??= setTimeout(() => {
        announceTimer = undefined;
        if (!closing) send({ type: 'journal', upTo: announced });
      }, ANNOUNCE_MS);
    },
  });

  function append({ domain, event }: LogAppend): void {
    // An event without a leaf encoding fails its own write here: the key-log process must be able to append every record.
    assertEncodable(event);
    // Only a batch writes and announces records (its participant, above).
    if (!gc.inBatch) throw new Error('a key event journalled outside a group-commit batch');
    pending.push({ domain, event });
  }

  /** Sends one call to the key-log process; its reply settles the promise. */
  function request<T>(message: (id: number) => KtToThread): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (failure) return reject(failure);
      if (closing) return reject(new StorageClosedError());
      const id = nextId++;
      calls.set(id, { resolve, reject });
      keyLog().ref();
      send(message(id));
    });
  }

  function call<T>(method: KtReadMethod, args: unknown[]): Promise<T> {
    // Behind every write issued before it (and so after its batch was announced, once durable).
    return gc.read(() => undefined).then(() => request<T>((id) => ({ type: 'call', id, method, args, after: announced })));
  }

  /** A call of the map's store: nothing it reads depends on the journal, so it goes at once. */
  const mapCall = <T>(method: KtMapMethod, args: unknown[]): Promise<T> => request<T>((id) => ({ type: 'map', id, method, args }));
  const ktMap: KtMapStore = {
    range: (...a) => mapCall('range', a),
    get: (...a) => mapCall('get', a),
    inserted: (...a) => mapCall('inserted', a),
    versions: (...a) => mapCall('versions', a),
    latestVersion: (...a) => mapCall('latestVersion', a),
    addEpoch: (...a) => mapCall('addEpoch', a),
    latestEpoch: (...a) => mapCall('latestEpoch', a),
    epoch: (...a) => mapCall('epoch', a),
  };

  /** Each hosted module's handlers of the messages it posts. */
  const hosted = new Map<number, ((message: unknown) => void)[]>();
  let nextHost = 0;
  const logHost: LogHost = {
    host(url, init) {
      const host = nextHost++;
      const handlers: ((message: unknown) => void)[] = [];
      hosted.set(host, handlers);
      const started = request<void>((id) => ({ type: 'host', id, host, url, init }));
      // A module that failed to start fails every call; nobody may wait on this promise itself.
      started.catch(() => {});
      const channel: LogHostChannel = {
        call: <T>(message: unknown) => started.then(() => request<T>((id) => ({ type: 'hosted', id, host, message }))),
        onMessage: (handler) => void handlers.push(handler),
      };
      return channel;
    },
  };

  const store: TransparencyStore = {
    size: (domain) => call('size', [domain]),
    nodes: (domain, refs) => call('nodes', [domain, refs]),
    entries: (domain, start, end) => call('entries', [domain, start, end]),
    entriesOf: (domain, jid, from, max) => call('entriesOf', [domain, jid, from, max]),
  };

  return {
    store,
    ktMap,
    logHost,
    append,
    close() {
      if (closing) return closing;
      if (announceTimer) clearTimeout(announceTimer);
      // The key-log process drains up to what is durable before it closes.
      if (worker && announced > 0) worker.postMessage({ type: 'journal', upTo: announced } satisfies KtToThread);
      const w = worker;
      if (!w || failure) {
        closing = Promise.resolve();
        if (w) void w.terminate();
        return closing;
      }
      closing = new Promise<void>((resolve) => {
        onClosed = () => {
          onClosed = undefined;
          resolve();
        };
        // Kept alive until the key-log process has drained and closed its files.
        w.ref();
        w.postMessage({ type: 'close' } satisfies KtToThread);
      });
      return closing;
    },
  };
}
