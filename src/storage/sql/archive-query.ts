// The XEP-0313 archive query as SQL, for SQLite and PostgreSQL alike: the filter's conditions, the page in
// either direction (one row more than asked, which tells whether the page reached the end), the count of
// matches and the page's index among them. Anchors (after/before ids) are looked up first, by the adapter,
// and arrive here as sequence numbers; storage/archive-page.ts is the same query over a list.
import type { ArchivedMessage, ArchivePageQuery } from '../types.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface Sql {
  text: string;
  values: unknown[];
}

export interface AnchorSeqs {
  afterId?: number;
  beforeId?: number;
  after?: number;
  before?: number;
}

export interface ArchiveRow {
  seq: number | string;
  id: string;
  with_jid: string;
  stored_at: number | string;
  stanza: string;
}

export const archiveColumns = 'seq, id, with_jid, stored_at, stanza';

export const toArchivedMessage = (row: ArchiveRow): ArchivedMessage => ({
  id: row.id,
  with: row.with_jid,
  storedAt: Number(row.stored_at),
  stanza: row.stanza,
});

/** The page, count and index statements of one query. */
export function archiveStatements(d: Dialect, owner: string, q: ArchivePageQuery, seqs: AnchorSeqs) {
  const where = (extra: [string, unknown][]): Sql => {
    const values: unknown[] = [];
    const p = (v: unknown) => {
      values.push(v);
      return d === 'sqlite' ? '?' : `$${values.length}`;
    };
    const conds = [`owner = ${p(owner)}`];
    if (q.with !== undefined) conds.push(q.with.includes('/') ? `with_jid = ${p(q.with)}` : `with_bare = ${p(q.with)}`);
    if (q.start !== undefined) conds.push(`stored_at >= ${p(q.start)}`);
    if (q.end !== undefined) conds.push(`stored_at <= ${p(q.end)}`);
    if (seqs.afterId !== undefined) conds.push(`seq > ${p(seqs.afterId)}`);
    if (seqs.beforeId !== undefined) conds.push(`seq < ${p(seqs.beforeId)}`);
    if (q.ids !== undefined) {
      conds.push(d === 'sqlite' ? `id IN (SELECT value FROM json_each(${p(JSON.stringify(q.ids))}))` : `id = ANY(${p(q.ids)}::text[])`);
    }
    for (const [cond, v] of extra) conds.push(`${cond} ${p(v)}`);
    return { text: conds.join(' AND '), values };
  };
  const backward = q.before !== undefined || q.last === true;
  const anchor: [string, unknown][] = backward
    ? seqs.before !== undefined ? [['seq <', seqs.before]] : []
    : seqs.after !== undefined ? [['seq >', seqs.after]] : [];
  const pageWhere = where(anchor);
  const limit = Math.max(0, q.max) + 1;
  const page: Sql = {
    text: `SELECT ${archiveColumns} FROM archive_messages WHERE ${pageWhere.text} ORDER BY seq ${backward ? 'DESC' : 'ASC'} LIMIT ${limit}`,
    values: pageWhere.values,
  };
  const countWhere = where([]);
  const count: Sql = { text: `SELECT count(*) AS n FROM archive_messages WHERE ${countWhere.text}`, values: countWhere.values };
  const index = (firstSeq: number): Sql => {
    const w = where([['seq <', firstSeq]]);
    return { text: `SELECT count(*) AS n FROM archive_messages WHERE ${w.text}`, values: w.values };
  };
  return { page, count, index, backward, max: Math.max(0, q.max) };
}

/** Turns the fetched rows (max + 1 at most, in query order) into the page, oldest first. */
export function pageRows(rows: ArchiveRow[], max: number, backward: boolean): { rows: ArchiveRow[]; complete: boolean } {
  const complete = rows.length <= max;
  const kept = rows.slice(0, max);
  if (backward) kept.reverse();
  return { rows: kept, complete };
}
