// Checks at open that the database is the one this installation wrote. A damaged file used to open "fine"
// and fail every login with internal-server-error, and an emptied one (truncated, replaced by a 0-byte
// file) started as a new empty server, silently losing every account and key: both are refused instead.
// The marker file beside the database records that it was created; SQLite cannot tell "new" from "emptied".
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { StorageCorruptError, StorageEmptyError } from '../errors.ts';
import type { SqliteDatabase } from './database.ts';

export function markerPath(path: string): string {
  return `${path}.created`;
}

/**
 * PRAGMA quick_check (the b-tree structure of every table and index: O(size), tens of milliseconds for a
 * database of thousands of accounts) and, for a database with no schema yet, the marker.
 */
export function checkIntegrity(db: SqliteDatabase, path: string): void {
  const rows = db.pragma('quick_check') as { quick_check: string }[];
  if (rows.length !== 1 || rows[0]!.quick_check !== 'ok') {
    throw new StorageCorruptError(path, rows.slice(0, 3).map((r) => r.quick_check).join('; '));
  }
  const marker = markerPath(path);
  const hasSchema = (db.prepare(`SELECT count(*) FROM sqlite_schema`).pluck().get() as number) > 0;
  if (!hasSchema && existsSync(marker)) throw new StorageEmptyError(path, marker, readFileSync(marker, 'utf8').trim() || 'an earlier start');
}

/** Records that this database was created (once its schema exists). */
export function writeMarker(path: string): void {
  const marker = markerPath(path);
  if (!existsSync(marker)) writeFileSync(marker, `${new Date().toISOString()}\n`, { mode: 0o600 });
}

/** SQLite's own words for a file that is no database, as an open throws them. */
export function isCorruptionError(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT';
}
