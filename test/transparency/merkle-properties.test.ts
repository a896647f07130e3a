// Property tests over random trees: every inclusion and consistency proof the node cache produces verifies
// against the recursive RFC 9162 root, and flipping any byte of a proof, leaf or root makes it fail.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { leafHash } from '../../src/transparency/hash.ts';
import { MemoryTree, referenceRoot, rootHash } from '../../src/transparency/tree.ts';
import { inclusionProof, verifyInclusion } from '../../src/transparency/inclusion.ts';
import { consistencyProof, verifyConsistency } from '../../src/transparency/consistency.ts';

const leavesArb = fc.array(fc.uint8Array({ maxLength: 8 }), { minLength: 1, maxLength: 300 });

function build(leaves: Uint8Array[]): { tree: MemoryTree; hashes: Uint8Array[] } {
  const tree = new MemoryTree();
  for (const l of leaves) tree.appendLeafInput(l);
  return { tree, hashes: leaves.map(leafHash) };
}

function flip(bytes: Uint8Array, at: number, mask: number): Uint8Array {
  const c = new Uint8Array(bytes);
  c[at % c.length]! ^= mask;
  return c;
}

describe('Merkle proofs over random trees', () => {
  it('the cached root equals the recursive root for every size', async () => {
    await fc.assert(
      fc.asyncProperty(leavesArb, async (leaves) => {
        const { tree, hashes } = build(leaves);
        for (let n = 0; n <= leaves.length; n += Math.max(1, Math.floor(leaves.length / 17))) {
          assert.deepEqual(await rootHash(n, tree.read), referenceRoot(hashes.slice(0, n)));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('every inclusion proof verifies, and any flipped byte makes it fail', async () => {
    await fc.assert(
      fc.asyncProperty(leavesArb, fc.nat(), fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), async (leaves, a, b, pos, mask) => {
        const { tree, hashes } = build(leaves);
        const n = 1 + (a % leaves.length);
        const m = b % n;
        const root = referenceRoot(hashes.slice(0, n));
        const proof = await inclusionProof(m, n, tree.read);
        assert.ok(verifyInclusion(m, n, hashes[m]!, proof, root));
        assert.equal(verifyInclusion(m, n, flip(hashes[m]!, pos, mask), proof, root), false);
        assert.equal(verifyInclusion(m, n, hashes[m]!, proof, flip(root, pos, mask)), false);
        if (proof.length > 0) {
          const i = pos % proof.length;
          const bad = proof.map((p, j) => (j === i ? flip(p, pos >> 5, mask) : p));
          assert.equal(verifyInclusion(m, n, hashes[m]!, bad, root), false);
          assert.equal(verifyInclusion(m, n, hashes[m]!, proof.slice(1), root), false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('every consistency proof verifies, and any flipped byte makes it fail', async () => {
    await fc.assert(
      fc.asyncProperty(leavesArb, fc.nat(), fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), async (leaves, a, b, pos, mask) => {
        const { tree, hashes } = build(leaves);
        const n = 1 + (a % leaves.length);
        const m = 1 + (b % n);
        const r1 = referenceRoot(hashes.slice(0, m));
        const r2 = referenceRoot(hashes.slice(0, n));
        const proof = await consistencyProof(m, n, tree.read);
        assert.ok(verifyConsistency(m, n, proof, r1, r2));
        if (m === n) return;
        assert.equal(verifyConsistency(m, n, proof, flip(r1, pos, mask), r2), false);
        assert.equal(verifyConsistency(m, n, proof, r1, flip(r2, pos, mask)), false);
        const i = pos % proof.length;
        const bad = proof.map((p, j) => (j === i ? flip(p, pos >> 5, mask) : p));
        assert.equal(verifyConsistency(m, n, bad, r1, r2), false);
      }),
      { numRuns: 300 },
    );
  });

  it('a rewritten, dropped or reordered leaf breaks consistency with the earlier head', async () => {
    await fc.assert(
      fc.asyncProperty(leavesArb.filter((l) => l.length >= 3), fc.nat(), fc.nat(), async (leaves, a, b) => {
        const n = leaves.length;
        const m = 2 + (a % (n - 1)); // 2..n
        const honest = build(leaves);
        const r1 = referenceRoot(honest.hashes.slice(0, m));
        const k = b % m; // a leaf the earlier head covers
        const variants = [
          leaves.map((l, i) => (i === k ? Uint8Array.from([...l, 0x42]) : l)), // rewritten
          leaves.filter((_, i) => i !== k), // dropped
          (() => {
            const c = [...leaves];
            [c[k], c[(k + 1) % m]] = [c[(k + 1) % m]!, c[k]!];
            return c;
          })(), // reordered
        ];
        for (const v of variants) {
          const bad = build(v);
          const size = Math.max(m, Math.min(n, v.length));
          if (size < m || referenceRoot(bad.hashes.slice(0, m)).every((x, i) => x === r1[i])) continue; // swap of equal leaves
          const proof = await consistencyProof(m, size, bad.tree.read);
          assert.equal(verifyConsistency(m, size, proof, r1, referenceRoot(bad.hashes.slice(0, size))), false);
        }
      }),
      { numRuns: 200 },
    );
  });
});
