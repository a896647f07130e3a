// Message archives (XEP-0313): one table, ordered by an integer sequence, indexed by owner and by
// conversation partner; the query statements are shared with PostgreSQL (sql/archive-query.ts).
import { ArchiveIdNotFoundError, type ArchivePrefs, type ArchiveStore } from '../types.ts';
import { archiveStatements, pageRows, toArchivedMessage, type AnchorSeqs, type ArchiveRow } from '../sql/archive-query.ts';
import { bareOf } from '../../jid/index.ts';
import type { SqliteDatabase } from './database.ts';
import type { GroupCommit } from './group-commit.ts';

export function createArchiveStore(db: SqliteDatabase, gc: GroupCommit) {
  const insert = db.prepare('INSERT INTO archive_messages (owner, id, with_jid, with_bare, stored_at, stanza) VALUES (?, ?, ?, ?, ?, ?)');
  const trim = db.prepare(
    'DELETE FROM archive_messages WHERE owner = ? AND seq <= (SELECT seq FROM archive_messages WHERE owner = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)',
  );
  const seqOf = db.prepare('SELECT seq FROM archive_messages WHERE owner = ? AND id = ?').pluck();
  const expire = db.prepare('DELETE FROM archive_messages WHERE stored_at < ?');
  const deleteMessages = db.prepare('DELETE FROM archive_messages WHERE owner = ?');
  const deletePrefs = db.prepare('DELETE FROM archive_prefs WHERE owner = ?');
  const selectPrefs = db.prepare('SELECT default_mode, always_json, never_json FROM archive_prefs WHERE owner = ?');
  const upsertPrefs = db.prepare(
    `INSERT INTO archive_prefs (owner, default_mode, always_json, never_json) VALUES (?, ?, ?, ?)
     ON CONFLICT (owner) DO UPDATE SET default_mode = excluded.default_mode, always_json = excluded.always_json, never_json = excluded.never_json`,
  );
  // The query's text depends on which conditions it has: a few dozen shapes, each prepared once.
  const prepared = new Map<string, { all(...v: unknown[]): unknown[]; get(...v: unknown[]): unknown }>();
  const prepare = (text: string) => {
    let st = prepared.get(text);
    if (!st) prepared.set(text, (st = db.prepare(text)));
    return st;
  };

  const deleteOwner = (owner: string) => {
    deleteMessages.run(owner);
    deletePrefs.run(owner);
  };

  const store: ArchiveStore = {
    append(owner, m) {
      return gc.write(() => {
        insert.run(owner, m.id, m.with, bareOf(m.with), m.storedAt, m.stanza);
      });
    },
    trim(owner, maxItems) {
      return gc.write(() => trim.run(owner, owner, Math.max(0, maxItems)).changes);
    },
    query(owner, q) {
      return gc.read(() => {
        const seq = (id: string | undefined): number | undefined => {
          if (id === undefined) return undefined;
          const s = seqOf.get(owner, id) as number | undefined;
          if (s === undefined) throw new ArchiveIdNotFoundError(owner, id);
          return s;
        };
        const seqs: AnchorSeqs = { afterId: seq(q.afterId), beforeId: seq(q.beforeId), after: seq(q.after), before: seq(q.before) };
        const st = archiveStatements('sqlite', owner, q, seqs);
        const { rows, complete } = pageRows(prepare(st.page.text).all(...st.page.values) as ArchiveRow[], st.max, st.backward);
        const count = (prepare(st.count.text).get(...st.count.values) as { n: number }).n;
        const first = rows[0];
        const before = first && st.index(Number(first.seq));
        const index = before ? (prepare(before.text).get(...before.values) as { n: number }).n : 0;
        return { messages: rows.map(toArchivedMessage), count, index, complete };
      });
    },
    expire(before) {
      return gc.write(() => expire.run(before).changes);
    },
    removeOwner(owner) {
      return gc.write(() => deleteOwner(owner));
    },
    getPrefs(owner) {
      return gc.read((): ArchivePrefs | undefined => {
        const row = selectPrefs.get(owner) as { default_mode: ArchivePrefs['default']; always_json: string; never_json: string } | undefined;
        return row && { default: row.default_mode, always: JSON.parse(row.always_json), never: JSON.parse(row.never_json) };
      });
    },
    setPrefs(owner, prefs) {
      return gc.write(() => {
        upsertPrefs.run(owner, prefs.default, JSON.stringify(prefs.always), JSON.stringify(prefs.never));
      });
    },
  };
  return { store, deleteOwner };
}
