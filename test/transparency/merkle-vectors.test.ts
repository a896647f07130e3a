// RFC 6962 / RFC 9162 known answers. The leaves, node hashes and roots are those of transparency-dev/merkle
// testonly/constants.go (commit 582a6ad190b6848f1d26f8bf08ddef29955d9db1), and the proofs those of its
// proof/verify_test.go (commit 02194e9afb6c1d95b5381350007963aa70fff472), where leaf numbers are 1-based.
// https://github.com/transparency-dev/merkle
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_ROOT, leafHash } from '../../src/transparency/hash.ts';
import { MemoryTree, referenceRoot, rootHash } from '../../src/transparency/tree.ts';
import { inclusionProof, verifyInclusion } from '../../src/transparency/inclusion.ts';
import { consistencyProof, verifyConsistency } from '../../src/transparency/consistency.ts';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(hex);
const LEVEL0 = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
  '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
  '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
  'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
  '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
  'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
  '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
];
const LEVEL1 = [
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
  '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
  'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
];
const LEVEL2 = ['d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'];
const LEVEL3 = ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'];
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
// [1-based leaf, tree size, proof]
const INCLUSION: [number, number, string[]][] = [
  [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [6, 8, ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [3, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [2, 5, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
  [1, 1, []],
];
// [size1, size2, proof]
const CONSISTENCY: [number, number, string[]][] = [
  [1, 1, []],
  [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [6, 8, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
  [6, 7, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
];

function treeOf(n: number): MemoryTree {
  const t = new MemoryTree();
  for (const l of LEAVES.slice(0, n)) t.appendLeafInput(l);
  return t;
}

describe('RFC 6962/9162 Merkle tree known answers (transparency-dev/merkle)', () => {
  it('hashes the empty tree as SHA-256 of the empty string', () => {
    assert.equal(toHex(EMPTY_ROOT), ROOTS[0]);
  });

  it('stores every perfect subtree with the published node hashes', () => {
    const t = treeOf(8);
    assert.deepEqual(t.levels.map((l) => l.map(toHex)), [LEVEL0, LEVEL1, LEVEL2, LEVEL3]);
  });

  it('computes the published root of every prefix, from the node cache and by the recursive definition', async () => {
    const t = treeOf(8);
    for (let n = 0; n <= 8; n++) {
      assert.equal(toHex(await rootHash(n, t.read)), ROOTS[n], `root of ${n}`);
      assert.equal(toHex(referenceRoot(LEAVES.slice(0, n).map(leafHash))), ROOTS[n]);
    }
  });

  for (const [leaf, size, proof] of INCLUSION) {
    it(`generates and verifies the published inclusion proof of leaf ${leaf} in ${size}`, async () => {
      const t = treeOf(size);
      const got = await inclusionProof(leaf - 1, size, t.read);
      assert.deepEqual(got.map(toHex), proof);
      const lh = leafHash(LEAVES[leaf - 1]!);
      assert.ok(verifyInclusion(leaf - 1, size, lh, proof.map(hex), hex(ROOTS[size]!)));
      // The corruptions of verify_test.go's corruptInclusionProof.
      const root = hex(ROOTS[size]!);
      const p = proof.map(hex);
      assert.equal(verifyInclusion(leaf - 2, size, lh, p, root), false, 'index - 1');
      assert.equal(verifyInclusion(leaf, size, lh, p, root), false, 'index + 1');
      assert.equal(verifyInclusion((leaf - 1) ^ 2, size, lh, p, root), false, 'index ^ 2');
      assert.equal(verifyInclusion(leaf - 1, size * 2, lh, p, root), false, 'size * 2');
      assert.equal(verifyInclusion(leaf - 1, Math.floor(size / 2), lh, p, root), false, 'size / 2');
      assert.equal(verifyInclusion(leaf - 1, size, hex('00'.repeat(32)), p, root), false, 'wrong leaf');
      assert.equal(verifyInclusion(leaf - 1, size, lh, p, EMPTY_ROOT), false, 'empty root');
      assert.equal(verifyInclusion(leaf - 1, size, lh, [...p, root], root), false, 'trailing root');
      assert.equal(verifyInclusion(leaf - 1, size, lh, [root, ...p], root), false, 'preceding root');
      assert.equal(verifyInclusion(leaf - 1, size, lh, [...p, new Uint8Array(0)], root), false, 'trailing garbage');
      for (let i = 0; i < p.length; i++) {
        const bad = p.map((h) => new Uint8Array(h));
        bad[i]![0]! ^= 8;
        assert.equal(verifyInclusion(leaf - 1, size, lh, bad, root), false, `bit flipped in proof[${i}]`);
      }
      if (p.length > 0) assert.equal(verifyInclusion(leaf - 1, size, lh, p.slice(0, -1), root), false, 'removed component');
    });
  }

  for (const [m, n, proof] of CONSISTENCY) {
    it(`generates and verifies the published consistency proof ${m} → ${n}`, async () => {
      const t = treeOf(n);
      const got = await consistencyProof(m, n, t.read);
      assert.deepEqual(got.map(toHex), proof);
      const r1 = hex(ROOTS[m]!);
      const r2 = hex(ROOTS[n]!);
      const p = proof.map(hex);
      assert.ok(verifyConsistency(m, n, p, r1, r2));
      if (p.length === 0) return;
      // The corruptions of verify_test.go's corruptConsistencyProof.
      assert.equal(verifyConsistency(m - 1, n, p, r1, r2), false, 'size1 - 1');
      assert.equal(verifyConsistency(m + 1, n, p, r1, r2), false, 'size1 + 1');
      assert.equal(verifyConsistency(m ^ 2, n, p, r1, r2), false, 'size1 ^ 2');
      assert.equal(verifyConsistency(m, n * 2, p, r1, r2), false, 'size2 * 2');
      assert.equal(verifyConsistency(m, Math.floor(n / 2), p, r1, r2), false, 'size2 / 2');
      assert.equal(verifyConsistency(m, n, p, r2, r1), false, 'swapped roots');
      assert.equal(verifyConsistency(m, n, [], r1, r2), false, 'empty proof');
      assert.equal(verifyConsistency(m, n, [...p, r1], r1, r2), false, 'trailing root1');
      assert.equal(verifyConsistency(m, n, [r2, ...p], r1, r2), false, 'preceding root2');
      assert.equal(verifyConsistency(m, n, [p[0]!, ...p], r1, r2), false, 'preceding proof[0]');
      assert.equal(verifyConsistency(m, n, p.slice(0, -1), r1, r2), false, 'truncated proof');
      for (let i = 0; i < p.length; i++) {
        const bad = p.map((h) => new Uint8Array(h));
        bad[i]![0]! ^= 16;
        assert.equal(verifyConsistency(m, n, bad, r1, r2), false, `bit flipped in proof[${i}]`);
      }
    });
  }

  it('refuses the edge cases of TestVerifyConsistency', () => {
    const r1 = hex('11'.repeat(32));
    const r2 = hex('22'.repeat(32));
    assert.equal(verifyConsistency(0, 0, [], r1, r2), false);
    assert.equal(verifyConsistency(1, 1, [], r1, r2), false);
    assert.equal(verifyConsistency(0, 0, [], r1, r1), true);
    assert.equal(verifyConsistency(0, 1, [], r1, r2), true);
    assert.equal(verifyConsistency(1, 0, [], r1, r2), false);
    assert.equal(verifyConsistency(2, 1, [], r1, r2), false);
    assert.equal(verifyConsistency(1, 2, [], r1, r2), false);
    assert.equal(verifyConsistency(0, 1, [EMPTY_ROOT], EMPTY_ROOT, EMPTY_ROOT), false);
    assert.equal(verifyConsistency(1, 1, [EMPTY_ROOT], EMPTY_ROOT, EMPTY_ROOT), false);
  });
});
