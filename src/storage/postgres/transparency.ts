// Key-transparency logs in PostgreSQL (migration 7: the layout of the SQLite adapter, storage/sql/kt-block.ts).
// An append runs on the write transaction of the pubsub write it goes with (same group-commit callback), so
// it commits or rolls back with it. The log row is locked in a statement of its own first; the last block
// is read in the next one, whose READ COMMITTED snapshot sees every leaf another server committed while we
// waited, so sequence numbers never collide. Nothing about a log's end is kept in memory between appends:
// other servers may append to the same log. Reads keep what is committed and final: names by number
// (a sequence never hands a number out twice) and the hashes of full blocks with every subtree above them.
import type { LogAppend, LogEntry, TransparencyStore } from '../types.ts';
import { deriveKeyEvent } from '../../transparency/key-events.ts';
import { encodeLeaf } from '../../transparency/leaf.ts';
import { leafHash } from '../../transparency/hash.ts';
import { BlockTree, LEAF_LOAD_BLOCKS } from '../../transparency/node-cache.ts';
import { referenceRoot, type NodeRef } from '../../transparency/tree.ts';
import { encodeBody, leafFromBody } from '../sql/kt-body.ts';
import { BLOCK_LEAVES, packBlock, unpackBlock, type BlockEntry } from '../sql/kt-block.ts';
import { assembleNodes, planNodes, rowsToRead } from '../sql/kt-tree.ts';
import { num, statement, type Db } from './db.ts';
import type { GroupCommit } from './group-commit.ts';

const ensureLog = statement('kt_log_ensure', 'INSERT INTO kt_logs (domain) VALUES ($1) ON CONFLICT (domain) DO NOTHING');
const lockLog = statement('kt_log_lock', 'SELECT id FROM kt_logs WHERE domain = $1 FOR UPDATE');
const selectLog = statement('kt_log', 'SELECT id FROM kt_logs WHERE domain = $1');
const selectLast = statement('kt_last7', 'SELECT block, hash, leaves FROM kt_blocks WHERE log_id = $1 ORDER BY block DESC LIMIT 1');
const selectBlocks = statement('kt_blocks7', 'SELECT block, hash, leaves FROM kt_blocks WHERE log_id = $1 AND block >= $2 AND block < $3 ORDER BY block');
const selectBlockSet = statement('kt_block_set7', 'SELECT block, hash, leaves FROM kt_blocks WHERE log_id = $1 AND block = ANY($2::bigint[])');
const selectHashes = statement('kt_hashes7', 'SELECT block, hash FROM kt_blocks WHERE log_id = $1 AND block >= $2 AND block < $3 AND hash IS NOT NULL ORDER BY block');
const upsertBlock = statement(
  'kt_block_upsert7',
  'INSERT INTO kt_blocks (log_id, block, hash, leaves) VALUES ($1, $2, $3, $4) ON CONFLICT (log_id, block) DO UPDATE SET hash = excluded.hash, leaves = excluded.leaves',
);
const insertJid = statement('kt_jid_insert7', 'INSERT INTO kt_jids (log_id, jid_id, seq) VALUES ($1, $2, $3)');
const selectOf = statement('kt_of7', 'SELECT seq FROM kt_jids WHERE log_id = $1 AND jid_id = $2 AND seq >= $3 ORDER BY seq LIMIT $4');
const ensureNames = statement('kt_names_ensure', 'INSERT INTO kt_names (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING');
const selectNames = statement('kt_names', 'SELECT id, name FROM kt_names WHERE name = ANY($1::text[])');
const selectNamesById = statement('kt_names_by_id', 'SELECT id, name FROM kt_names WHERE id = ANY($1::bigint[])');
const selectNameId = statement('kt_name_id', 'SELECT id FROM kt_names WHERE name = $1');

type BlockRow = { block: string; hash: Buffer | null; leaves: Buffer };

export function createTransparencyStore(gc: GroupCommit) {
  // Names by number, as UTF-8 bytes. Bounded: JIDs are many.
  let names = new Map<number, Buffer>();
  const loadNames = async (db: Db, ids: number[]) => {
    const missing = [...new Set(ids)].filter((id) => !names.has(id));
    if (missing.length === 0) return;
    if (names.size + missing.length > 100_000) names = new Map();
    for (const r of (await db.run<{ id: string; name: string }>(selectNamesById, [missing])).rows) names.set(num(r.id), Buffer.from(r.name, 'utf8'));
  };
  /** The canonical leaves of block rows, by sequence number (names loaded in one query). */
  const leavesOf = async (db: Db, rows: BlockRow[]): Promise<Map<number, Uint8Array>> => {
    const unpacked = rows.map((r) => ({ block: num(r.block), entries: unpackBlock(r.leaves) }));
    await loadNames(db, unpacked.flatMap((u) => u.entries.flatMap((e) => [e.jid, e.node])));
    const out = new Map<number, Uint8Array>();
    for (const { block, entries } of unpacked) {
      entries.forEach((e, i) => {
        const seq = block * BLOCK_LEAVES + i;
        out.set(seq, leafFromBody(seq, names.get(e.jid)!, names.get(e.node)!, e.body));
      });
    }
    return out;
  };
  const sizeOf = async (db: Db, id: string) => {
    const last = (await db.run<BlockRow>(selectLast, [id])).rows[0];
    return last ? num(last.block) * BLOCK_LEAVES + unpackBlock(last.leaves).length : 0;
  };

  /** Call only inside a gc.write callback, after the pubsub write it goes with succeeded. */
  async function append(db: Db, { domain, event: input }: LogAppend): Promise<void> {
    const event = deriveKeyEvent(input);
    await db.run(ensureLog, [domain]);
    const id = (await db.run<{ id: string }>(lockLog, [domain])).rows[0]!.id;
    const last = (await db.run<BlockRow>(selectLast, [id])).rows[0];
    let block = 0;
    let entries: BlockEntry[] = [];
    if (last) {
      block = num(last.block);
      entries = unpackBlock(last.leaves);
      if (entries.length === BLOCK_LEAVES) {
        block++;
        entries = [];
      }
    }
    const wanted = [event.jid, event.node];
    await db.run(ensureNames, [wanted]);
    const ids = new Map((await db.run<{ id: string; name: string }>(selectNames, [wanted])).rows.map((r) => [r.name, num(r.id)]));
    const seq = block * BLOCK_LEAVES + entries.length;
    const leaf = encodeLeaf({ ...event, seq });
    const jid = ids.get(event.jid)!;
    entries.push({ jid, node: ids.get(event.node)!, body: encodeBody(event, seq, leaf) });
    let hash: Buffer | null = null;
    if (entries.length === BLOCK_LEAVES) {
      // The block closes: its level-3 hash, from the 7 leaves before this one.
      const before = last ? await leavesOf(db, [{ ...last, block: String(block) }]) : new Map<number, Uint8Array>();
      const hashes = entries.map((_, i) => (i === BLOCK_LEAVES - 1 ? leafHash(leaf) : leafHash(before.get(block * BLOCK_LEAVES + i)!)));
      hash = Buffer.from(referenceRoot(hashes));
    }
    await db.run(upsertBlock, [id, block, hash, packBlock(entries)]);
    await db.run(insertJid, [id, jid, seq]);
  }

  const logId = async (db: Db, domain: string) => (await db.run<{ id: string }>(selectLog, [domain])).rows[0]?.id;
  // Subtrees of level ≥ 3 per log, from committed full blocks (gc.read sees committed data).
  const trees = new Map<string, BlockTree>();
  const readNodes = async (db: Db, id: string | undefined, refs: NodeRef[]): Promise<Uint8Array[]> => {
    const plan = planNodes(refs);
    if (id === undefined) return assembleNodes(refs, new BlockTree(), [], () => undefined);
    let tree = trees.get(id);
    if (!tree) trees.set(id, (tree = new BlockTree()));
    // Held block hashes go at least as far as the blocks asked for, so their leaf hashes can be loaded.
    const upTo = Math.max(plan.upperBlocks, ...plan.blocks.map((b) => b + 1));
    if (tree.blocks < upTo) {
      for (const r of (await db.run<{ block: string; hash: Buffer }>(selectHashes, [id, tree.blocks, upTo])).rows) {
        if (num(r.block) !== tree.blocks) break;
        tree.push(r.hash);
      }
    }
    // Leaf hashes of up to LEAF_LOAD_BLOCKS more held blocks (node-cache.ts).
    if (tree.leafBlocks < tree.blocks) {
      const from = tree.leafBlocks;
      const rows = (await db.run<BlockRow>(selectBlocks, [id, from, Math.min(tree.blocks, from + LEAF_LOAD_BLOCKS)])).rows;
      const leaves = await leavesOf(db, rows);
      for (const r of rows) {
        const block = num(r.block);
        // Another read may have loaded some meanwhile (awaits above).
        if (block < tree.leafBlocks) continue;
        if (block !== tree.leafBlocks) break;
        const hashes: Uint8Array[] = [];
        for (let i = 0; i < BLOCK_LEAVES; i++) hashes.push(leafHash(leaves.get(block * BLOCK_LEAVES + i)!));
        tree.pushLeaves(hashes);
      }
    }
    const read = rowsToRead(plan, tree);
    const leaves = read.length ? await leavesOf(db, (await db.run<BlockRow>(selectBlockSet, [id, read])).rows) : new Map<number, Uint8Array>();
    return assembleNodes(refs, tree, [], (seq) => leaves.get(seq));
  };

  const store: TransparencyStore = {
    size: (domain) =>
      gc.read(async (db) => {
        const id = await logId(db, domain);
        return id === undefined ? 0 : sizeOf(db, id);
      }),
    nodes: (domain, refs) => gc.read(async (db) => readNodes(db, await logId(db, domain), refs)),
    entries: (domain, start, end) =>
      gc.read(async (db) => {
        const id = await logId(db, domain);
        const from = Math.max(0, start);
        if (id === undefined || end <= from) return [];
        const leaves = await leavesOf(db, (await db.run<BlockRow>(selectBlocks, [id, Math.floor(from / BLOCK_LEAVES), Math.ceil(end / BLOCK_LEAVES)])).rows);
        const out: LogEntry[] = [];
        for (const [seq, leaf] of leaves) if (seq >= from && seq < end) out.push({ seq, leaf: new Uint8Array(leaf) });
        return out.sort((a, b) => a.seq - b.seq);
      }),
    entriesOf: (domain, jid, from, max) =>
      gc.read(async (db) => {
        const id = await logId(db, domain);
        const j = (await db.run<{ id: string }>(selectNameId, [jid])).rows[0]?.id;
        if (id === undefined || j === undefined) return [];
        const seqs = (await db.run<{ seq: string }>(selectOf, [id, j, Math.max(0, from), max])).rows.map((r) => num(r.seq));
        if (seqs.length === 0) return [];
        const blocks = [...new Set(seqs.map((s) => Math.floor(s / BLOCK_LEAVES)))];
        const leaves = await leavesOf(db, (await db.run<BlockRow>(selectBlockSet, [id, blocks])).rows);
        return seqs.map((seq) => ({ seq, leaf: new Uint8Array(leaves.get(seq)!) }));
      }),
  };
  return { store, append };
}
