// Migration 6's conversion of the transparency logs (migrations.ts): every leaf of kt_leaves, decoded, is
// stored as kt_names + kt_entries, and must rebuild to exactly the same bytes, or the migration fails and
// the database stays at version 5.
import { decodeLeaf } from '../../transparency/leaf.ts';
import { encodeBody, leafFromBody } from '../sql/kt-body.ts';
import type { SqliteDatabase } from './database.ts';

export function convertKtLeaves(db: SqliteDatabase): void {
  const internName = db.prepare('INSERT INTO kt_names (name) VALUES (?) ON CONFLICT (name) DO NOTHING');
  const nameId = db.prepare('SELECT id FROM kt_names WHERE name = ?').pluck();
  const insert = db.prepare('INSERT INTO kt_entries (log_id, seq, jid_id, node_id, body) VALUES (?, ?, ?, ?, ?)');
  const ids = new Map<string, number>();
  const id = (name: string) => {
    let n = ids.get(name);
    if (n === undefined) {
      internName.run(name);
      ids.set(name, (n = nameId.get(name) as number));
    }
    return n;
  };
  // In pages: better-sqlite3 allows no write while a read of the same connection is open, and a log of
  // millions of leaves need not be held in memory at once.
  const page = db.prepare('SELECT log_id, seq, leaf FROM kt_leaves WHERE (log_id, seq) > (?, ?) ORDER BY log_id, seq LIMIT 10000');
  let after = [-1, -1];
  for (;;) {
    const rows = page.all(after[0], after[1]) as { log_id: number; seq: number; leaf: Buffer }[];
    if (rows.length === 0) break;
    for (const r of rows) {
      const e = decodeLeaf(r.leaf);
      const body = encodeBody(e, r.seq, r.leaf);
      if (!Buffer.from(leafFromBody(r.seq, e.jid, e.node, body)).equals(r.leaf)) throw new Error(`transparency leaf ${r.seq} of log ${r.log_id} does not convert exactly`);
      insert.run(r.log_id, r.seq, id(e.jid), id(e.node), body);
    }
    const last = rows[rows.length - 1]!;
    after = [last.log_id, last.seq];
  }
  db.exec('DROP TABLE kt_leaves');
}
