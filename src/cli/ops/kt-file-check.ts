// `pepkeys check`'s findings on the transparency file, PATH-kt.sqlite beside PATH.sqlite (storage/sqlite/
// kt-file.ts): sound (quick_check), not newer than this build, and bound to this database as the server's
// start requires (bindKtFile refuses a foreign file: KT_FILE_MISMATCH). Read-only, like the database check, so
// it runs beside a running server too; nothing is bound or created here. A missing file is harmless for a
// database that never logged a key event, or that still holds its logs itself (a restored backup, a schema
// before the file: the server moves them over at start). For one that did log, a new, empty transparency file
// would lose every event appended before, and every client that saw its heads would report the new ones
// inconsistent. That is an error; the server itself refuses to start once the journal handed records to the
// lost file (KT_FILE_MISSING, kt-file.ts assertKtFileNotLost), unless `serve --new-logs`.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { KT_FILE_VERSION, ktFileOf } from '../../storage/sqlite/kt-file.ts';
import { decodeJournalRecord } from '../../storage/sqlite/kt-journal-record.ts';
import { isCorruptionError } from '../../storage/sqlite/integrity.ts';
import { describeError } from '../errors.ts';
import { error, ok, warning, type Finding } from './findings.ts';

const S = 'database';
const HEADS_NODE = 'urn:pepkeys:kt:0:heads';
const MAP_HEADS_NODE = 'urn:pepkeys:kt:0:map-heads';
const RESTORE = 'restore the database and its logs from one backup (`pepkeys restore FILE`)';

/** What the main file says about the logs it should have. */
interface MainState {
  /** kt_file's token (schema 9 on); undefined before. */
  token?: Buffer;
  /** The highest journal record ever numbered (never reused, no gaps), the records still held, and those after `cursor`. */
  journalled: number;
  kept: number;
  pending: number;
  /** The key events of the records still in the journal (appended ones are deleted only by later batches), per domain. */
  inJournal: Map<string, number>;
  /** The main file still holds log tables of its own (schema 7–8, or a restored backup): moved over at start. */
  ownLogs: boolean;
  /** The largest tree head size, and map epoch, each domain published (the heads nodes' item ids). */
  heads: { domain: string; size: number }[];
  mapHeads: { domain: string; size: number }[];
}

const has = (db: Database.Database, table: string) =>
  db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).get(table) !== undefined;

/** `cursor`: the transparency file's, whose records are appended (deleted from the journal only later). */
function readMain(path: string, cursor: number): MainState {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const token = has(db, 'kt_file') ? (db.prepare('SELECT token FROM kt_file WHERE id = 1').pluck().get() as Buffer | undefined) : undefined;
    const { journalled, kept, pending, inJournal } = readJournal(db, cursor);
    const published = (node: string) => (has(db, 'pubsub_items')
      ? (db.prepare(`SELECT n.service AS domain, max(CAST(i.item_id AS INTEGER)) AS size FROM pubsub_items i JOIN pubsub_nodes n ON n.id = i.node_id
          WHERE n.node = ? GROUP BY n.service ORDER BY n.service`).all(node) as { domain: string; size: number }[]).filter((p) => p.size > 0)
      : []);
    return { token, journalled, kept, pending, inJournal, ownLogs: has(db, 'kt_logs') || has(db, 'kt_map_epochs'), heads: published(HEADS_NODE), mapHeads: published(MAP_HEADS_NODE) };
  } finally {
    db.close();
  }
}

/**
 * The journal as schema 9 left it (a record per key event, numbered by AUTOINCREMENT) or schema 10 (a record
 * per batch, kt-journal-record.ts, whose highest record is never deleted): the check runs on a database the
 * server has not migrated yet, too.
 */
function readJournal(db: Database.Database, cursor: number): Pick<MainState, 'journalled' | 'kept' | 'pending' | 'inJournal'> {
  if (!has(db, 'kt_journal')) return { journalled: 0, kept: 0, pending: 0, inJournal: new Map() };
  const kept = db.prepare('SELECT count(*) FROM kt_journal').pluck().get() as number;
  const pending = db.prepare('SELECT count(*) FROM kt_journal WHERE seq > ?').pluck().get(cursor) as number;
  const perEvent = db.prepare("SELECT 1 FROM pragma_table_info('kt_journal') WHERE name = 'domain'").get() !== undefined;
  if (perEvent) {
    const journalled = has(db, 'sqlite_sequence') ? ((db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'kt_journal'").pluck().get() as number | undefined) ?? 0) : 0;
    return { journalled, kept, pending, inJournal: new Map(db.prepare('SELECT domain, count(*) FROM kt_journal GROUP BY domain').raw().all() as [string, number][]) };
  }
  const inJournal = new Map<string, number>();
  for (const text of db.prepare('SELECT events FROM kt_journal').pluck().iterate() as IterableIterator<string>) {
    for (const { domain } of decodeJournalRecord(text)) inJournal.set(domain, (inJournal.get(domain) ?? 0) + 1);
  }
  return { journalled: db.prepare('SELECT coalesce(max(seq), 0) FROM kt_journal').pluck().get() as number, kept, pending, inJournal };
}

/** What the transparency file holds, read without writing (the server's key-log thread may be writing it). */
interface KtState {
  bound?: Buffer;
  cursor: number;
  imported: boolean;
  blocks: number;
  logs: { domain: string; leaves: number }[];
}

function readKt(path: string): KtState {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const rows = db.pragma('quick_check') as { quick_check: string }[];
    if (rows.length !== 1 || rows[0]!.quick_check !== 'ok') throw new KtFileDamaged(rows.slice(0, 3).map((r) => r.quick_check).join('; '));
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > KT_FILE_VERSION) throw new KtFileProblem(`has schema ${version}, newer than this build supports (${KT_FILE_VERSION}); upgrade pepkeys`);
    // A file without the tables (created, never opened by the server) gets them at start, like a new one.
    const meta = (key: string) => (has(db, 'kt_meta') ? db.prepare('SELECT value FROM kt_meta WHERE key = ?').pluck().get(key) : undefined);
    const bound = meta('database') as Buffer | undefined;
    const logs = has(db, 'kt_logs')
      ? (db.prepare('SELECT l.domain, count(j.seq) AS leaves FROM kt_logs l LEFT JOIN kt_jids j ON j.log_id = l.id GROUP BY l.id ORDER BY l.domain').all() as KtState['logs'])
      : [];
    const blocks = has(db, 'kt_blocks') ? (db.prepare('SELECT count(*) FROM kt_blocks').pluck().get() as number) : 0;
    return { bound: bound === undefined ? undefined : Buffer.from(bound), cursor: (meta('cursor') as number | undefined) ?? 0, imported: meta('imported') === 1, blocks, logs };
  } catch (err) {
    if (isCorruptionError(err)) throw new KtFileDamaged((err as Error).message);
    throw err;
  } finally {
    db.close();
  }
}

class KtFileProblem extends Error {}
class KtFileDamaged extends KtFileProblem {
  constructor(detail: string) {
    super(`is damaged (${detail}): stop the server and ${RESTORE}; moving the file away would start the logs anew`);
  }
}

function readKtOr(kt: string): KtState | Finding {
  try {
    return readKt(kt);
  } catch (err) {
    if (err instanceof KtFileProblem) return error(S, `transparency file ${kt} ${err.message}`);
    return error(S, `transparency file ${kt} could not be read: ${describeError(err)}`);
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The findings on `mainPath`'s transparency file; call once the main file itself passed its check. */
export function checkKtFile(mainPath: string): Finding[] {
  const kt = ktFileOf(mainPath);
  const readMainOr = (cursor: number): MainState | Finding => {
    try {
      return readMain(mainPath, cursor);
    } catch (err) {
      return error(S, `could not read ${mainPath} to check its transparency file: ${describeError(err)}`);
    }
  };
  if (!existsSync(mainPath)) return existsSync(kt) ? orphan(kt) : [];
  if (!existsSync(kt)) {
    const main = readMainOr(0);
    return ['level' in main ? main : missing(kt, main)];
  }
  // The file before the database: beside a running server, the cursor read first cannot pass the journal's
  // numbering read after it (records are numbered before they are appended).
  const state = readKtOr(kt);
  if ('level' in state) return [state];
  const main = readMainOr(state.cursor);
  return ['level' in main ? main : binding(kt, main, state)];
}

/** A transparency file without its database: the server's new database has a new token, so one that was ever bound is refused. */
function orphan(kt: string): Finding[] {
  const s = readKtOr(kt);
  if ('level' in s) return [s];
  if (s.bound === undefined && s.blocks === 0 && s.cursor === 0) return [ok(S, `transparency file ${kt} holds no log yet; the new database takes it at the server's first start`)];
  return [error(S, `transparency file ${kt} belongs to a database that is not there: the server would create a new database and refuse to start with this file (KT_FILE_MISMATCH); ${RESTORE}, or move the file away to start with empty logs`)];
}

/**
 * Without the file the server starts new logs from what is still in the journal (kt-thread.ts drains it from
 * record 1): the same logs only when the journal still holds every record ever numbered and each domain's
 * published heads are no larger; the maps start again at epoch 1 whatever the journal holds.
 */
function missing(kt: string, main: MainState): Finding {
  if (main.ownLogs) return ok(S, `no transparency file yet: the server moves the logs the database holds into ${kt} at its next start`);
  const kept = [...main.inJournal.values()].reduce((a, b) => a + b, 0);
  const lost = [
    ...(main.journalled > main.kept ? [`journalled key events in ${plural(main.journalled, 'record')}, ${main.kept} of them still in its journal`] : []),
    ...main.heads.filter((p) => p.size > (main.inJournal.get(p.domain) ?? 0)).map((p) => `published tree heads of ${p.domain} up to size ${p.size}`),
    ...main.mapHeads.map((p) => `published map heads of ${p.domain} up to epoch ${p.size}`),
  ];
  if (lost.length > 0) {
    // Records handed to the file and deleted: the server refuses to start (kt-file.ts assertKtFileNotLost).
    const start = main.journalled > main.kept
      ? 'the server refuses to start (KT_FILE_MISSING); started with `pepkeys serve --new-logs`, it would begin new logs and maps from what its journal holds'
      : 'at its next start the server would begin new logs and maps from what its journal holds';
    return error(S, `transparency file ${kt} is missing, but the database ${lost.join(' and ')}: ${start}, and clients that saw the old heads would find the new ones inconsistent; put the file back, or ${RESTORE}`);
  }
  if (kept > 0) return warning(S, `transparency file ${kt} is missing; the database's journal still holds all ${plural(kept, 'key event')} of its logs, from which the server rebuilds them at its next start`);
  return ok(S, `no transparency file yet; the server creates ${kt} at its next start`);
}

function binding(kt: string, main: MainState, s: KtState): Finding {
  // As bindKtFile decides at start: a file bound to this database; else, unbound and holding no log of its own.
  const foreign = `belongs to another database than the one beside it: the server refuses to start (KT_FILE_MISMATCH); put back the database it belongs to, or ${RESTORE}`;
  if (s.bound !== undefined && !(main.token !== undefined && s.bound.equals(main.token))) return error(S, `transparency file ${kt} ${foreign}`);
  if (s.bound === undefined && (s.blocks > 0 || s.cursor > 0) && !s.imported) return error(S, `transparency file ${kt} holds a log but names no database: it ${foreign}`);
  // One of this database's, but ahead of it: the database was put back from a copy older than its logs (not
  // by `pepkeys restore`, which moves the file aside). Its next records would take numbers the file has
  // passed, so the server refuses the pair at start (kt-file.ts bindKtFile) rather than never log them.
  if (s.cursor > main.journalled) {
    return error(S, `transparency file ${kt} has appended the database's journal up to record ${s.cursor}, but the database has numbered only ${main.journalled}: the database is older than its logs (copied back by hand?), and the server refuses to start (KT_FILE_MISMATCH) rather than leave its next key events unlogged; ${RESTORE}`);
  }
  const logs = s.logs.length ? s.logs.map((l) => `${l.domain}: ${l.leaves} ${l.leaves === 1 ? 'leaf' : 'leaves'}`).join(', ') : 'no log yet';
  const bound = s.bound === undefined ? 'bound to this database at the next start' : 'bound to this database';
  return ok(S, `transparency file ${kt} passes quick_check, ${bound}; ${logs}${main.pending ? `; ${plural(main.pending, 'journal record')} to append` : ''}`);
}
