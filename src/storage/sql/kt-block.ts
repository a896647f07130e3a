// How the SQL adapters store a transparency log's leaves (migration 7): one row per aligned block of 8
// leaves, [8·block, 8·block + 8), the block being exactly the perfect subtree of level 3 at index `block`.
// The row holds that subtree's hash once the block is full (NULL while it is the log's growing last block)
// and the leaves packed in one blob, each as
//
//   varint JID number (kt_names), varint node number, varint body length, body (storage/sql/kt-body.ts)
//
// One row, one key and one B-tree cell per 8 leaves instead of per leaf, and no table of subtrees: every
// subtree of level ≥ 3 is a fold of block hashes (kept in memory, transparency/node-cache.ts), and every
// one below is hashed from the 8 leaves of one block.
import { leafHash } from '../../transparency/hash.ts';
import { referenceRoot } from '../../transparency/tree.ts';
import { readVarint, varintEnd, writeVarint } from './kt-body.ts';

export const BLOCK_LEVEL = 3;
export const BLOCK_LEAVES = 2 ** BLOCK_LEVEL;

export interface BlockEntry {
  jid: number;
  node: number;
  body: Uint8Array;
}

export function packBlock(entries: readonly BlockEntry[]): Buffer {
  let size = 0;
  for (const e of entries) size += e.body.length + 24;
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (const e of entries) {
    o = writeVarint(out, e.jid, o);
    o = writeVarint(out, e.node, o);
    o = writeVarint(out, e.body.length, o);
    out.set(e.body, o);
    o += e.body.length;
  }
  return out.subarray(0, o);
}

/** The entries of a packed block, in order (bodies are views into `blob`). */
export function unpackBlock(blob: Uint8Array): BlockEntry[] {
  const out: BlockEntry[] = [];
  let o = 0;
  const varint = (): number => {
    const n = readVarint(blob, o);
    o = varintEnd();
    return n;
  };
  while (o < blob.length) {
    const jid = varint();
    const node = varint();
    const len = varint();
    if (o + len > blob.length) throw new RangeError('truncated transparency block');
    out.push({ jid, node, body: blob.subarray(o, o + len) });
    o += len;
  }
  if (out.length > BLOCK_LEAVES) throw new RangeError('transparency block holds more than 8 leaves');
  return out;
}

/** The level-3 subtree hash of a full block, from its 8 canonical leaves. */
export function blockHash(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length !== BLOCK_LEAVES) throw new RangeError('a block hash needs 8 leaves');
  return referenceRoot(leaves.map(leafHash));
}
