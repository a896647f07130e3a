// Key-transparency logs in SQLite (migration 7): leaves in rows of 8 (storage/sql/kt-block.ts) with their
// JID and node interned (kt_names), a (JID, sequence number) index for entries-of, and every subtree of
// level ≥ 3 in memory (transparency/node-cache.ts), built from the blocks' stored hashes.
//
// Appends: a pubsub write hands its key event over inside its savepoint; the events of a group-commit batch
// are appended together at the batch's end, inside its transaction, before COMMIT (group-commit.ts,
// "Participants"): one read of the log's last block and one or two block writes per batch, however many
// events it holds. A write rolled back alone takes its event with it; a batch that rolls back takes all.
// So a leaf exists exactly when its write committed, in the order the writes ran (their acknowledgement
// order).
import type { LogAppend, LogEntry, TransparencyStore } from '../types.ts';
import { assertEncodable, encodeLeaf } from '../../transparency/leaf.ts';
import { leafHash } from '../../transparency/hash.ts';
import { deriveKeyEvent } from '../../transparency/key-events.ts';
import { BlockTree, LEAF_LOAD_BLOCKS } from '../../transparency/node-cache.ts';
import { referenceRoot, type NodeRef } from '../../transparency/tree.ts';
import { encodeBody, leafFromBody } from '../sql/kt-body.ts';
import { BLOCK_LEAVES, packBlock, unpackBlock, type BlockEntry } from '../sql/kt-block.ts';
import { assembleNodes, planNodes, rowsToRead } from '../sql/kt-tree.ts';
import type { SqliteDatabase } from './database.ts';
import type { GroupCommit } from './group-commit.ts';

type BlockRow = { block: number; hash: Buffer | null; leaves: Buffer };

export function createTransparencyStore(db: SqliteDatabase, gc: GroupCommit | undefined) {
  const selectLog = db.prepare('SELECT id FROM kt_logs WHERE domain = ?').pluck();
  const insertLog = db.prepare('INSERT INTO kt_logs (domain) VALUES (?)');
  const selectLast = db.prepare('SELECT block, hash, leaves FROM kt_blocks WHERE log_id = ? ORDER BY block DESC LIMIT 1');
  const selectBlock = db.prepare('SELECT block, hash, leaves FROM kt_blocks WHERE log_id = ? AND block = ?');
  const selectBlocks = db.prepare('SELECT block, hash, leaves FROM kt_blocks WHERE log_id = ? AND block >= ? AND block < ? ORDER BY block');
  const selectHashes = db.prepare('SELECT block, hash FROM kt_blocks WHERE log_id = ? AND block >= ? AND block < ? AND hash IS NOT NULL ORDER BY block').raw();
  const selectLeaves = db.prepare('SELECT block, leaves FROM kt_blocks WHERE log_id = ? AND block >= ? AND block < ? ORDER BY block').raw();
  const upsertBlock = db.prepare(
    'INSERT INTO kt_blocks (log_id, block, hash, leaves) VALUES (?, ?, ?, ?) ON CONFLICT (log_id, block) DO UPDATE SET hash = excluded.hash, leaves = excluded.leaves',
  );
  const insertJid = db.prepare('INSERT INTO kt_jids (log_id, jid_id, seq) VALUES (?, ?, ?)');
  const selectOf = db.prepare('SELECT seq FROM kt_jids WHERE log_id = ? AND jid_id = ? AND seq >= ? ORDER BY seq LIMIT ?').pluck();
  const highestNameId = db.prepare('SELECT max(id) FROM kt_names').pluck();
  const insertName = db.prepare('INSERT INTO kt_names (name) VALUES (?) ON CONFLICT (name) DO NOTHING');
  const selectName = db.prepare('SELECT id FROM kt_names WHERE name = ?').pluck();
  const selectNameById = db.prepare('SELECT name FROM kt_names WHERE id = ?').pluck();

  // What reads remember (log numbers, names, block hashes) must be committed: a read queued behind writes
  // runs inside their batch's transaction (group-commit.ts), whose writes a failing batch rolls back. Such
  // a read uses what it sees without keeping it.
  const committedRead = () => !db.inTransaction;
  const logIds = new Map<string, number>();
  const logId = (domain: string) => {
    let id = logIds.get(domain);
    if (id === undefined) {
      id = selectLog.get(domain) as number | undefined;
      if (id !== undefined && committedRead()) logIds.set(domain, id);
    }
    return id;
  };

  // Names by number, as UTF-8 bytes (what a leaf is rebuilt from). Bounded: JIDs are many.
  let committedNames = new Map<number, Buffer>();
  const nameBytes = (nameId: number): Buffer => {
    let n = committedNames.get(nameId);
    if (n === undefined) {
      n = Buffer.from(selectNameById.get(nameId) as string, 'utf8');
      if (committedRead()) {
        if (committedNames.size >= 100_000) committedNames = new Map();
        committedNames.set(nameId, n);
      }
    }
    return n;
  };
  const leafOf = (seq: number, e: BlockEntry) => leafFromBody(seq, nameBytes(e.jid), nameBytes(e.node), e.body);
  const sizeOf = (id: number | undefined) => {
    const last = id === undefined ? undefined : (selectLast.get(id) as BlockRow | undefined);
    return last ? last.block * BLOCK_LEAVES + unpackBlock(last.leaves).length : 0;
  };

  // Every subtree of level ≥ 3 of each log, from committed blocks: loaded at a log's first proof (one scan
  // of the block rows), then extended by later reads and by committed appends.
  const trees = new Map<number, BlockTree>();
  const treeOf = (id: number) => {
    let t = trees.get(id);
    if (!t) trees.set(id, (t = new BlockTree()));
    return t;
  };
  /** Hashes of the full blocks [tree.blocks, upTo): kept when committed, else returned as extras. */
  const extendTree = (id: number, tree: BlockTree, upTo: number): Uint8Array[] => {
    if (tree.blocks >= upTo) return [];
    const keep = committedRead();
    const extra: Uint8Array[] = [];
    for (const [block, hash] of selectHashes.iterate(id, tree.blocks, upTo) as IterableIterator<[number, Buffer]>) {
      if (block !== tree.blocks + extra.length) break;
      if (keep) tree.push(hash);
      else extra.push(new Uint8Array(hash));
    }
    return extra;
  };
  /** Loads the leaf hashes of up to LEAF_LOAD_BLOCKS more of the tree's (committed) blocks. */
  const extendLeaves = (id: number, tree: BlockTree): void => {
    if (tree.leafBlocks >= tree.blocks || !committedRead()) return;
    const from = tree.leafBlocks;
    for (const [block, leaves] of selectLeaves.iterate(id, from, Math.min(tree.blocks, from + LEAF_LOAD_BLOCKS)) as IterableIterator<[number, Buffer]>) {
      if (block !== tree.leafBlocks) break;
      tree.pushLeaves(unpackBlock(leaves).map((e, i) => leafHash(leafOf(block * BLOCK_LEAVES + i, e))));
    }
  };
  const readNodes = (id: number | undefined, refs: NodeRef[]): Uint8Array[] => {
    const plan = planNodes(refs);
    if (id === undefined) return assembleNodes(refs, new BlockTree(), [], () => undefined);
    const tree = treeOf(id);
    const extra = extendTree(id, tree, Math.max(plan.upperBlocks, ...plan.blocks.map((b) => b + 1)));
    extendLeaves(id, tree);
    // Only the leaves a hash needs are rebuilt (7 of the 8 for an inclusion proof).
    const blocks = new Map<number, BlockEntry[]>();
    for (const block of rowsToRead(plan, tree)) {
      const row = selectBlock.get(id, block) as BlockRow | undefined;
      if (row) blocks.set(block, unpackBlock(row.leaves));
    }
    return assembleNodes(refs, tree, extra, (seq) => {
      const e = blocks.get(Math.floor(seq / BLOCK_LEAVES))?.[seq % BLOCK_LEAVES];
      return e && leafOf(seq, e);
    });
  };

  // ---- appends
  // Name numbers, as of the last append: trusted only while the highest stored number is the one
  // remembered (a batch rolled back took the names it added, and then it is smaller; every name is added
  // here, so equal numbers mean the same rows).
  let names = new Map<string, number>();
  let highestName = 0;
  const nameId = (name: string): number => {
    let n = names.get(name);
    if (n === undefined) {
      insertName.run(name);
      n = selectName.get(name) as number;
      names.set(name, n);
      highestName = Math.max(highestName, n);
    }
    return n;
  };
  // The leaf hashes of each log's last, growing block as of the last committed append, so that closing a
  // block hashes only its new leaves. Checked against the row read at each append (block and count).
  type Tail = { block: number; hashes: Uint8Array[] };
  const tails = new Map<number, Tail>();
  /** Tails and block hashes of the running batch, adopted once it commits. */
  let staged: { tails: Map<number, Tail>; blocks: { id: number; block: number; hash: Uint8Array; leaves: Uint8Array[] }[] } = { tails: new Map(), blocks: [] };
  let pending: LogAppend[] = [];

  /** Appends `events` in order, inside the caller's transaction (a batch's, or the caller's own). */
  function appendAll(events: readonly LogAppend[]): void {
    if (events.length === 0) return;
    const highest = (highestNameId.get() as number | null) ?? 0;
    if (highest !== highestName) {
      names = new Map();
      highestName = highest;
    }
    const byDomain = new Map<string, LogAppend['event'][]>();
    for (const { domain, event } of events) {
      let list = byDomain.get(domain);
      if (!list) byDomain.set(domain, (list = []));
      list.push(event);
    }
    for (const [domain, list] of byDomain) {
      const id = (selectLog.get(domain) as number | undefined) ?? Number(insertLog.run(domain).lastInsertRowid);
      const last = selectLast.get(id) as BlockRow | undefined;
      let block = 0;
      let entries: BlockEntry[] = [];
      let hashes: Uint8Array[] = [];
      if (last) {
        entries = unpackBlock(last.leaves);
        block = last.block;
        if (entries.length === BLOCK_LEAVES) {
          block++;
          entries = [];
        } else {
          const tail = staged.tails.get(id) ?? tails.get(id);
          hashes = tail && tail.block === block && tail.hashes.length === entries.length
            ? [...tail.hashes]
            : entries.map((e, i) => leafHash(leafFromBody(block * BLOCK_LEAVES + i, selectNameById.get(e.jid) as string, selectNameById.get(e.node) as string, e.body)));
        }
      }
      let dirty = false;
      for (const input of list) {
        const event = deriveKeyEvent(input);
        const seq = block * BLOCK_LEAVES + entries.length;
        const leaf = encodeLeaf({ ...event, seq });
        const jid = nameId(event.jid);
        entries.push({ jid, node: nameId(event.node), body: encodeBody(event, seq, leaf, false) });
        hashes.push(leafHash(leaf));
        insertJid.run(id, jid, seq);
        dirty = true;
        if (entries.length === BLOCK_LEAVES) {
          const hash = referenceRoot(hashes);
          upsertBlock.run(id, block, hash, packBlock(entries));
          staged.blocks.push({ id, block, hash, leaves: hashes });
          block++;
          entries = [];
          hashes = [];
          dirty = false;
        }
      }
      if (dirty) upsertBlock.run(id, block, null, packBlock(entries));
      staged.tails.set(id, { block, hashes });
    }
  }

  /** Adopts what the batch that ran the last appends staged, once it committed (or drops it). */
  function finished(committed: boolean): void {
    pending = [];
    const s = staged;
    staged = { tails: new Map(), blocks: [] };
    if (!committed) return;
    for (const [id, tail] of s.tails) tails.set(id, tail);
    // Committed block hashes extend a loaded tree (a read loads the rest in order).
    for (const b of s.blocks) {
      const tree = trees.get(b.id);
      if (tree && tree.blocks === b.block) {
        tree.push(b.hash);
        if (tree.leafBlocks === b.block) tree.pushLeaves(b.leaves);
      }
    }
  }

  gc?.join({
    mark: () => pending.length,
    rollbackTo: (mark) => void (pending.length = mark),
    flush: () => {
      const events = pending;
      pending = [];
      appendAll(events);
    },
    finished,
  });

  /** Call only inside a gc.write callback, after the pubsub write it goes with succeeded. */
  function append(log: LogAppend): void {
    // An event without a leaf encoding fails its own write here, not the batch at its end.
    assertEncodable(log.event);
    if (gc?.inBatch) pending.push(log);
    else {
      appendAll([log]);
      // Outside a batch the caller commits; nothing staged is adopted (reads load what committed).
      staged = { tails: new Map(), blocks: [] };
    }
  }

  const entriesIn = (id: number, start: number, end: number): LogEntry[] => {
    const out: LogEntry[] = [];
    const from = Math.max(0, start);
    if (end <= from) return out;
    const rows = selectBlocks.all(id, Math.floor(from / BLOCK_LEAVES), Math.ceil(end / BLOCK_LEAVES)) as BlockRow[];
    for (const row of rows) {
      unpackBlock(row.leaves).forEach((e, i) => {
        const seq = row.block * BLOCK_LEAVES + i;
        if (seq >= from && seq < end) out.push({ seq, leaf: new Uint8Array(leafOf(seq, e)) });
      });
    }
    return out;
  };

  // Without a group commit (the key-log thread, the only writer of its file) a read runs at once.
  const read = <T>(fn: () => T): Promise<T> => (gc ? gc.read(fn) : new Promise<T>((resolve) => resolve(fn())));
  const store: TransparencyStore = {
    size: (domain) => read(() => sizeOf(logId(domain))),
    nodes: (domain, refs) => read(() => readNodes(logId(domain), refs)),
    entries: (domain, start, end) =>
      read(() => {
        const id = logId(domain);
        return id === undefined ? [] : entriesIn(id, start, end);
      }),
    entriesOf: (domain, jid, from, max) =>
      read(() => {
        const id = logId(domain);
        const j = selectName.get(jid) as number | undefined;
        if (id === undefined || j === undefined) return [];
        const out: LogEntry[] = [];
        let block: BlockRow | undefined;
        for (const seq of selectOf.all(id, j, Math.max(0, from), max) as number[]) {
          const b = Math.floor(seq / BLOCK_LEAVES);
          if (block?.block !== b) block = selectBlock.get(id, b) as BlockRow;
          out.push({ seq, leaf: new Uint8Array(leafOf(seq, unpackBlock(block.leaves)[seq % BLOCK_LEAVES]!)) });
        }
        return out;
      }),
  };
  return { store, append, appendAll, finished };
}
