// Migration 6's conversion of the transparency logs (migrations.ts), as in SQLite's kt-migration.ts: every
// leaf of kt_leaves becomes kt_names + kt_entries and must rebuild to the same bytes, or nothing changes.
import type { PoolClient } from 'pg';
import { decodeLeaf } from '../../transparency/leaf.ts';
import { encodeBody, leafFromBody } from '../sql/kt-body.ts';

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
