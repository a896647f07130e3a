// The default storage adapter: one SQLite file (WAL) behind a group-commit write queue.
import type { Storage } from '../types.ts';
import { openDatabase, type Synchronous } from './database.ts';
import { migrate } from './migrations.ts';
import { GroupCommit } from './group-commit.ts';
import { WalCheckpoints } from './checkpoints.ts';
import { createAccountStore } from './accounts.ts';
import { createRosterStore } from './roster.ts';
import { createOfflineStore } from './offline.ts';
import { createCapsStore } from './caps.ts';
import { createPubsubStore } from './pubsub.ts';
import { createArchiveStore } from './archive.ts';
import { createBlocklistStore } from './blocklist.ts';
import { createTransparencyStore } from './transparency.ts';
import { createKtJournal, type KtJournal } from './kt-journal.ts';
import { assertKtFileNotLost, bindKtFile, importMainLogTables, ktFileOf } from './kt-file.ts';
import { createSqliteKtMap } from './kt-map.ts';
import { checkIntegrity, isCorruptionError, writeMarker } from './integrity.ts';
import { StorageCorruptError } from '../errors.ts';

export interface SqliteStorageOptions {
  /** Database file, created with its directory when missing; ':memory:' for a private in-memory database. */
  path: string;
  /**
   * FULL (default): an acknowledged write survives power loss (the WAL is fdatasynced off the main thread
   * before the acknowledgement). NORMAL: it survives a process crash.
   */
  synchronous?: Synchronous;
  /**
   * Start new transparency logs when the transparency file is missing although the journal handed records to
   * it (refused otherwise: kt-file.ts assertKtFileNotLost). An operator's one-off decision: `serve --new-logs`.
   */
  newLogs?: boolean;
}

export function openSqliteStorage(options: SqliteStorageOptions): Storage {
  const synchronous = options.synchronous ?? 'FULL';
  const inMemory = options.path === ':memory:' || options.path === '';
  let db: ReturnType<typeof openDatabase>;
  try {
    db = openDatabase(options.path, synchronous);
  } catch (err) {
    throw isCorruptionError(err) ? new StorageCorruptError(options.path, (err as Error).message) : err;
  }
  let gc: GroupCommit;
  let checkpoints: WalCheckpoints | undefined;
  try {
    if (!inMemory) checkIntegrity(db, options.path);
    // The migrations run under synchronous=NORMAL like everything else; with FULL, the GroupCommit
    // constructor then fdatasyncs the WAL once (and its directory), which makes them durable with one sync
    // however many transactions they took, and keeps every sync decision in group-commit.ts rather than
    // switching the pragma back and forth here.
    migrate(db);
    // The logs live in the transparency file (kt-file.ts); a database from before it hands its own over.
    if (!inMemory) {
      importMainLogTables(db, ktFileOf(options.path));
      assertKtFileNotLost(db, ktFileOf(options.path), options.newLogs);
      bindKtFile(db, ktFileOf(options.path));
    }
    if (!inMemory) writeMarker(options.path);
    checkpoints = WalCheckpoints.open(db);
    gc = new GroupCommit(db, { syncWal: synchronous === 'FULL', checkpoints });
  } catch (err) {
    checkpoints?.close();
    db.close();
    throw isCorruptionError(err) ? new StorageCorruptError(options.path, (err as Error).message) : err;
  }
  const roster = createRosterStore(db, gc);
  const offline = createOfflineStore(db, gc);
  // In memory there is no second file: the log is appended inline, in the batch (transparency.ts).
  const journal: KtJournal | undefined = inMemory ? undefined : createKtJournal(db, gc, { mainPath: options.path, ktPath: ktFileOf(options.path) });
  const transparency = journal ?? createTransparencyStore(db, gc);
  const pubsub = createPubsubStore(db, gc, transparency.append);
  const archive = createArchiveStore(db, gc);
  const blocklist = createBlocklistStore(db, gc);
  const accounts = createAccountStore(db, gc, [roster.deleteOwner, offline.deleteOwner, pubsub.deleteOwner, archive.deleteOwner, blocklist.deleteOwner]);
  let closed = false;
  return {
    kind: 'sqlite',
    accounts,
    roster: roster.store,
    offline: offline.store,
    caps: createCapsStore(db, gc),
    pubsub: pubsub.store,
    archive: archive.store,
    observeCommits(observer) {
      gc.observer = observer;
      return () => {
        if (gc.observer === observer) gc.observer = undefined;
      };
    },
    blocklist: blocklist.store,
    transparency: transparency.store,
    ktMap: journal ? journal.ktMap : createSqliteKtMap(db, gc),
    logHost: journal?.logHost,
    close() {
      // Synchronous, so no operation can slip in between the last flush and the close.
      if (closed) return Promise.resolve();
      closed = true;
      try {
        // Commits what is queued and fdatasyncs the WAL before settling; the connection closes even if that fails.
        try {
          gc.close();
        } finally {
          db.close();
        }
        // The key-log thread drains what the last batches journalled, then closes the transparency file.
        return journal ? journal.close() : Promise.resolve();
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };
}
