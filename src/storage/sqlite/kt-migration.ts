// Migration 6's conversion of the transparency logs (migrations.ts): every leaf of kt_leaves, decoded, is
// stored as kt_names + kt_entries, and must rebuild to exactly the same bytes, or the migration fails and
// the database stays at version 5.
import { decodeLeaf } from '../../transparency/leaf.ts';
import { encodeBody, leafFromBody } from '../sql/kt-body.ts';
import { BLOCK_LEAVES, blockHash, packBlock, unpackBlock, type BlockEntry } from '../sql/kt-block.ts';
import { BlockTree } from '../../transparency/node-cache.ts';
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

/**
 * Migration 7's conversion (migrations.ts): the rows of kt_entries become blocks of 8 (storage/sql/kt-block.ts)
 * and kt_jids. Every leaf must rebuild from its block to exactly the bytes it rebuilt to before, every
 * full block's hash must equal the stored level-3 subtree, and every stored upper subtree must equal the
 * fold of the block hashes under it; otherwise the migration fails and the database stays at version 6.
 */
export function convertKtBlocks(db: SqliteDatabase): void {
  const name = db.prepare('SELECT name FROM kt_names WHERE id = ?').pluck();
  const names = new Map<number, string>();
  const nameOf = (id: number) => {
    let n = names.get(id);
    if (n === undefined) names.set(id, (n = name.get(id) as string));
    return n;
  };
  const insertBlock = db.prepare('INSERT INTO kt_blocks (log_id, block, hash, leaves) VALUES (?, ?, ?, ?)');
  const insertJid = db.prepare('INSERT INTO kt_jids (log_id, jid_id, seq) VALUES (?, ?, ?)');
  const subtrees = db.prepare('SELECT last, level, hash FROM kt_subtrees WHERE log_id = ?');
  const page = db.prepare('SELECT log_id, seq, jid_id, node_id, body FROM kt_entries WHERE (log_id, seq) > (?, ?) ORDER BY log_id, seq LIMIT 10000');
  const logs = db.prepare('SELECT id FROM kt_logs ORDER BY id').pluck().all() as number[];
  const trees = new Map<number, BlockTree>();
  for (const id of logs) trees.set(id, new BlockTree());
  let after = [-1, -1];
  let current: { log: number; block: number; entries: BlockEntry[]; old: Uint8Array[] } | undefined;
  const close = () => {
    if (!current) return;
    const { log, block, entries, old } = current;
    const packed = packBlock(entries);
    const rebuilt = unpackBlock(packed).map((e, i) => leafFromBody(block * BLOCK_LEAVES + i, nameOf(e.jid), nameOf(e.node), e.body));
    rebuilt.forEach((leaf, i) => {
      if (!Buffer.from(leaf).equals(old[i]!)) throw new Error(`transparency leaf ${block * BLOCK_LEAVES + i} of log ${log} does not convert exactly`);
    });
    const hash = entries.length === BLOCK_LEAVES ? blockHash(rebuilt) : null;
    if (hash) trees.get(log)!.push(hash);
    insertBlock.run(log, block, hash, packed);
    current = undefined;
  };
  for (;;) {
    const rows = page.all(after[0], after[1]) as { log_id: number; seq: number; jid_id: number; node_id: number; body: Buffer }[];
    if (rows.length === 0) break;
    for (const r of rows) {
      const block = Math.floor(r.seq / BLOCK_LEAVES);
      if (current && (current.log !== r.log_id || current.block !== block)) close();
      const expected = current ? current.block * BLOCK_LEAVES + current.entries.length : block * BLOCK_LEAVES;
      if (r.seq !== expected || (!current && r.seq % BLOCK_LEAVES !== 0)) throw new Error(`transparency log ${r.log_id} has a gap before leaf ${r.seq}`);
      if (!current && trees.get(r.log_id)!.blocks !== block) throw new Error(`transparency log ${r.log_id} has a gap before leaf ${r.seq}`);
      current ??= { log: r.log_id, block, entries: [], old: [] };
      current.entries.push({ jid: r.jid_id, node: r.node_id, body: r.body });
      current.old.push(leafFromBody(r.seq, nameOf(r.jid_id), nameOf(r.node_id), r.body));
      insertJid.run(r.log_id, r.jid_id, r.seq);
    }
    const last = rows[rows.length - 1]!;
    after = [last.log_id, last.seq];
  }
  close();
  // Every subtree stored before (levels >= 3) must come out of the blocks the same.
  for (const [id, tree] of trees) {
    for (const s of subtrees.all(id) as { last: number; level: number; hash: Buffer }[]) {
      const h = tree.node({ level: s.level, index: (s.last + 1) / 2 ** s.level - 1 });
      if (!h || !Buffer.from(h).equals(s.hash)) throw new Error(`transparency log ${id}: subtree (${s.level}, ${s.last}) does not match its leaves`);
    }
  }
  db.exec('DROP TABLE kt_entries; DROP TABLE kt_subtrees');
}
