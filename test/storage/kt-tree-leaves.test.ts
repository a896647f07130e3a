// storage/sql/kt-tree.ts with a block tree whose leaf hashes are loaded only part of the way (as after a
// restart, LEAF_LOAD_BLOCKS per read): held leaf hashes are used, blocks past them are read and hashed from
// their leaves, and every node equals the reference tree's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { leafHash } from '../../src/transparency/hash.ts';
import { BlockTree } from '../../src/transparency/node-cache.ts';
import { MemoryTree, referenceRoot, type NodeRef } from '../../src/transparency/tree.ts';
import { assembleNodes, planNodes, rowsToRead } from '../../src/storage/sql/kt-tree.ts';

const LEAVES = 45; // 5 full blocks and 5 leaves
const leaf = (seq: number) => new Uint8Array(createHash('sha256').update(`leaf ${seq}`).digest());

describe('kt-tree: leaf hashes held for some blocks', () => {
  it('reads only blocks past the held leaf hashes, and every node matches the reference', async () => {
    const reference = new MemoryTree();
    for (let i = 0; i < LEAVES; i++) reference.append(leafHash(leaf(i)));
    const tree = new BlockTree();
    for (let b = 0; b < 5; b++) {
      const hashes = Array.from({ length: 8 }, (_, i) => leafHash(leaf(b * 8 + i)));
      tree.push(referenceRoot(hashes));
      if (b < 2) tree.pushLeaves(hashes);
    }
    assert.equal(tree.leafBlocks, 2);
    assert.throws(() => new BlockTree().pushLeaves(Array.from({ length: 8 }, () => new Uint8Array(32))), RangeError);
    const refs: NodeRef[] = [];
    for (let level = 0; level < 3; level++) for (let index = 0; index < Math.floor(LEAVES / 2 ** level); index++) refs.push({ level, index });
    const plan = planNodes(refs);
    assert.deepEqual(rowsToRead(plan, tree).sort((a, b) => a - b), [2, 3, 4, 5]);
    const asked = new Set<number>();
    const got = assembleNodes(refs, tree, [], (seq) => {
      asked.add(Math.floor(seq / 8));
      return seq < LEAVES ? leaf(seq) : undefined;
    });
    assert.ok(![...asked].some((b) => b < 2), 'no leaf of a held block is rebuilt');
    assert.deepEqual(got, await Promise.all(refs.map(async (r) => (await reference.read([r]))[0]!)));
  });
});
