// Key-transparency logs in SQLite (migration 5): leaves with their hashes, and every perfect subtree of
// level ≥ 1, so a proof reads O(log n) rows by primary key. Appends run inside the pubsub write's
// callback, hence in its savepoint and commit: a leaf exists exactly when its write committed.
import type { LogAppend, LogEntry, TransparencyStore } from '../types.ts';
import { SubtreeNotFoundError } from '../errors.ts';
import { appendToLog } from '../../transparency/log-append.ts';
import { EMPTY_FRONTIER, frontierFrom, frontierRefs, type Frontier } from '../../transparency/frontier.ts';
import { CommittedNodes } from '../../transparency/node-cache.ts';
import type { NodeRef } from '../../transparency/tree.ts';
import type { SqliteDatabase } from './database.ts';
import type { GroupCommit } from './group-commit.ts';

export function createTransparencyStore(db: SqliteDatabase, gc: GroupCommit) {
  const selectLog = db.prepare('SELECT id FROM kt_logs WHERE domain = ?').pluck();
  // An append's one read: the log and its size (from the primary key, like pubsub item numbers: no counter
  // row rewritten at every append).
  const selectLogSize = db.prepare('SELECT id, (SELECT max(seq) FROM kt_leaves WHERE log_id = kt_logs.id) AS last FROM kt_logs WHERE domain = ?');
  const insertLog = db.prepare('INSERT INTO kt_logs (domain) VALUES (?)');
  // Read from the primary key, like pubsub item numbers: no counter row rewritten at every append.
  const maxSeq = db.prepare('SELECT max(seq) FROM kt_leaves WHERE log_id = ?').pluck();
  const insertLeaf = db.prepare('INSERT INTO kt_leaves (log_id, seq, jid, hash, leaf) VALUES (?, ?, ?, ?, ?)');
  const insertNode = db.prepare('INSERT INTO kt_nodes (log_id, level, idx, hash) VALUES (?, ?, ?, ?)');
  const selectLeafHash = db.prepare('SELECT hash FROM kt_leaves WHERE log_id = ? AND seq = ?').pluck();
  const selectNode = db.prepare('SELECT hash FROM kt_nodes WHERE log_id = ? AND level = ? AND idx = ?').pluck();
  const selectRange = db.prepare('SELECT seq, leaf FROM kt_leaves WHERE log_id = ? AND seq >= ? AND seq < ? ORDER BY seq');
  const selectOf = db.prepare('SELECT seq, leaf FROM kt_leaves WHERE log_id = ? AND jid = ? AND seq >= ? ORDER BY seq LIMIT ?');

  const logId = (domain: string) => selectLog.get(domain) as number | undefined;
  const sizeOf = (id: number | undefined) => (id === undefined ? 0 : ((maxSeq.get(id) as number | null) ?? -1) + 1);
  const node = (id: number | undefined, { level, index }: NodeRef): Uint8Array => {
    const h = id === undefined ? undefined : ((level === 0 ? selectLeafHash.get(id, index) : selectNode.get(id, level, index)) as Buffer | undefined);
    if (!h) throw new SubtreeNotFoundError(level, index);
    return new Uint8Array(h);
  };
  const toEntry = (r: { seq: number; leaf: Buffer }): LogEntry => ({ seq: r.seq, leaf: new Uint8Array(r.leaf) });

  // Per log, the right edge of its tree as of the last append (frontier.ts). Trusted only while the stored
  // size equals its size: a write rolled back (alone, or with its whole batch) took its leaf with it, the
  // stored size is then smaller, and the edge is read again. Every append goes through here, so an equal
  // size means the same leaves.
  const edges = new Map<number, Frontier>();
  const edge = (id: number, size: number): Frontier => {
    const f = edges.get(id);
    if (f && f.size === size) return f;
    return size === 0 ? EMPTY_FRONTIER : frontierFrom(size, frontierRefs(size).map((r) => node(id, r)));
  };
  // Committed upper subtrees, filled by reads only (gc.read sees committed, durable data).
  const committed = new Map<number, CommittedNodes>();
  const readNodes = (id: number | undefined, refs: NodeRef[]): Uint8Array[] => {
    if (id === undefined) return refs.map((r) => node(id, r));
    let c = committed.get(id);
    if (!c) committed.set(id, (c = new CommittedNodes()));
    return c.read(refs, (missing) => missing.map((r) => node(id, r)));
  };

  /** Call only inside a gc.write callback, after the pubsub write it goes with succeeded. */
  function append({ domain, event }: LogAppend): void {
    const row = selectLogSize.get(domain) as { id: number; last: number | null } | undefined;
    const id = row?.id ?? Number(insertLog.run(domain).lastInsertRowid);
    const a = appendToLog(edge(id, (row?.last ?? -1) + 1), event);
    insertLeaf.run(id, a.seq, event.jid, a.hash, a.leaf);
    for (const n of a.nodes) insertNode.run(id, n.ref.level, n.ref.index, n.hash);
    edges.set(id, a.next);
  }

  const store: TransparencyStore = {
    size: (domain) => gc.read(() => sizeOf(logId(domain))),
    nodes: (domain, refs) => gc.read(() => readNodes(logId(domain), refs)),
    entries: (domain, start, end) =>
      gc.read(() => {
        const id = logId(domain);
        return id === undefined ? [] : (selectRange.all(id, start, end) as { seq: number; leaf: Buffer }[]).map(toEntry);
      }),
    entriesOf: (domain, jid, from, max) =>
      gc.read(() => {
        const id = logId(domain);
        return id === undefined ? [] : (selectOf.all(id, jid, from, max) as { seq: number; leaf: Buffer }[]).map(toEntry);
      }),
  };
  return { store, append };
}
