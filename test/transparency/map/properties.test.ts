// Property tests over random maps: the range-reading, cached tree gives the same root as the direct hash,
// every membership and non-membership proof verifies, and every tampered proof (a sibling, a label bit, a
// commitment, the depth) fails; append-only proofs verify for random splits and fail when the new map lost or
// changed an old entry.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareLabels } from '../../../src/transparency/map/bits.ts';
import { EMPTY_SUBTREE, mapRoot, type MapEntry } from '../../../src/transparency/map/hash.ts';
import { MemoryMapEntries } from '../../../src/transparency/map/memory-source.ts';
import { SparseMerkleMap } from '../../../src/transparency/map/tree.ts';
import { proveLabel, verifyMembership, verifyNonMembership } from '../../../src/transparency/map/lookup-proof.ts';
import { proveAppendOnly, verifyAppendOnly, type AppendItem } from '../../../src/transparency/map/append-proof.ts';

// Labels from few byte values share long prefixes, so deep paths and empty siblings are common.
const labelArb = fc.oneof(
  fc.uint8Array({ minLength: 32, maxLength: 32 }),
  fc.array(fc.constantFrom(0x00, 0x01, 0x80, 0xff), { minLength: 32, maxLength: 32 }).map((a) => Uint8Array.from(a)),
);
// fast-check's records have a null prototype; plain objects compare with deepEqual.
const entryArb = fc.record({ label: labelArb, commitment: fc.uint8Array({ minLength: 32, maxLength: 32 }) }).map((e): MapEntry => ({ label: e.label, commitment: e.commitment }));

function distinct(entries: MapEntry[]): MapEntry[] {
  const seen = new Set<string>();
  return entries
    .filter((e) => {
      const k = Buffer.from(e.label).toString('hex');
      return !seen.has(k) && (seen.add(k), true);
    })
    .sort((a, b) => compareLabels(a.label, b.label));
}
const entriesArb = fc.array(entryArb, { minLength: 0, maxLength: 60 }).map(distinct);

function store(entries: MapEntry[], epochOf: (i: number) => number = () => 1): MemoryMapEntries {
  const m = new MemoryMapEntries();
  m.insert(entries.map((e, i) => ({ ...e, epoch: epochOf(i) })));
  return m;
}
// Small batches and a shallow cache, so the range reads and the cache are exercised on small maps.
const view = (m: MemoryMapEntries, epoch?: number): SparseMerkleMap => new SparseMerkleMap(m.source(epoch), { cacheDepth: 3, leafBatch: 3 });

/** A copy with bit `bitIndex` flipped, counted as the tree counts them (most significant first). */
function flip(b: Uint8Array, bitIndex: number): Uint8Array {
  const c = new Uint8Array(b);
  c[(bitIndex >> 3) % c.length]! ^= 0x80 >> (bitIndex & 7);
  return c;
}

describe('verifiable map properties', () => {
  it('the cached, range-read root equals the direct root', async () => {
    await fc.assert(
      fc.asyncProperty(entriesArb, async (entries) => {
        assert.deepEqual(await view(store(entries)).root(), mapRoot(entries));
      }),
      { numRuns: 150 },
    );
  });

  it('every entry has a membership proof; any tampering fails', async () => {
    await fc.assert(
      fc.asyncProperty(entriesArb.filter((e) => e.length > 0), fc.nat(), fc.nat(255), async (entries, pick, b) => {
        const map = view(store(entries));
        const root = mapRoot(entries);
        for (const e of entries) {
          const p = await proveLabel(map, e.label);
          assert.deepEqual(p.leaf, e);
          assert.ok(verifyMembership(root, e, p.siblings));
          assert.equal(verifyNonMembership(root, e.label, p), false, 'a present label has no non-membership proof');
        }
        const e = entries[pick % entries.length]!;
        const { siblings } = await proveLabel(map, e.label);
        assert.equal(verifyMembership(root, { label: flip(e.label, b), commitment: e.commitment }, siblings), false, 'label bit');
        assert.equal(verifyMembership(root, { label: e.label, commitment: flip(e.commitment, b) }, siblings), false, 'commitment');
        assert.equal(verifyMembership(root, e, [...siblings, EMPTY_SUBTREE]), false, 'one level deeper');
        assert.equal(verifyMembership(root, e, [EMPTY_SUBTREE, ...siblings]), false, 'one level deeper, at the bottom');
        if (siblings.length > 0) {
          const i = pick % siblings.length;
          assert.equal(verifyMembership(root, e, siblings.map((s, j) => (j === i ? flip(s, b) : s))), false, 'sibling');
          assert.equal(verifyMembership(root, e, siblings.slice(1)), false, 'one level higher');
        }
      }),
      { numRuns: 120 },
    );
  });

  it('every absent label has a non-membership proof; any tampering fails', async () => {
    await fc.assert(
      fc.asyncProperty(entriesArb, fc.array(labelArb, { minLength: 1, maxLength: 8 }), fc.nat(255), fc.nat(), async (entries, probes, b, pick) => {
        const map = view(store(entries));
        const root = mapRoot(entries);
        // Neighbours of present labels (one bit apart) are the hardest absent labels: they share the longest paths.
        const candidates = [...probes, ...entries.map((e) => flip(e.label, 255 - (b % 8)))];
        const present = new Set(entries.map((e) => Buffer.from(e.label).toString('hex')));
        for (const label of candidates.filter((l) => !present.has(Buffer.from(l).toString('hex')))) {
          const p = await proveLabel(map, label);
          assert.ok(p.leaf === null || compareLabels(p.leaf.label, label) !== 0);
          assert.ok(verifyNonMembership(root, label, p));
          assert.equal(verifyNonMembership(root, label, { ...p, siblings: [...p.siblings, EMPTY_SUBTREE] }), false, 'depth + 1');
          if (p.siblings.length > 0) {
            const i = pick % p.siblings.length;
            assert.equal(verifyNonMembership(root, label, { ...p, siblings: p.siblings.map((s, j) => (j === i ? flip(s, b) : s)) }), false, 'sibling');
            assert.equal(verifyNonMembership(root, label, { ...p, siblings: p.siblings.slice(1) }), false, 'depth - 1');
            // A leaf that does not lie on the label's path cannot end it.
            const off = flip(label, Math.min(b, p.siblings.length - 1));
            const elsewhere = { label: off, commitment: p.leaf?.commitment ?? new Uint8Array(32) };
            assert.equal(verifyNonMembership(root, label, { ...p, leaf: elsewhere }), false, 'leaf off the path');
          }
          if (p.leaf) {
            assert.equal(verifyNonMembership(root, label, { ...p, leaf: { ...p.leaf, commitment: flip(p.leaf.commitment, b) } }), false, 'terminal commitment');
            assert.equal(verifyNonMembership(root, label, { ...p, leaf: null }), false, 'terminal leaf hidden');
            assert.equal(verifyNonMembership(root, p.leaf.label, p), false, 'the terminal label itself');
          }
        }
      }),
      { numRuns: 120 },
    );
  });

  it('append-only proofs verify for random splits, and fail when an old entry is lost or changed', async () => {
    await fc.assert(
      fc.asyncProperty(entriesArb, fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }), fc.nat(), fc.nat(255), async (entries, isNew, pick, b) => {
        const epochOf = (i: number): number => (isNew[i] ? 2 : 1);
        const m = store(entries, epochOf);
        const old = entries.filter((_, i) => !isNew[i]);
        const added = entries.filter((_, i) => isNew[i]);
        const oldRoot = mapRoot(old);
        const newRoot = mapRoot(entries);
        const proof = await proveAppendOnly(view(m, 1), added);
        assert.ok(verifyAppendOnly(oldRoot, newRoot, proof));
        assert.equal(verifyAppendOnly(oldRoot, flip(newRoot, b), proof), false, 'other new root');
        assert.equal(verifyAppendOnly(flip(oldRoot, b), newRoot, proof), false, 'other old root');
        if (added.length > 0) {
          assert.equal(verifyAppendOnly(oldRoot, newRoot, { ...proof, inserted: proof.inserted.slice(1) }), false, 'an insertion left out');
          assert.equal(verifyAppendOnly(oldRoot, newRoot, { ...proof, inserted: [...proof.inserted].reverse() }), added.length === 1, 'unsorted');
        }
        const tamperable = proof.items.map((it, i) => [it, i] as [AppendItem, number]).filter(([it]) => it.t === 'node' || it.t === 'leaf');
        if (tamperable.length > 0) {
          const [it, i] = tamperable[pick % tamperable.length]!;
          const bad: AppendItem = it.t === 'node' ? { t: 'node', hash: flip(it.hash, b) } : { t: 'leaf', entry: { ...(it as { entry: MapEntry }).entry, commitment: flip((it as { entry: MapEntry }).entry.commitment, b) } };
          assert.equal(verifyAppendOnly(oldRoot, newRoot, { ...proof, items: proof.items.map((x, j) => (j === i ? bad : x)) }), false, 'item');
        }
        if (old.length > 0) {
          const victim = old[pick % old.length]!;
          // The new map lost an old entry: neither the honest proof nor one made from the reduced old map fits.
          const lost = entries.filter((e) => e !== victim);
          assert.equal(verifyAppendOnly(oldRoot, mapRoot(lost), proof), false, 'lost entry, honest proof');
          const reduced = store(old.filter((e) => e !== victim));
          assert.equal(verifyAppendOnly(oldRoot, mapRoot(lost), await proveAppendOnly(view(reduced), added)), false, 'lost entry, proof of the smaller map');
          // The new map changed an old entry's commitment, passing the change off as an insertion.
          const changed = { label: victim.label, commitment: flip(victim.commitment, b) };
          const changedAll = distinct([...lost, changed]);
          assert.equal(verifyAppendOnly(oldRoot, mapRoot(changedAll), proof), false, 'changed entry, honest proof');
          const asInsert = distinct([...added, changed]);
          assert.equal(verifyAppendOnly(oldRoot, mapRoot(changedAll), await proveAppendOnly(view(m, 1), asInsert)), false, 'changed entry, as an insertion');
        }
      }),
      { numRuns: 150 },
    );
  });
});
