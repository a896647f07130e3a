// Key-transparency logs in PostgreSQL (migration 6: the layout of the SQLite adapter, storage/sql/kt-body.ts
// and kt-tree.ts). An append runs on the write transaction of the pubsub write it goes with (same
// group-commit callback), so it commits or rolls back with it. The log row is locked in a statement of its
// own first; the size is read in the next statement, whose READ COMMITTED snapshot sees every leaf another
// server committed while we waited, so sequence numbers never collide. Nothing about a log is kept in
// memory between appends but committed upper subtrees: other servers may append to the same log.
import type { LogAppend, LogEntry, TransparencyStore } from '../types.ts';
import { appendLeaf } from '../../transparency/log-append.ts';
import { CommittedNodes } from '../../transparency/node-cache.ts';
import type { NodeRef } from '../../transparency/tree.ts';
import { encodeBody, leafFromBody } from '../sql/kt-body.ts';
import { assembleNodes, lastLeaf, planNodes, STORED_MIN_LEVEL } from '../sql/kt-tree.ts';
import { num, statement, type Db } from './db.ts';
import type { GroupCommit } from './group-commit.ts';

const ensureLog = statement('kt_log_ensure', 'INSERT INTO kt_logs (domain) VALUES ($1) ON CONFLICT (domain) DO NOTHING');
const lockLog = statement('kt_log_lock', 'SELECT id FROM kt_logs WHERE domain = $1 FOR UPDATE');
const selectLog = statement('kt_log', 'SELECT id FROM kt_logs WHERE domain = $1');
const size = statement('kt_size6', 'SELECT coalesce(max(seq) + 1, 0) AS n FROM kt_entries WHERE log_id = $1');
const ensureNames = statement('kt_names_ensure', 'INSERT INTO kt_names (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING');
const selectNames = statement('kt_names', 'SELECT id, name FROM kt_names WHERE name = ANY($1::text[])');
const selectNameId = statement('kt_name_id', 'SELECT id FROM kt_names WHERE name = $1');
const insertEntry = statement('kt_entry_insert', 'INSERT INTO kt_entries (log_id, seq, jid_id, node_id, body) VALUES ($1, $2, $3, $4, $5)');
const insertSubtrees = statement(
  'kt_subtrees_insert',
  'INSERT INTO kt_subtrees (log_id, last, level, hash) SELECT $1, * FROM unnest($2::bigint[], $3::smallint[], $4::bytea[])',
);
// `ord` keeps the order asked.
const selectSubtrees = statement(
  'kt_subtrees',
  `SELECT r.ord, s.hash FROM unnest($2::bigint[], $3::smallint[]) WITH ORDINALITY AS r(last, level, ord)
   LEFT JOIN kt_subtrees s ON s.log_id = $1 AND s.last = r.last AND s.level = r.level ORDER BY r.ord`,
);
const rows = `SELECT e.seq, j.name AS jid, n.name AS node, e.body FROM kt_entries e
  JOIN kt_names j ON j.id = e.jid_id JOIN kt_names n ON n.id = e.node_id`;
const selectRange = statement('kt_range6', `${rows} WHERE e.log_id = $1 AND e.seq >= $2 AND e.seq < $3 ORDER BY e.seq`);
const selectOf = statement('kt_of6', `${rows} WHERE e.log_id = $1 AND e.jid_id = $2 AND e.seq >= $3 ORDER BY e.seq LIMIT $4`);

type Row = { seq: string; jid: string; node: string; body: Buffer };
const leafOf = (r: Row) => leafFromBody(num(r.seq), r.jid, r.node, r.body);
const toEntry = (r: Row): LogEntry => ({ seq: num(r.seq), leaf: new Uint8Array(leafOf(r)) });

async function storedNodes(db: Db, id: string | undefined, refs: NodeRef[]): Promise<Uint8Array[]> {
  if (refs.length === 0) return [];
  const plan = planNodes(refs);
  if (id === undefined) return assembleNodes(refs, [], () => undefined);
  const stored = plan.stored.length
    ? (await db.run<{ hash: Buffer | null }>(selectSubtrees, [id, plan.stored.map(lastLeaf), plan.stored.map((r) => r.level)])).rows.map((r) => (r.hash ? new Uint8Array(r.hash) : undefined))
    : [];
  const leaves = new Map<number, Uint8Array>();
  for (const range of plan.leafRanges) for (const r of (await db.run<Row>(selectRange, [id, range.start, range.end])).rows) leaves.set(num(r.seq), leafOf(r));
  return assembleNodes(refs, stored, (seq) => leaves.get(seq));
}

export function createTransparencyStore(gc: GroupCommit) {
  /** Call only inside a gc.write callback, after the pubsub write it goes with succeeded. */
  async function append(db: Db, { domain, event }: LogAppend): Promise<void> {
    await db.run(ensureLog, [domain]);
    const id = (await db.run<{ id: string }>(lockLog, [domain])).rows[0]!.id;
    const n = num((await db.run<{ n: string }>(size, [id])).rows[0]!.n);
    const a = await appendLeaf(n, event, (refs) => storedNodes(db, id, refs));
    const wanted = [event.jid, event.node];
    await db.run(ensureNames, [wanted]);
    const ids = new Map((await db.run<{ id: string; name: string }>(selectNames, [wanted])).rows.map((r) => [r.name, r.id]));
    await db.run(insertEntry, [id, a.seq, ids.get(event.jid), ids.get(event.node), encodeBody(event, a.seq, a.leaf)]);
    const nodes = a.nodes.filter((x) => x.ref.level >= STORED_MIN_LEVEL);
    if (nodes.length) {
      await db.run(insertSubtrees, [id, nodes.map((x) => lastLeaf(x.ref)), nodes.map((x) => x.ref.level), nodes.map((x) => Buffer.from(x.hash))]);
    }
  }

  const logId = async (db: Db, domain: string) => (await db.run<{ id: string }>(selectLog, [domain])).rows[0]?.id;
  // Committed upper subtrees, filled by reads only (gc.read sees committed data).
  const committed = new Map<string, CommittedNodes>();

  const store: TransparencyStore = {
    size: (domain) =>
      gc.read(async (db) => {
        const id = await logId(db, domain);
        return id === undefined ? 0 : num((await db.run<{ n: string }>(size, [id])).rows[0]!.n);
      }),
    nodes: (domain, refs) =>
      gc.read(async (db) => {
        const id = await logId(db, domain);
        if (id === undefined) return storedNodes(db, id, refs);
        let c = committed.get(id);
        if (!c) committed.set(id, (c = new CommittedNodes()));
        return c.readAsync(refs, (missing) => storedNodes(db, id, missing));
      }),
    entries: (domain, start, end) =>
      gc.read(async (db) => {
        const id = await logId(db, domain);
        return id === undefined ? [] : (await db.run<Row>(selectRange, [id, start, end])).rows.map(toEntry);
      }),
    entriesOf: (domain, jid, from, max) =>
      gc.read(async (db) => {
        const id = await logId(db, domain);
        const j = (await db.run<{ id: string }>(selectNameId, [jid])).rows[0]?.id;
        return id === undefined || j === undefined ? [] : (await db.run<Row>(selectOf, [id, j, from, max])).rows.map(toEntry);
      }),
  };
  return { store, append };
}
