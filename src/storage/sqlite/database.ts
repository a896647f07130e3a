// Opens the SQLite file with the pragmas every pepkeys database runs under.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;
export type Synchronous = 'FULL' | 'NORMAL';

export function openDatabase(path: string, synchronous: Synchronous = 'FULL'): SqliteDatabase {
  const inMemory = path === ':memory:' || path === '';
  // A fresh install points at a data directory that may not exist yet.
  if (!inMemory) mkdirSync(dirname(resolve(path)), { recursive: true });
  const db = new Database(path);
  try {
    // WAL lets readers run beside the writer and makes commits one sequential append to the log.
    db.pragma('journal_mode = WAL');
    // FULL syncs the WAL at every commit, so an acknowledged write survives power loss; NORMAL only
    // survives a process crash. Group commit amortises the sync over a whole batch.
    db.pragma(`synchronous = ${synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
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
