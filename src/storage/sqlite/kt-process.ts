// The key-log process (kt-journal.ts starts it below the server's priority: runtime/background-process.ts):
// drains the main file's journal of key events into the transparency file (kt-file.ts) and answers the log's
// reads. Per drain, in one transaction of the
// transparency file: the journal records after its cursor up to the bound the event loop announced
// (records of durable batches only), each a batch's key events (kt-journal-record.ts), every event derived
// (payload hash, fingerprint: transparency/key-events.ts) and appended in order by the same block code the
// inline store uses, and the new cursor. The cursor counts records, not events: records are numbered in
// commit order, never reused (migration 10), and always appended whole, so it makes every record's append happen exactly once, whichever
// process drains it, and after any crash.
import { closeSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { walFile } from './database.ts';
import { deriveKeyEvent } from '../../transparency/key-events.ts';
import type { LogAppend, TransparencyStore } from '../types.ts';
import { openKtFile } from './kt-file.ts';
import { decodeJournalRecord } from './kt-journal-record.ts';
import { GroupCommit } from './group-commit.ts';
import { createSqliteKtMap } from './kt-map.ts';
import type { KtMapStore } from '../kt-map.ts';
import { createTransparencyStore } from './transparency.ts';
import { serializeError } from './worker-protocol.ts';
import type { KtThreadInit, KtToThread, KtFromThread } from './kt-protocol.ts';
import { parentChannel } from '../../runtime/background-process.ts';
import { LogHosts } from './kt-hosts.ts';

const channel = parentChannel<KtToThread, KtFromThread>();
const post = (m: KtFromThread) => channel.postMessage(m);
const { mainPath, ktPath } = channel.data as KtThreadInit;

/** Key events appended per transaction of the transparency file, about (bounds its duration and memory): whole records up to this many, at least one. */
const DRAIN_CHUNK = 2048;

let kt: Database.Database;
let main: Database.Database;
let store: TransparencyStore;
let appendAll: (events: readonly LogAppend[]) => void;
let finished: (committed: boolean) => void;
let mapStore: KtMapStore;
let mapGc: GroupCommit;
try {
  kt = openKtFile(ktPath);
  // Reads only: this connection never writes the main file, so the event loop's connection keeps its cache.
  main = new Database(mainPath, { fileMustExist: true });
  main.pragma('query_only = 1');
  main.pragma('busy_timeout = 5000');
  ({ store, appendAll, finished } = createTransparencyStore(kt, undefined));
  // The map's epochs go through a group commit of their own, which syncs the WAL before an epoch is
  // reported stored (its head is then published); the drains' transactions run between its batches.
  mapGc = new GroupCommit(kt, { syncWal: true });
  mapStore = createSqliteKtMap(kt, mapGc);
} catch (err) {
  channel.exit({ type: 'open-failed', error: serializeError(err) }, 1);
  // Nothing below may run: the files are not open (the exit above happens once the message is sent).
  await new Promise(() => {});
  throw err;
}

const selectJournal = main.prepare('SELECT seq, events FROM kt_journal WHERE seq > ? AND seq <= ? ORDER BY seq').raw();
const selectCursor = kt.prepare("SELECT value FROM kt_meta WHERE key = 'cursor'").pluck();
const setCursor = kt.prepare("INSERT INTO kt_meta (key, value) VALUES ('cursor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");

let cursor = (selectCursor.get() as number | undefined) ?? 0;
/** The highest record number of a durable batch the event loop announced. */
let bound = 0;

// Durability: the transparency file commits without syncing (kt-file.ts openKtFile); its WAL is fdatasynced
// here, at most every SYNC_INTERVAL_MS, and the cursor a sync covers is what the event loop is told (it then
// deletes those journal records).
const SYNC_INTERVAL_MS = 100;
const walPath = walFile(kt);
const walFd = walPath === undefined ? undefined : openSync(walPath, 'r+');
let syncing = false;
let syncTimer: NodeJS.Timeout | undefined;
let lastSync = 0;
let reported = 0;

function scheduleSync(): void {
  if (syncing || syncTimer || cursor <= reported) return;
  syncTimer = setTimeout(syncNow, Math.max(0, lastSync + SYNC_INTERVAL_MS - Date.now()));
}

function syncNow(): void {
  syncTimer = undefined;
  if (walFd === undefined) return report(cursor);
  syncing = true;
  lastSync = Date.now();
  const upTo = cursor;
  fdatasync(walFd, (err) => {
    syncing = false;
    if (err) return guarded(() => {
      throw err;
    });
    report(upTo);
    scheduleSync();
  });
}

function report(upTo: number): void {
  if (upTo <= reported) return;
  reported = upTo;
  post({ type: 'drained', cursor: upTo });
}

/** Appends every announced record not appended yet. */
function drain(): void {
  while (cursor < bound) {
    channel.exitIfOrphaned();
    const before = cursor;
    let ok = false;
    try {
      drainChunk();
      ok = true;
    } finally {
      finished(ok);
    }
    if (cursor === before) break;
  }
  scheduleSync();
}

/** One transaction of the transparency file: the records of about DRAIN_CHUNK events and the cursor after them. */
function drainChunk(): void {
  const start = cursor;
  try {
    kt.transaction(() => {
      // Another server's key-log process (or an orphan of a killed one) may have drained some (the same files opened twice): its cursor wins.
      const stored = (selectCursor.get() as number | undefined) ?? 0;
      const from = Math.max(stored, cursor);
      const read: LogAppend[] = [];
      let last = from;
      let more = false;
      for (const [seq, text] of selectJournal.iterate(from, bound) as IterableIterator<[number, string]>) {
        // Whole records only: the cursor counts them.
        if (read.length >= DRAIN_CHUNK) {
          more = true;
          break;
        }
        for (const e of decodeJournalRecord(text)) read.push(e);
        last = seq;
      }
      // Derived once the read has ended: a read of the main file holds its WAL back (the event loop's
      // checkpoints cannot reset it) for as long as it lasts, and deriving is most of a drain's time.
      const events = read.map(({ domain, event }) => ({ domain, event: deriveKeyEvent(event) }));
      if (events.length === 0) {
        cursor = Math.max(from, bound);
        return;
      }
      appendAll(events);
      // Announced records are committed: none left up to the bound means every number up to it is done.
      cursor = more ? last : Math.max(last, bound);
      setCursor.run(cursor);
    }).immediate();
  } catch (err) {
    cursor = start;
    throw err;
  }
}

let drainScheduled = false;
function scheduleDrain(): void {
  if (drainScheduled) return;
  drainScheduled = true;
  // Announcements arriving together are drained in one go.
  setImmediate(() => {
    drainScheduled = false;
    guarded(drain);
  });
}

function guarded(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    // The transparency file or the journal cannot be read or written: nothing here can go on safely.
    channel.exit({ type: 'fatal', error: serializeError(err) }, 1);
  }
}

const hosts = new LogHosts(() => ({ log: store, map: mapStore }), (host, message) => post({ type: 'hosted', host, message }));

const methods = store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
const mapMethods = mapStore as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;

/**
 * The hashes as arrays of their own: the tree's are views into one buffer per level (node-cache.ts), and
 * posting a view copies its whole buffer (megabytes at 10^6 leaves, per proof).
 */
const ownBuffers = (hashes: Uint8Array[]): Uint8Array[] => hashes.map((h) => (h.byteOffset === 0 && h.byteLength === h.buffer.byteLength ? h : h.slice()));

function answer(id: number, run: () => Promise<unknown>): void {
  let result: Promise<unknown>;
  try {
    result = run();
  } catch (err) {
    result = Promise.reject(err);
  }
  result.then(
    (value) => post({ type: 'reply', id, ok: true, value }),
    (err: unknown) => post({ type: 'reply', id, ok: false, error: serializeError(err) }),
  );
}

channel.onMessage((m: KtToThread) => {
  switch (m.type) {
    case 'journal':
      bound = Math.max(bound, m.upTo);
      scheduleDrain();
      return;
    case 'call': {
      // A read sees every key event whose write settled before it was issued.
      bound = Math.max(bound, m.after);
      if (cursor < m.after) guarded(drain);
      answer(m.id, () => (m.method === 'nodes' ? store.nodes(...(m.args as Parameters<TransparencyStore['nodes']>)).then(ownBuffers) : methods[m.method]!(...m.args)));
      return;
    }
    case 'map':
      answer(m.id, () => mapMethods[m.method]!(...m.args));
      return;
    case 'host':
      answer(m.id, () => hosts.start(m.host, m.url, m.init));
      return;
    case 'hosted':
      answer(m.id, () => hosts.call(m.host, m.message));
      return;
    case 'close':
      // Hosted modules finish (and stop their own processes) while the files are still open.
      void hosts.close().finally(() => closeFiles());
      return;
  }
});

function closeFiles(): void {
  guarded(() => {
    mapGc.close();
    drain();
    if (syncTimer) clearTimeout(syncTimer);
    if (walFd !== undefined) {
      fdatasyncSync(walFd);
      closeSync(walFd);
    }
  });
  kt.close();
  main.close();
  channel.exit({ type: 'closed' }, 0);
}

guarded(() => {
  // What the journal held at start (a crash or stop before it was drained) is drained first.
  bound = main.prepare('SELECT coalesce(max(seq), 0) FROM kt_journal').pluck().get() as number;
  // What a crashed process committed here may not be on disk yet: synced before it is reported.
  if (walFd !== undefined) fdatasyncSync(walFd);
  reported = cursor;
  drain();
});
post({ type: 'ready', cursor: reported });
