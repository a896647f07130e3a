// Online backup and atomic restore of the SQLite store. A backup is one self-contained file (rollback
// journal mode, no -wal beside it), 0600 because it holds every account's SCRAM keys.
import Database from 'better-sqlite3';
import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, realpathSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { lockDataDir } from '../../server/data-dir-lock.ts';
import { CliError } from '../errors.ts';
import { verifySqliteFile, type SqliteFileInfo } from './sqlite-file.ts';
import { embedLogKeys, restoreLogKeys } from './log-keys-backup.ts';
import { embedKtFile, ktFileOf } from '../../storage/sqlite/kt-file.ts';

/** SQLite's companions of a database file in WAL mode. */
const SIDE_FILES = ['-wal', '-shm'];

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Not there, or already gone.
  }
}

/** --force must never let a backup or restore write over the very file it reads. */
function refuseSame(file: string, database: string): void {
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : p);
  if (real(file) === real(database)) throw new CliError(`${file} is the database itself: name another file`);
}

function refuseExisting(path: string, force: boolean | undefined): void {
  if (existsSync(path) && !force) throw new CliError(`${path} exists: give --force to replace it`);
}

export interface BackupResult extends SqliteFileInfo {
  bytes: number;
  /** Transparency log keys carried in the backup (file names in DATA/kt). */
  logKeys: string[];
}

/**
 * Copies the live database to `dest` with SQLite's backup API, beside a running server: the copy is taken in
 * one step, which is one read transaction, so it is a consistent snapshot and is never restarted by the
 * server's commits (in WAL mode a reader does not block the writer, nor the writer it).
 */
export async function backupSqlite(source: string, dest: string, opts: { force?: boolean; dataDir?: string } = {}): Promise<BackupResult> {
  if (!existsSync(source)) throw new CliError(`no database at ${source} (check --data or --config)`);
  refuseSame(dest, source);
  refuseExisting(dest, opts.force);
  if (!existsSync(dirname(dest))) throw new CliError(`${dirname(dest)} does not exist: create it, or back up elsewhere`);
  const tmp = `${dest}.${process.pid}.tmp`;
  // Made 0600 before SQLite writes into it: SQLite would create it with the umask's mode.
  closeSync(openSync(tmp, 'w', 0o600));
  try {
    const db = new Database(source, { readonly: true, fileMustExist: true });
    try {
      await db.backup(tmp, { progress: () => 0x7fffffff });
    } finally {
      db.close();
    }
    const copy = new Database(tmp);
    let logKeys: string[] = [];
    try {
      // The domains' log keys go inside too (log-keys-backup.ts).
      if (opts.dataDir !== undefined) logKeys = embedLogKeys(copy, opts.dataDir);
      // And the transparency logs, read after the database (kt-file.ts embedKtFile says why that order).
      embedKtFile(copy, ktFileOf(source));
      // One file to move around, restore or copy off-site.
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    const info = verifySqliteFile(tmp);
    fsyncPath(tmp);
    renameSync(tmp, dest);
    fsyncPath(dirname(dest));
    return { ...info, bytes: statSync(dest).size, logKeys };
  } catch (err) {
    for (const p of [tmp, ...SIDE_FILES.map((s) => tmp + s)]) removeQuietly(p);
    throw err;
  }
}

export interface RestoreResult extends SqliteFileInfo {
  /** Where the database that was replaced now is, if there was one. */
  replaced?: string;
  /** Transparency log keys written back to DATA/kt. */
  logKeys: string[];
}

/**
 * Swaps `file` in as the database at `target`, holding the data directory's lock throughout so no server
 * starts on it meanwhile (and refusing, naming its pid, while one runs). The backup is verified before
 * anything is touched; a replaced database is renamed aside with its -wal and -shm, never deleted.
 */
export function restoreSqlite(file: string, target: string, dataDir: string, opts: { force?: boolean } = {}): RestoreResult {
  if (!existsSync(file)) throw new CliError(`${file}: no such file`);
  refuseSame(file, target);
  if (SIDE_FILES.some((s) => existsSync(file + s))) {
    throw new CliError(`${file} has a ${file}-wal beside it: it is a live database, not a backup; make one with \`pepkeys backup\``);
  }
  const info = verifySqliteFile(file);
  if (info.schemaVersion === 0) throw new CliError(`${file} holds no pepkeys data (no schema): not a backup`);
  const lock = lockDataDir(dataDir);
  try {
    refuseExisting(target, opts.force);
    const tmp = `${target}.${process.pid}.restore.tmp`;
    copyFileSync(file, tmp);
    try {
      const copy = new Database(tmp);
      let logKeys: string[];
      try {
        logKeys = restoreLogKeys(copy, dataDir, opts.force);
      } finally {
        copy.close();
      }
      fsyncPath(tmp);
      let replaced: string | undefined;
      if (existsSync(target)) {
        replaced = `${target}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        // The -wal of the old database would be replayed into the new one: it moves with its database.
        for (const s of ['', ...SIDE_FILES]) if (existsSync(target + s)) renameSync(target + s, replaced + s);
      }
      // The old transparency file belongs to the replaced database (kt-file.ts bindKtFile): it moves aside
      // with it; the restored one's logs go into a new one at its first open.
      const kt = ktFileOf(target);
      if (existsSync(kt)) {
        const aside = ktFileOf(replaced ?? `${target}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`);
        for (const s of ['', ...SIDE_FILES]) if (existsSync(kt + s)) renameSync(kt + s, aside + s);
      }
      renameSync(tmp, target);
      fsyncPath(dirname(target));
      return { ...info, replaced, logKeys };
    } finally {
      removeQuietly(tmp);
    }
  } finally {
    lock.release();
  }
}
