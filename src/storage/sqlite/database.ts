// Opens the SQLite file with the pragmas every pepkeys database runs under.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;
export type Synchronous = 'FULL' | 'NORMAL';

/**
 * FULL: an acknowledged write survives power loss. In WAL mode the connection then runs synchronous=NORMAL
 * and the GroupCommit built on it must be given `syncWal: true`: it fdatasyncs the WAL itself, on the
 * threadpool, before acknowledging a batch (see group-commit.ts). NORMAL: an acknowledged write survives
 * a crash of the process, not of the machine.
 */
export function openDatabase(path: string, synchronous: Synchronous = 'FULL'): SqliteDatabase {
  const inMemory = path === ':memory:' || path === '';
  if (!inMemory) {
    // A fresh install points at a data directory that may not exist yet. The database holds every account's
    // SCRAM keys: the directory is made 0700 and the file 0600 before SQLite creates it (its -wal and -shm
    // files take the database file's mode).
    mkdirSync(dirname(resolve(path)), { recursive: true, mode: 0o700 });
    try {
      closeSync(openSync(path, 'wx', 0o600));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const db = new Database(path);
  try {
    // WAL lets readers run beside the writer and makes commits one sequential append to the log.
    const wal = db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
    // synchronous=FULL would fsync the WAL inside every COMMIT, blocking the main thread for a millisecond
    // or so. In WAL mode NORMAL never corrupts the database (it syncs the WAL before each checkpoint and
    // the database after it) but does not sync at commit; for FULL durability GroupCommit then syncs the
    // commit frames off the main thread before the acknowledgement. Outside WAL mode (':memory:', or a
    // file system without WAL support) FULL stays FULL.
    db.pragma(`synchronous = ${synchronous === 'NORMAL' || wal ? 'NORMAL' : 'FULL'}`);
    // Another process (the CLI's `user` commands) may hold the write lock briefly.
    db.pragma('busy_timeout = 5000');
    // Node deletion relies on ON DELETE CASCADE for items, affiliations and subscriptions.
    db.pragma('foreign_keys = ON');
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * The -wal file of a connection to a database file in WAL mode, created if it is not there yet (SQLite
 * opens it at the first read); undefined for ':memory:' or a connection not in WAL mode.
 */
export function walFile(db: SqliteDatabase): string | undefined {
  if (db.memory || db.pragma('journal_mode', { simple: true }) !== 'wal') return undefined;
  const main = (db.pragma('database_list') as { name: string; file: string }[]).find((d) => d.name === 'main');
  if (!main?.file) return undefined;
  db.pragma('user_version', { simple: true });
  return `${main.file}-wal`;
}
