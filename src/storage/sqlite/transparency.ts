// Key-transparency logs in SQLite (migration 5): leaves with their hashes, and every perfect subtree of
// level ≥ 1, so a proof reads O(log n) rows by primary key. Appends run inside the pubsub write's
// callback, hence in its savepoint and commit: a leaf exists exactly when its write committed.
import type { LogAppend, LogEntry, TransparencyStore } from '../types.ts';
import { SubtreeNotFoundError } from '../errors.ts';
import { appendLeafSync } from '../../transparency/log-append.ts';
import type { NodeRef } from '../../transparency/tree.ts';
import type { SqliteDatabase } from './database.ts';
import type { GroupCommit } from './group-commit.ts';

export function createTransparencyStore(db: SqliteDatabase, gc: GroupCommit) {
  const selectLog = db.prepare('SELECT id FROM kt_logs WHERE domain = ?').pluck();
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

  /** Call only inside a gc.write callback, after the pubsub write it goes with succeeded. */
  function append({ domain, event }: LogAppend): void {
    const id = logId(domain) ?? Number(insertLog.run(domain).lastInsertRowid);
    const a = appendLeafSync(sizeOf(id), event, (ref) => node(id, ref));
    insertLeaf.run(id, a.seq, event.jid, a.hash, a.leaf);
    for (const n of a.nodes) insertNode.run(id, n.ref.level, n.ref.index, n.hash);
  }

  const store: TransparencyStore = {
    size: (domain) => gc.read(() => sizeOf(logId(domain))),
    nodes: (domain, refs) =>
      gc.read(() => {
        const id = logId(domain);
        return refs.map((r) => node(id, r));
      }),
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
