// Key-transparency logs in PostgreSQL (migration 5). An append runs on the write transaction of the pubsub
// write it goes with (same group-commit callback), so it commits or rolls back with it. The log row is
// locked in a statement of its own first; the size is read in the next statement, whose READ COMMITTED
// snapshot sees every leaf another server committed while we waited, so sequence numbers never collide.
import type { LogAppend, LogEntry, TransparencyStore } from '../types.ts';
import { SubtreeNotFoundError } from '../errors.ts';
import { appendLeaf } from '../../transparency/log-append.ts';
import type { NodeRef } from '../../transparency/tree.ts';
import { num, statement, type Db } from './db.ts';
import type { GroupCommit } from './group-commit.ts';

const ensureLog = statement('kt_log_ensure', 'INSERT INTO kt_logs (domain) VALUES ($1) ON CONFLICT (domain) DO NOTHING');
const lockLog = statement('kt_log_lock', 'SELECT id FROM kt_logs WHERE domain = $1 FOR UPDATE');
const selectLog = statement('kt_log', 'SELECT id FROM kt_logs WHERE domain = $1');
const size = statement('kt_size', 'SELECT coalesce(max(seq) + 1, 0) AS n FROM kt_leaves WHERE log_id = $1');
const insertLeaf = statement('kt_leaf_insert', 'INSERT INTO kt_leaves (log_id, seq, jid, hash, leaf) VALUES ($1, $2, $3, $4, $5)');
const insertNodes = statement(
  'kt_nodes_insert',
  'INSERT INTO kt_nodes (log_id, level, idx, hash) SELECT $1, * FROM unnest($2::smallint[], $3::bigint[], $4::bytea[])',
);
// Level 0 from the leaves, higher levels from kt_nodes; `ord` keeps the order asked.
const selectNodes = statement(
  'kt_nodes',
  `SELECT r.ord, coalesce(l.hash, n.hash) AS hash
   FROM unnest($2::smallint[], $3::bigint[]) WITH ORDINALITY AS r(level, idx, ord)
   LEFT JOIN kt_leaves l ON r.level = 0 AND l.log_id = $1 AND l.seq = r.idx
   LEFT JOIN kt_nodes n ON r.level > 0 AND n.log_id = $1 AND n.level = r.level AND n.idx = r.idx
   ORDER BY r.ord`,
);
const selectRange = statement('kt_range', 'SELECT seq, leaf FROM kt_leaves WHERE log_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq');
const selectOf = statement('kt_of', 'SELECT seq, leaf FROM kt_leaves WHERE log_id = $1 AND jid = $2 AND seq >= $3 ORDER BY seq LIMIT $4');

type Row = { seq: string; leaf: Buffer };
const toEntry = (r: Row): LogEntry => ({ seq: num(r.seq), leaf: new Uint8Array(r.leaf) });

async function readNodes(db: Db, id: string | undefined, refs: NodeRef[]): Promise<Uint8Array[]> {
  if (refs.length === 0) return [];
  const rows = id === undefined ? [] : (await db.run<{ hash: Buffer | null }>(selectNodes, [id, refs.map((r) => r.level), refs.map((r) => r.index)])).rows;
  return refs.map((r, i) => {
    const h = rows[i]?.hash;
    if (!h) throw new SubtreeNotFoundError(r.level, r.index);
    return new Uint8Array(h);
  });
}

export function createTransparencyStore(gc: GroupCommit) {
  /** Call only inside a gc.write callback, after the pubsub write it goes with succeeded. */
  async function append(db: Db, { domain, event }: LogAppend): Promise<void> {
    await db.run(ensureLog, [domain]);
    const id = (await db.run<{ id: string }>(lockLog, [domain])).rows[0]!.id;
    const n = num((await db.run<{ n: string }>(size, [id])).rows[0]!.n);
    const a = await appendLeaf(n, event, (refs) => readNodes(db, id, refs));
    await db.run(insertLeaf, [id, a.seq, event.jid, Buffer.from(a.hash), Buffer.from(a.leaf)]);
    if (a.nodes.length) {
      await db.run(insertNodes, [id, a.nodes.map((x) => x.ref.level), a.nodes.map((x) => x.ref.index), a.nodes.map((x) => Buffer.from(x.hash))]);
    }
  }

  const logId = async (db: Db, domain: string) => (await db.run<{ id: string }>(selectLog, [domain])).rows[0]?.id;

  const store: TransparencyStore = {
    size: (domain) =>
      gc.read(async (db) => {
        const id = await logId(db, domain);
        return id === undefined ? 0 : num((await db.run<{ n: string }>(size, [id])).rows[0]!.n);
      }),
    nodes: (domain, refs) => gc.read(async (db) => readNodes(db, await logId(db, domain), refs)),
    entries: (domain, start, end) =>
      gc.read(async (db) => {
        const id = await logId(db, domain);
        return id === undefined ? [] : (await db.run<Row>(selectRange, [id, start, end])).rows.map(toEntry);
      }),
    entriesOf: (domain, jid, from, max) =>
      gc.read(async (db) => {
        const id = await logId(db, domain);
        return id === undefined ? [] : (await db.run<Row>(selectOf, [id, jid, from, max])).rows.map(toEntry);
      }),
  };
  return { store, append };
}
