// Key-transparency logs in PostgreSQL (migration 7: the layout of the SQLite adapter, storage/sql/kt-block.ts).
// Appends: a pubsub write hands its key event over inside its group-commit callback; the events of one
// transaction are appended together at its end, before COMMIT (group-commit.ts, "Participants"), so they
// commit or roll back with the writes that produced them, in the writes' order. Per transaction, however
// many events: one statement locking the logs' rows (in domain order, so two servers' batches never wait on
// each other crosswise), then one reading each log's last block (and the names' numbers), whose READ
// COMMITTED snapshot sees every leaf another server committed while we waited, so sequence numbers never
// collide; then one statement writing every block touched and every (JID, seq) row. Nothing about a log's
// end is kept in memory between transactions: other servers may append to the same log. Reads keep what is
// committed and final: names by number (a sequence never hands a number out twice) and the hashes of full
// blocks with every subtree above them.
import type { LogAppend, LogEntry, TransparencyStore } from '../types.ts';
import { deriveKeyEvent } from '../../transparency/key-events.ts';
import { assertEncodable, encodeLeaf, type KeyEventDraft } from '../../transparency/leaf.ts';
import { leafHash } from '../../transparency/hash.ts';
import { BlockTree, LEAF_LOAD_BLOCKS } from '../../transparency/node-cache.ts';
import { referenceRoot, type NodeRef } from '../../transparency/tree.ts';
import { encodeBody, leafFromBody } from '../sql/kt-body.ts';
import { BLOCK_LEAVES, packBlock, unpackBlock, type BlockEntry } from '../sql/kt-block.ts';
import { assembleNodes, planNodes, rowsToRead } from '../sql/kt-tree.ts';
import { num, statement, type Db } from './db.ts';
import type { GroupCommit } from './group-commit.ts';

const lockLog = statement('kt_log_lock2', 'SELECT id, domain FROM kt_logs WHERE domain = $1 FOR UPDATE');
// Several logs (rare): ORDER BY below the row locks, so rows are locked in domain order.
const lockLogs = statement('kt_logs_lock', 'SELECT id, domain FROM kt_logs WHERE domain = ANY($1::text[]) ORDER BY domain FOR UPDATE');
const ensureLogs = statement('kt_logs_ensure', 'INSERT INTO kt_logs (domain) SELECT unnest($1::text[]) ON CONFLICT (domain) DO NOTHING');
const selectLog = statement('kt_log', 'SELECT id FROM kt_logs WHERE domain = $1');
// Each locked log's last block, and the numbers of the names wanted, adding the missing ones (only those:
// an insert attempt draws a number even when it conflicts). Rows another transaction added and committed
// while this statement waited on them are outside its snapshot (taken before): selectNames, a statement
// later, finds them. Both arrays come padded with NULLs (padded below).
const selectEnds = statement(
  'kt_ends7',
  `WITH ins AS (
     INSERT INTO kt_names (name) SELECT n FROM unnest($2::text[]) AS n WHERE n IS NOT NULL AND NOT EXISTS (SELECT 1 FROM kt_names WHERE name = n)
     ON CONFLICT (name) DO NOTHING RETURNING id, name
   )
   SELECT l.id AS log_id, b.block, b.leaves, NULL::bigint AS name_id, NULL::text AS name FROM unnest($1::bigint[]) AS l (id)
     CROSS JOIN LATERAL (SELECT block, leaves FROM kt_blocks WHERE log_id = l.id ORDER BY block DESC LIMIT 1) AS b
   UNION ALL SELECT NULL, NULL, NULL, id, name FROM ins
   UNION ALL SELECT NULL, NULL, NULL, id, name FROM kt_names WHERE name = ANY($2::text[])`,
);
const selectLast = statement('kt_last7', 'SELECT block, hash, leaves FROM kt_blocks WHERE log_id = $1 ORDER BY block DESC LIMIT 1');
const selectBlocks = statement('kt_blocks7', 'SELECT block, hash, leaves FROM kt_blocks WHERE log_id = $1 AND block >= $2 AND block < $3 ORDER BY block');
const selectBlockSet = statement('kt_block_set7', 'SELECT block, hash, leaves FROM kt_blocks WHERE log_id = $1 AND block = ANY($2::bigint[])');
const selectHashes = statement('kt_hashes7', 'SELECT block, hash FROM kt_blocks WHERE log_id = $1 AND block >= $2 AND block < $3 AND hash IS NOT NULL ORDER BY block');
// Every block a transaction touched and its leaves' (JID, seq) rows, in one statement.
const writeBlocks = statement(
  'kt_blocks_write7',
  `WITH b AS (
     INSERT INTO kt_blocks (log_id, block, hash, leaves) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[])
     ON CONFLICT (log_id, block) DO UPDATE SET hash = excluded.hash, leaves = excluded.leaves
   )
   INSERT INTO kt_jids (log_id, jid_id, seq) SELECT * FROM unnest($5::bigint[], $6::bigint[], $7::bigint[])`,
);
const selectOf = statement('kt_of7', 'SELECT seq FROM kt_jids WHERE log_id = $1 AND jid_id = $2 AND seq >= $3 ORDER BY seq LIMIT $4');
const selectNames = statement('kt_names', 'SELECT id, name FROM kt_names WHERE name = ANY($1::text[])');
const selectNamesById = statement('kt_names_by_id', 'SELECT id, name FROM kt_names WHERE id = ANY($1::bigint[])');
const selectNameId = statement('kt_name_id', 'SELECT id FROM kt_names WHERE name = $1');

type BlockRow = { block: string; hash: Buffer | null; leaves: Buffer };

/**
 * An array parameter with NULLs up to 10 elements. The planner takes an array parameter for 10 elements in
 * a statement's generic plan but counts the elements of each execution's own (custom) plan; with fewer, every
 * custom plan looks cheaper and a prepared statement is planned again at each execution (measured: 0.8 ms
 * against 0.16 ms per execution of selectEnds). Equal counts keep the generic plan.
 */
const planned = <T>(values: T[]): (T | null)[] => (values.length >= 10 ? values : [...values, ...Array<null>(10 - values.length).fill(null)]);

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

  // ---- appends
  /** The running transaction's key events, in the order of its writes. */
  let pending: { domain: string; event: KeyEventDraft }[] = [];

  /** Appends a transaction's key events on its connection, before its COMMIT. */
  async function appendAll(db: Db, events: typeof pending): Promise<void> {
    if (events.length === 0) return;
    const byDomain = new Map<string, KeyEventDraft[]>();
    for (const { domain, event } of events) {
      let list = byDomain.get(domain);
      if (!list) byDomain.set(domain, (list = []));
      list.push(event);
    }
    const domains = [...byDomain.keys()].sort();
    const lock = async () =>
      (await (domains.length === 1 ? db.run<{ id: string; domain: string }>(lockLog, domains) : db.run<{ id: string; domain: string }>(lockLogs, [domains]))).rows;
    let locked = await lock();
    if (locked.length < domains.length) {
      const have = new Set(locked.map((r) => r.domain));
      await db.run(ensureLogs, [domains.filter((d) => !have.has(d))]);
      locked = await lock();
    }
    // Sorted: two transactions adding the same new names take their index entries in one order.
    const wanted = [...new Set(events.flatMap(({ event }) => [event.jid, event.node]))].sort();
    // A statement after the locks: its snapshot sees every append committed before we got them.
    type EndRow = { log_id: string | null; block: string; leaves: Buffer; name_id: string | null; name: string };
    const lasts = new Map<string, EndRow>();
    const ids = new Map<string, number>();
    for (const r of (await db.run<EndRow>(selectEnds, [planned(locked.map((l) => l.id)), planned(wanted)])).rows) {
      if (r.log_id !== null) lasts.set(r.log_id, r);
      else ids.set(r.name, num(r.name_id));
    }
    const late = wanted.filter((name) => !ids.has(name));
    if (late.length) for (const r of (await db.run<{ id: string; name: string }>(selectNames, [late])).rows) ids.set(r.name, num(r.id));
    const blocks: { log: string[]; block: number[]; hash: (Buffer | null)[]; leaves: Buffer[] } = { log: [], block: [], hash: [], leaves: [] };
    const jids: { log: string[]; jid: number[]; seq: number[] } = { log: [], jid: [], seq: [] };
    for (const { id, domain } of locked) {
      const last = lasts.get(id);
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
      // Leaf hashes of the block being filled; those of leaves stored before are rebuilt only to close it.
      let hashes: Uint8Array[] | undefined = entries.length === 0 ? [] : undefined;
      const newHashes: Uint8Array[] = [];
      let dirty = false;
      for (const event of byDomain.get(domain)!) {
        const seq = block * BLOCK_LEAVES + entries.length;
        const leaf = encodeLeaf({ ...event, seq });
        const jid = ids.get(event.jid)!;
        entries.push({ jid, node: ids.get(event.node)!, body: encodeBody(event, seq, leaf, false) });
        newHashes.push(leafHash(leaf));
        jids.log.push(id);
        jids.jid.push(jid);
        jids.seq.push(seq);
        dirty = true;
        if (entries.length === BLOCK_LEAVES) {
          if (!hashes) {
            const before = await leavesOf(db, [{ block: last!.block, hash: null, leaves: last!.leaves }]);
            hashes = [...before.keys()].sort((a, b) => a - b).map((s) => leafHash(before.get(s)!));
          }
          blocks.log.push(id);
          blocks.block.push(block);
          blocks.hash.push(Buffer.from(referenceRoot([...hashes, ...newHashes])));
          blocks.leaves.push(packBlock(entries));
          block++;
          entries = [];
          hashes = [];
          newHashes.length = 0;
          dirty = false;
        }
      }
      if (dirty) {
        blocks.log.push(id);
        blocks.block.push(block);
        blocks.hash.push(null);
        blocks.leaves.push(packBlock(entries));
      }
    }
    await db.run(writeBlocks, [blocks.log, blocks.block, blocks.hash, blocks.leaves, jids.log, jids.jid, jids.seq]);
  }

  // A rolled-back transaction's events go with it; its replay hands them over again.
  gc.join({
    begin: () => void (pending = []),
    flush: (db) => {
      const events = pending;
      pending = [];
      return appendAll(db, events);
    },
  });

  /** Call only inside a gc.write callback, after the pubsub write it goes with succeeded. */
  function append({ domain, event: input }: LogAppend): void {
    const event = deriveKeyEvent(input);
    // An event without a leaf encoding fails its own write here, not its transaction at the end.
    assertEncodable(event);
    pending.push({ domain, event });
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
