// Message archives (XEP-0313). Order is an identity column (exact within one server; across servers, the
// order in which the inserts drew their numbers). The query statements are shared with SQLite
// (sql/archive-query.ts); each shape of query is prepared once per connection under a name of its own.
import { createHash } from 'node:crypto';
import { ArchiveIdNotFoundError, type ArchivePrefs, type ArchiveStore } from '../types.ts';
import { archiveStatements, pageRows, toArchivedMessage, type AnchorSeqs, type ArchiveRow, type Sql } from '../sql/archive-query.ts';
import { bareOf } from '../../jid/index.ts';
import { num, statement, type Db, type Statement } from './db.ts';
import type { GroupCommit } from './group-commit.ts';

const insert = statement(
  'archive_insert',
  'INSERT INTO archive_messages (owner, id, with_jid, with_bare, stored_at, stanza) VALUES ($1, $2, $3, $4, $5, $6)',
);
const trim = statement(
  'archive_trim',
  'DELETE FROM archive_messages WHERE owner = $1 AND seq <= (SELECT seq FROM archive_messages WHERE owner = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2)',
);
const seqOf = statement('archive_seq', 'SELECT seq FROM archive_messages WHERE owner = $1 AND id = $2');
const expire = statement('archive_expire', 'DELETE FROM archive_messages WHERE stored_at < $1');
const removeOwner = statement(
  'archive_remove_owner',
  'WITH m AS (DELETE FROM archive_messages WHERE owner = $1) DELETE FROM archive_prefs WHERE owner = $1',
);
const selectPrefs = statement('archive_prefs_select', 'SELECT default_mode, always_json, never_json FROM archive_prefs WHERE owner = $1');
const upsertPrefs = statement(
  'archive_prefs_upsert',
  `INSERT INTO archive_prefs (owner, default_mode, always_json, never_json) VALUES ($1, $2, $3, $4)
   ON CONFLICT (owner) DO UPDATE SET default_mode = excluded.default_mode, always_json = excluded.always_json, never_json = excluded.never_json`,
);

const named = new Map<string, Statement>();
const run = (db: Db, sql: Sql) => {
  let st = named.get(sql.text);
  if (!st) named.set(sql.text, (st = statement(`archive_q_${createHash('sha1').update(sql.text).digest('hex').slice(0, 16)}`, sql.text)));
  return db.run(st, sql.values);
};

export function createArchiveStore(gc: GroupCommit): ArchiveStore {
  return {
    append(owner, m) {
      return gc.write(async (db) => {
        await db.run(insert, [owner, m.id, m.with, bareOf(m.with), m.storedAt, m.stanza]);
      });
    },
    trim(owner, maxItems) {
      return gc.write(async (db) => (await db.run(trim, [owner, Math.max(0, maxItems)])).rowCount ?? 0);
    },
    query(owner, q) {
      return gc.read(async (db) => {
        const seq = async (id: string | undefined): Promise<number | undefined> => {
          if (id === undefined) return undefined;
          const row = (await db.run<{ seq: string }>(seqOf, [owner, id])).rows[0];
          if (!row) throw new ArchiveIdNotFoundError(owner, id);
          return num(row.seq);
        };
        const seqs: AnchorSeqs = { afterId: await seq(q.afterId), beforeId: await seq(q.beforeId), after: await seq(q.after), before: await seq(q.before) };
        const st = archiveStatements('postgres', owner, q, seqs);
        const { rows, complete } = pageRows((await run(db, st.page)).rows as ArchiveRow[], st.max, st.backward);
        const count = num((await run(db, st.count)).rows[0].n);
        const first = rows[0];
        const index = first ? num((await run(db, st.index(num(first.seq)))).rows[0].n) : 0;
        return { messages: rows.map(toArchivedMessage), count, index, complete };
      });
    },
    expire(before) {
      return gc.write(async (db) => (await db.run(expire, [before])).rowCount ?? 0);
    },
    removeOwner(owner) {
      return gc.write(async (db) => {
        await db.run(removeOwner, [owner]);
      });
    },
    getPrefs(owner) {
      return gc.read(async (db): Promise<ArchivePrefs | undefined> => {
        const row = (await db.run(selectPrefs, [owner])).rows[0];
        return row && { default: row.default_mode, always: JSON.parse(row.always_json), never: JSON.parse(row.never_json) };
      });
    },
    setPrefs(owner, prefs) {
      return gc.write(async (db) => {
        await db.run(upsertPrefs, [owner, prefs.default, JSON.stringify(prefs.always), JSON.stringify(prefs.never)]);
      });
    },
  };
}
