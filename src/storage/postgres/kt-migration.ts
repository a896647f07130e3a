// Migration 6's conversion of the transparency logs (migrations.ts), as in SQLite's kt-migration.ts: every
// leaf of kt_leaves becomes kt_names + kt_entries and must rebuild to the same bytes, or nothing changes.
import type { PoolClient } from 'pg';
import { decodeLeaf } from '../../transparency/leaf.ts';
import { encodeBody, leafFromBody } from '../sql/kt-body.ts';
import { BLOCK_LEAVES, blockHash, packBlock, unpackBlock, type BlockEntry } from '../sql/kt-block.ts';
import { BlockTree } from '../../transparency/node-cache.ts';

export async function convertKtLeaves(client: PoolClient): Promise<void> {
  const ids = new Map<string, string>();
  let after: [string, string] = ['-1', '-1'];
  for (;;) {
    const { rows } = await client.query<{ log_id: string; seq: string; leaf: Buffer }>(
      'SELECT log_id, seq, leaf FROM kt_leaves WHERE (log_id, seq) > ($1, $2) ORDER BY log_id, seq LIMIT 10000', after);
    if (rows.length === 0) break;
    const decoded = rows.map((r) => ({ r, e: decodeLeaf(r.leaf) }));
    const names = [...new Set(decoded.flatMap(({ e }) => [e.jid, e.node]))].filter((n) => !ids.has(n));
    if (names.length) {
      await client.query('INSERT INTO kt_names (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING', [names]);
      for (const r of (await client.query<{ id: string; name: string }>('SELECT id, name FROM kt_names WHERE name = ANY($1::text[])', [names])).rows) ids.set(r.name, r.id);
    }
    const cols: [string[], string[], string[], string[], Buffer[]] = [[], [], [], [], []];
    for (const { r, e } of decoded) {
      const seq = Number(r.seq);
      const body = encodeBody(e, seq, r.leaf);
      if (!Buffer.from(leafFromBody(seq, e.jid, e.node, body)).equals(r.leaf)) throw new Error(`transparency leaf ${r.seq} of log ${r.log_id} does not convert exactly`);
      cols[0].push(r.log_id);
      cols[1].push(r.seq);
      cols[2].push(ids.get(e.jid)!);
      cols[3].push(ids.get(e.node)!);
      cols[4].push(body);
    }
    await client.query('INSERT INTO kt_entries (log_id, seq, jid_id, node_id, body) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bytea[])', cols);
    const last = rows[rows.length - 1]!;
    after = [last.log_id, last.seq];
  }
  await client.query('DROP TABLE kt_leaves');
}

/**
 * Migration 7's conversion, as in SQLite's convertKtBlocks: kt_entries → kt_blocks + kt_jids, every leaf
 * rebuilt byte for byte, every full block's hash and every stored subtree checked, or nothing changes.
 */
export async function convertKtBlocks(client: PoolClient): Promise<void> {
  const names = new Map<string, string>();
  const logs = (await client.query<{ id: string }>('SELECT id FROM kt_logs ORDER BY id')).rows.map((r) => r.id);
  for (const log of logs) {
    const tree = new BlockTree();
    let next = 0;
    for (;;) {
      const { rows } = await client.query<{ seq: string; jid_id: string; node_id: string; body: Buffer }>(
        'SELECT seq, jid_id, node_id, body FROM kt_entries WHERE log_id = $1 AND seq >= $2 ORDER BY seq LIMIT 8000', [log, next]);
      if (rows.length === 0) break;
      const missing = [...new Set(rows.flatMap((r) => [r.jid_id, r.node_id]))].filter((id) => !names.has(id));
      if (missing.length) for (const r of (await client.query<{ id: string; name: string }>('SELECT id, name FROM kt_names WHERE id = ANY($1::bigint[])', [missing])).rows) names.set(r.id, r.name);
      const blocks: { block: number; hash: Buffer | null; leaves: Buffer }[] = [];
      for (let i = 0; i < rows.length; i += BLOCK_LEAVES) {
        const group = rows.slice(i, i + BLOCK_LEAVES);
        const block = Math.floor(next / BLOCK_LEAVES);
        group.forEach((r, k) => {
          if (Number(r.seq) !== next + k) throw new Error(`transparency log ${log} has a gap before leaf ${r.seq}`);
        });
        const entries: BlockEntry[] = group.map((r) => ({ jid: Number(r.jid_id), node: Number(r.node_id), body: r.body }));
        const packed = packBlock(entries);
        const old = group.map((r) => leafFromBody(Number(r.seq), names.get(r.jid_id)!, names.get(r.node_id)!, r.body));
        const rebuilt = unpackBlock(packed).map((e, k) => leafFromBody(next + k, names.get(String(e.jid))!, names.get(String(e.node))!, e.body));
        rebuilt.forEach((leaf, k) => {
          if (!Buffer.from(leaf).equals(old[k]!)) throw new Error(`transparency leaf ${next + k} of log ${log} does not convert exactly`);
        });
        const hash = group.length === BLOCK_LEAVES ? Buffer.from(blockHash(rebuilt)) : null;
        if (hash) tree.push(hash);
        blocks.push({ block, hash, leaves: packed });
        next += group.length;
      }
      await client.query('INSERT INTO kt_blocks (log_id, block, hash, leaves) SELECT $1, * FROM unnest($2::bigint[], $3::bytea[], $4::bytea[])',
        [log, blocks.map((b) => b.block), blocks.map((b) => b.hash), blocks.map((b) => b.leaves)]);
      await client.query('INSERT INTO kt_jids (log_id, jid_id, seq) SELECT $1, * FROM unnest($2::bigint[], $3::bigint[])', [log, rows.map((r) => r.jid_id), rows.map((r) => r.seq)]);
      if (rows.length % BLOCK_LEAVES !== 0) break;
    }
    for (const s of (await client.query<{ last: string; level: number; hash: Buffer }>('SELECT last, level, hash FROM kt_subtrees WHERE log_id = $1', [log])).rows) {
      const h = tree.node({ level: s.level, index: (Number(s.last) + 1) / 2 ** s.level - 1 });
      if (!h || !Buffer.from(h).equals(s.hash)) throw new Error(`transparency log ${log}: subtree (${s.level}, ${s.last}) does not match its leaves`);
    }
  }
  await client.query('DROP TABLE kt_entries; DROP TABLE kt_subtrees');
}
