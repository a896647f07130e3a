// The transparency file: a second SQLite database beside the main one (PATH-kt.sqlite for PATH.sqlite) that
// holds the key-transparency logs and is written only by the key-log process (kt-process.ts). Its tables are the
// ones migration 7 gave the main file (kt_logs, kt_names, kt_blocks, kt_jids), plus how far the thread has
// drained the main file's journal (kt-journal.ts). Why a second file: a connection that commits to a file
// makes every other connection to it drop its page cache at its next transaction (the WAL index changed),
// and the two would take turns on one write lock; the event loop's connection must do neither.
import { existsSync } from 'node:fs';
import { openDatabase, type SqliteDatabase } from './database.ts';

/** The transparency file of the main database file at `path`. */
export function ktFileOf(path: string): string {
  return `${path.replace(/\.sqlite3?$/, '')}-kt.sqlite`;
}

/** This file's schema version (user_version); a newer file is refused. */
export const KT_FILE_VERSION = 1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS kt_logs (
    id     INTEGER PRIMARY KEY,
    domain TEXT NOT NULL UNIQUE
  ) STRICT;
  CREATE TABLE IF NOT EXISTS kt_names (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
  ) STRICT;
  -- Leaves in rows of 8 (storage/sql/kt-block.ts), with the block's level-3 subtree hash once full.
  CREATE TABLE IF NOT EXISTS kt_blocks (
    log_id INTEGER NOT NULL,
    block  INTEGER NOT NULL,
    hash   BLOB,
    leaves BLOB NOT NULL,
    PRIMARY KEY (log_id, block)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS kt_jids (
    log_id INTEGER NOT NULL,
    jid_id INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (log_id, jid_id, seq)
  ) STRICT, WITHOUT ROWID;
  -- The verifiable maps (storage/kt-map.ts), as migration 8 gave the main file.
  CREATE TABLE IF NOT EXISTS kt_map_entries (
    domain     TEXT NOT NULL,
    label      BLOB NOT NULL,
    commitment BLOB NOT NULL,
    epoch      INTEGER NOT NULL,
    jid        TEXT NOT NULL,
    node       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (domain, label)
  ) STRICT, WITHOUT ROWID;
  CREATE UNIQUE INDEX IF NOT EXISTS kt_map_entries_by_key ON kt_map_entries (domain, jid, node, version);
  CREATE INDEX IF NOT EXISTS kt_map_entries_by_epoch ON kt_map_entries (domain, epoch);
  CREATE TABLE IF NOT EXISTS kt_map_epochs (
    domain    TEXT NOT NULL,
    epoch     INTEGER NOT NULL,
    log_size  INTEGER NOT NULL,
    log_root  BLOB NOT NULL,
    root      BLOB NOT NULL,
    time      INTEGER NOT NULL,
    key       BLOB NOT NULL,
    signature BLOB NOT NULL,
    PRIMARY KEY (domain, epoch)
  ) STRICT, WITHOUT ROWID;
  -- 'cursor': the main file's last journal record appended here; 'imported': the main file's own log
  -- tables (before the journal) were copied here.
  -- 'database': the token of the main file this one belongs to (bindKtFile).
  CREATE TABLE IF NOT EXISTS kt_meta (
    key   TEXT PRIMARY KEY,
    value ANY NOT NULL
  ) STRICT;
`;

const LOG_TABLES = ['kt_logs', 'kt_names', 'kt_blocks', 'kt_jids'] as const;
const MAP_TABLES = ['kt_map_entries', 'kt_map_epochs'] as const;
/** What a main file may hold from before the transparency file, and the mark of each group's copy. */
const GROUPS = [
  { mark: 'imported', tables: LOG_TABLES },
  { mark: 'imported_map', tables: MAP_TABLES },
] as const;
const ALL_TABLES = [...LOG_TABLES, ...MAP_TABLES];

export class KtFileTooNewError extends Error {
  readonly code = 'KT_FILE_TOO_NEW';
}

/**
 * Opens (creating) the transparency file. Its commits are not synced one by one (synchronous=NORMAL): the
 * key-log thread fdatasyncs its WAL itself, at most a few times a second, and reports records appended only
 * once that sync covers them, because the main file's journal records are deleted on that report.
 */
export function openKtFile(path: string): SqliteDatabase {
  const db = openDatabase(path, 'NORMAL');
  try {
    // The thread's own reads of a large log; a proof reads few pages, an audit many.
    db.pragma('cache_size = -16000');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > KT_FILE_VERSION) throw new KtFileTooNewError(`${path} has schema ${version}; this pepkeys knows up to ${KT_FILE_VERSION}`);
    db.exec(SCHEMA);
    if (version < KT_FILE_VERSION) db.pragma(`user_version = ${KT_FILE_VERSION}`);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

const hasTable = (db: SqliteDatabase, name: string, schema = 'main') =>
  db.prepare(`SELECT 1 FROM ${schema}.sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;

/**
 * Moves a main file's own log tables (schema 7–8, before the journal) into its transparency file, once:
 * copied in one transaction of the transparency file that also marks them imported, then dropped from the
 * main file in one of its own. A crash between the two leaves both, and the next open only drops (the
 * mark says the copy is complete). Run before the key-log thread starts, on the main file's connection.
 */
export function importMainLogTables(db: SqliteDatabase, ktPath: string): void {
  const groups = GROUPS.filter((g) => hasTable(db, g.tables[0]));
  if (groups.length === 0) return;
  openKtFile(ktPath).close();
  db.prepare('ATTACH DATABASE ? AS kt').run(ktPath);
  try {
    for (const { mark, tables } of groups) {
      const imported = db.prepare('SELECT value FROM kt.kt_meta WHERE key = ?').pluck().get(mark) === 1;
      if (!imported) {
        db.transaction(() => {
          for (const t of tables) {
            db.exec(`DELETE FROM kt.${t}`);
            db.exec(`INSERT INTO kt.${t} SELECT * FROM main.${t}`);
          }
          db.prepare('INSERT INTO kt.kt_meta (key, value) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET value = 1').run(mark);
        })();
        // On disk (WAL copied into the file and both synced) before the main file lets go of its copy.
        db.pragma('kt.wal_checkpoint(TRUNCATE)');
      }
      db.transaction(() => {
        for (const t of tables) db.exec(`DROP TABLE IF EXISTS main.${t}`);
      })();
    }
  } finally {
    db.exec('DETACH DATABASE kt');
  }
}

export class KtFileMismatchError extends Error {
  readonly code = 'KT_FILE_MISMATCH';
}

export class KtFileMissingError extends Error {
  readonly code = 'KT_FILE_MISSING';
}

/**
 * A database whose journal already handed records over to a transparency file that is not beside it any more
 * (deleted, or left out of a copy): started, the key log would begin new logs from the records the journal
 * still holds, without the events appended before, and every client that kept a head of the old logs would
 * find the new ones inconsistent. Refused unless `newLogs`, the operator's decision (`pepkeys serve
 * --new-logs`). Records are numbered without gaps and the highest is never deleted (kt-journal.ts), so fewer
 * records than the highest number means some were appended to that file. `pepkeys check` says more (published
 * heads, maps: cli/ops/kt-file-check.ts).
 */
export function assertKtFileNotLost(db: SqliteDatabase, ktPath: string, newLogs = false): void {
  if (newLogs || existsSync(ktPath)) return;
  const { highest, kept } = db.prepare('SELECT coalesce(max(seq), 0) AS highest, count(*) AS kept FROM kt_journal').get() as { highest: number; kept: number };
  if (highest > kept) {
    throw new KtFileMissingError(
      `${ktPath} is missing, but the database beside it already handed ${highest - kept} of its ${highest} journal records to it: starting would begin new transparency logs without those key events, and clients that saw the old heads would find the new ones inconsistent; put the file back, or restore the database and its logs from one backup (\`pepkeys restore FILE\`), or start new logs on purpose once with \`pepkeys serve --new-logs\``,
    );
  }
}

/**
 * Ties the transparency file to its main file: a file left from another database (a main file deleted or
 * replaced without it) would hold another log and a journal cursor past this database's records, which the
 * thread would then skip. Binds a file that holds no log yet; refuses any other.
 */
/**
 * A file bound to this database whose cursor is past the journal's highest record number: the main file was
 * put back alone from an older copy. Its next journal records would take numbers the key log counts as
 * appended, and never reach the log; refused rather than lost without a word.
 */
function assertNotAhead(db: SqliteDatabase, kt: SqliteDatabase, ktPath: string): void {
  const cursor = (kt.prepare("SELECT value FROM kt_meta WHERE key = 'cursor'").pluck().get() as number | undefined) ?? 0;
  // The highest record is never deleted (kt-journal.ts): max(seq) is the highest number ever given.
  const highest = db.prepare('SELECT coalesce(max(seq), 0) FROM kt_journal').pluck().get() as number;
  if (cursor > highest) {
    throw new KtFileMismatchError(`${ktPath} is ahead of the database beside it (it appended key events up to record ${cursor}, the database has numbered ${highest}): the database was put back without it; restore both files from one backup`);
  }
}

export function bindKtFile(db: SqliteDatabase, ktPath: string): void {
  const token = db.prepare('SELECT token FROM kt_file WHERE id = 1').pluck().get() as Buffer;
  const kt = openKtFile(ktPath);
  try {
    // The usual case, a read only: a file bound to this database (the server's thread may be writing it).
    const current = kt.prepare("SELECT value FROM kt_meta WHERE key = 'database'").pluck().get() as Buffer | undefined;
    if (current !== undefined && Buffer.from(current).equals(token)) return assertNotAhead(db, kt, ktPath);
    kt.transaction(() => {
      const bound = kt.prepare("SELECT value FROM kt_meta WHERE key = 'database'").pluck().get() as Buffer | undefined;
      if (bound !== undefined) {
        if (!Buffer.from(bound).equals(token)) throw new KtFileMismatchError(`${ktPath} belongs to another database than the one beside it; move it away (or restore both files from one backup)`);
        return assertNotAhead(db, kt, ktPath);
      }
      const used = kt.prepare("SELECT (SELECT count(*) FROM kt_blocks) + (SELECT count(*) FROM kt_meta WHERE key = 'cursor')").pluck().get() as number;
      const imported = kt.prepare("SELECT value FROM kt_meta WHERE key = 'imported'").pluck().get() === 1;
      if (used > 0 && !imported) throw new KtFileMismatchError(`${ktPath} holds a log of another database; move it away`);
      kt.prepare("INSERT INTO kt_meta (key, value) VALUES ('database', ?)").run(token);
    }).immediate();
  } finally {
    kt.close();
  }
}

/**
 * Puts the logs of the live transparency file at `ktPath` into a backup copy of its main file (`copy`,
 * taken before this): the log tables as a main file had them before the journal, which the restored
 * database's first open moves into a new transparency file (importMainLogTables). Journal records the copy
 * holds that the logs already have (up to the file's cursor, read in the same snapshot) are dropped from it;
 * the others are appended after the restore. A log read after the copy may hold events of the last moments
 * whose writes the copy does not (it never lacks one the copy has): the log is append-only, a restore
 * cannot take an event back. Returns the number of leaves carried.
 */
export function embedKtFile(copy: SqliteDatabase, ktPath: string): number {
  if (!existsSync(ktPath) || ALL_TABLES.some((t) => hasTable(copy, t))) return 0;
  copy.prepare('ATTACH DATABASE ? AS kt').run(ktPath);
  try {
    return copy.transaction(() => {
      // The tables (and the map's indexes) as a main file had them: everything of SCHEMA but kt_meta.
      copy.exec(SCHEMA.replace(/IF NOT EXISTS /g, '').split(/;\s*/).filter((ddl) => ALL_TABLES.some((t) => ddl.includes(`CREATE TABLE ${t} `) || ddl.includes(` ON ${t} (`))).join(';\n') + ';');
      for (const t of ALL_TABLES) copy.exec(`INSERT INTO main.${t} SELECT * FROM kt.${t}`);
      const cursor = (copy.prepare("SELECT value FROM kt.kt_meta WHERE key = 'cursor'").pluck().get() as number | undefined) ?? 0;
      // The highest record too, if appended: the restored database starts a new transparency file, whose cursor starts at 0.
      copy.prepare('DELETE FROM main.kt_journal WHERE seq <= ?').run(cursor);
      return copy.prepare('SELECT count(*) FROM main.kt_jids').pluck().get() as number;
    })();
  } finally {
    copy.exec('DETACH DATABASE kt');
  }
}

/** Whether the transparency file of `mainPath` exists (backups and data-dir listings carry it). */
export function ktFileExists(mainPath: string): boolean {
  return existsSync(ktFileOf(mainPath));
}
