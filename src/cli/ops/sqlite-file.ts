// Verifies a SQLite file is a sound pepkeys database this build can open: for `check` (the live database,
// read-only, beside a running server) and `restore` (a backup, before it is swapped in).
import Database from 'better-sqlite3';
import { checkIntegrity, isCorruptionError } from '../../storage/sqlite/integrity.ts';
import { latestSchemaVersion } from '../../storage/sqlite/migrations.ts';
import { SchemaTooNewError, StorageCorruptError } from '../../storage/errors.ts';
import { CliError } from '../errors.ts';

export interface SqliteFileInfo {
  /** Highest migration applied; 0 for a database with no schema yet. */
  schemaVersion: number;
  latestSchemaVersion: number;
}

/** Throws StorageCorruptError, StorageEmptyError, SchemaTooNewError or a CliError with what to do. */
export function verifySqliteFile(path: string): SqliteFileInfo {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    if (isCorruptionError(err)) throw new StorageCorruptError(path, (err as Error).message);
    throw err;
  }
  try {
    // quick_check, and the marker for a database emptied since it was created.
    checkIntegrity(db, path);
    const tables = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table'`).pluck().all() as string[];
    if (tables.length > 0 && !tables.includes('schema_migrations')) {
      throw new CliError(`${path} is a SQLite database, but not one of pepkeys (no schema_migrations table)`);
    }
    const applied = tables.length ? (db.prepare('SELECT coalesce(max(version), 0) FROM schema_migrations').pluck().get() as number) : 0;
    const schemaVersion = Math.max(applied, db.pragma('user_version', { simple: true }) as number);
    if (schemaVersion > latestSchemaVersion) throw new SchemaTooNewError(schemaVersion, latestSchemaVersion);
    return { schemaVersion, latestSchemaVersion };
  } catch (err) {
    if (isCorruptionError(err)) throw new StorageCorruptError(path, (err as Error).message);
    throw err;
  } finally {
    db.close();
  }
}
