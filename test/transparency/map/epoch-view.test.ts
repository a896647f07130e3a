// An older epoch's map read through the latest one (epoch-view.ts) is the same map as the older epoch read
// from scratch: equal subtrees at every node a proof asks, equal lookup proofs, equal append-only proofs, and
// those proofs verify against the older epoch's root. Random maps over several epochs, with labels sharing
// long prefixes so that later entries land beside and below old ones.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareLabels } from '../../../src/transparency/map/bits.ts';
import type { MapEntry } from '../../../src/transparency/map/hash.ts';
import { MemoryMapEntries } from '../../../src/transparency/map/memory-source.ts';
import { SparseMerkleMap } from '../../../src/transparency/map/tree.ts';
import { EpochView, EMPTY_MAP } from '../../../src/transparency/map/epoch-view.ts';
import { proveLabel, verifyMembership, verifyNonMembership } from '../../../src/transparency/map/lookup-proof.ts';
import { proveAppendOnly, verifyAppendOnly } from '../../../src/transparency/map/append-proof.ts';

const labelArb = fc.oneof(
  fc.uint8Array({ minLength: 32, maxLength: 32 }),
  fc.array(fc.constantFrom(0x00, 0x01, 0x80, 0xff), { minLength: 32, maxLength: 32 }).map((a) => Uint8Array.from(a)),
);
const entryArb = fc.record({ label: labelArb, commitment: fc.uint8Array({ minLength: 32, maxLength: 32 }), epoch: fc.integer({ min: 1, max: 4 }) });

/** Distinct labels, each in an epoch 1..4, with epoch 1 never empty. */
const mapArb = fc.array(entryArb, { minLength: 1, maxLength: 60 }).map((raw) => {
  const seen = new Set<string>();
  const m = new MemoryMapEntries();
  const entries = raw.filter((e) => {
    const k = Buffer.from(e.label).toString('hex');
    return !seen.has(k) && (seen.add(k), true);
  });
  entries[0]!.epoch = 1;
  m.insert(entries.map((e) => ({ label: e.label, commitment: e.commitment, epoch: e.epoch })));
  return { m, labels: entries.map((e) => e.label) };
});

const plain = (e: MapEntry): MapEntry => ({ label: e.label, commitment: e.commitment });
// Small batches and a shallow cache, so that range reads, recursion and the cache all happen on small maps.
const opts = { cacheDepth: 3, leafBatch: 3 };
const latestOf = (m: MemoryMapEntries) => new SparseMerkleMap(m.source(4), opts);
const viewOf = (m: MemoryMapEntries, latest: SparseMerkleMap, epoch: number) => new EpochView(latest, m.source(epoch), m.between(epoch, 4).map(plain), 3, m.size);

describe('a map epoch read through the latest epoch', () => {
  it('has the root of that epoch read from scratch, and gives the same lookup proofs, which verify', async () => {
    await fc.assert(
      fc.asyncProperty(mapArb, fc.integer({ min: 1, max: 4 }), async ({ m, labels }, epoch) => {
        const latest = latestOf(m);
        await latest.root(); // the latest epoch's cache filled, as on the server
        const scratch = new SparseMerkleMap(m.source(epoch), opts);
        const view = viewOf(m, latest, epoch);
        const root = await scratch.root();
        assert.deepEqual((await view.subtree(new Uint8Array(32), 0)).hash, root);
        for (const label of labels) {
          const p = await proveLabel(view, label);
          assert.deepEqual(p, await proveLabel(scratch, label));
          const e = m.get(label)!;
          if (e.epoch <= epoch) assert.ok(verifyMembership(root, plain(e), p.siblings));
          else assert.ok(verifyNonMembership(root, label, p));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('gives the append-only proof to any later epoch that a from-scratch read gives, and it verifies', async () => {
    await fc.assert(
      fc.asyncProperty(mapArb, fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), async ({ m }, a, b) => {
        const [from, to] = a <= b ? [a, b] : [b, a];
        const latest = latestOf(m);
        await latest.root();
        const inserted = m.between(from, to).map(plain).sort((x, y) => compareLabels(x.label, y.label));
        const old = from === 0 ? EMPTY_MAP : viewOf(m, latest, from);
        const proof = await proveAppendOnly(old, inserted);
        const scratch = from === 0 ? EMPTY_MAP : new SparseMerkleMap(m.source(from), opts);
        assert.deepEqual(proof, await proveAppendOnly(scratch, inserted));
        const rootAt = async (e: number) => (e === 0 ? new Uint8Array(32) : await new SparseMerkleMap(m.source(e)).root());
        assert.ok(verifyAppendOnly(await rootAt(from), await rootAt(to), proof));
      }),
      { numRuns: 150 },
    );
  });

  it('reads only the subtrees the later entries fall under, not the whole older map', async () => {
    // 2,000 entries in epoch 1, one in epoch 2: a lookup at epoch 1 reads a few ranges, not 2,000 entries.
    const m = new MemoryMapEntries();
    const entry = (i: number, epoch: number) => ({ label: Uint8Array.from({ length: 32 }, (_, j) => (i * 2654435761 + j * 40503) >>> (j % 8) & 0xff), commitment: new Uint8Array(32).fill(i & 0xff), epoch });
    m.insert(Array.from({ length: 2000 }, (_, i) => entry(i, 1)));
    m.insert([entry(5000, 2)]);
    const latest = new SparseMerkleMap(m.source(2));
    await latest.root();
    let read = 0;
    const counted = m.source(1);
    const source = { range: async (p: Uint8Array, d: number, limit: number) => { const r = await counted.range(p, d, limit); read += r.length; return r; } };
    const view = new EpochView(latest, source, m.between(1, 2).map(plain), 256, m.size);
    const scratchRead = { n: 0 };
    const scratch = new SparseMerkleMap({ range: async (p, d, limit) => { const r = await counted.range(p, d, limit); scratchRead.n += r.length; return r; } });
    const label = m.between(0, 1)[7]!.label;
    assert.deepEqual(await proveLabel(view, label), await proveLabel(scratch, label));
    assert.ok(scratchRead.n >= 2000, `a from-scratch read reads the whole map (${scratchRead.n})`);
    assert.ok(read < 2000 / 2, `the view read ${read} entries`);
  });
});
