// The map thread's epoch roots (map-epoch-work.ts EpochRoots, map-mirror.ts) against the plain definition
// (mapRoot over every entry): random entries over many epochs, with the stored map kept on the thread or read
// through the event loop each time (maxMirror 0), with epochs that are computed but not stored (the next root
// must not contain them), and a stored map changed behind the thread's back (it must start over).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EpochRoots, packEntries } from '../../../../src/server/modules/transparency/map-epoch-work.ts';
import { compareLabels } from '../../../../src/transparency/map/bits.ts';
import { mapRoot, type MapEntry } from '../../../../src/transparency/map/hash.ts';
import { MemoryMapEntries } from '../../../../src/transparency/map/memory-source.ts';
import type { RangeRead } from '../../../../src/transparency/map/pending-source.ts';

const D = 'capulet.lit';
const entry = (): MapEntry => ({ label: new Uint8Array(randomBytes(32)), commitment: new Uint8Array(randomBytes(32)) });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function storedRead(m: MemoryMapEntries, reads: { n: number }): RangeRead {
  return async (lo, hi, epoch, limit) => {
    reads.n++;
    // The memory source reads by prefix; lo..hi here are always a prefix's bounds or a page from lo to the end.
    const out: MapEntry[] = [];
    for (const e of m.between(0, epoch)) if (compareLabels(e.label, lo) >= 0 && compareLabels(e.label, hi) <= 0 && out.length < limit) out.push(e);
    return out;
  };
}

async function rounds(maxMirror: number): Promise<{ reads: number }> {
  const stored = new MemoryMapEntries();
  const reads = { n: 0 };
  const roots = new EpochRoots(() => ({ range: storedRead(stored, reads), latestVersion: async () => 0 }), { maxMirror, leafBatch: 4 });
  let epoch = 0;
  for (let round = 0; round < 25; round++) {
    const news = Array.from({ length: 1 + Math.floor(Math.random() * (round % 5 === 0 ? 200 : 20)) }, entry);
    // Sent in two batches, in log order.
    const cut = Math.floor(news.length / 2);
    roots.collectEntries(D, epoch + 1, true, packEntries(news.slice(0, cut)));
    roots.collectEntries(D, epoch + 1, false, packEntries(news.slice(cut)));
    const { root, order } = await roots.root(D, epoch + 1, epoch);
    const sorted = Array.from(order, (i) => news[i]!);
    assert.deepEqual(sorted.map((e) => hex(e.label)), news.map((e) => hex(e.label)).sort());
    const expected = mapRoot([...stored.between(0, epoch), ...news].sort((a, b) => compareLabels(a.label, b.label)));
    assert.equal(hex(root), hex(expected), `round ${round}`);
    // Every third epoch is not stored: the next one (other entries) is computed on the map without it.
    if (round % 3 === 2) continue;
    epoch++;
    stored.insert(sorted.map((e) => ({ ...e, epoch })));
  }
  // Changed behind the thread's back: two epochs stored that it did not compute.
  for (let k = 0; k < 2; k++) {
    epoch++;
    stored.insert(Array.from({ length: 30 }, entry).map((e) => ({ ...e, epoch })));
  }
  const news = Array.from({ length: 10 }, entry);
  roots.collectEntries(D, epoch + 1, true, packEntries(news));
  const { root } = await roots.root(D, epoch + 1, epoch);
  assert.equal(hex(root), hex(mapRoot([...stored.between(0, epoch), ...news].sort((a, b) => compareLabels(a.label, b.label)))));
  return { reads: reads.n };
}

describe('map thread: epoch roots', () => {
  it('equal the map root of all entries, with the stored map copied on the thread', async () => {
    const { reads } = await rounds(1 << 20);
    // Read whole twice (at the start and after the change behind its back), in pages: not per subtree.
    assert.ok(reads <= 4, `${reads} reads`);
  });

  it('equal the map root of all entries, with the stored map read through the event loop (too large to copy)', async () => {
    const { reads } = await rounds(0);
    assert.ok(reads > 25, `${reads} reads`);
  });

  it('an abandoned epoch is dropped when the next one starts', async () => {
    const roots = new EpochRoots(() => ({ range: async () => [], latestVersion: async () => 0 }));
    const dropped = Array.from({ length: 5 }, entry);
    const kept = Array.from({ length: 3 }, entry);
    roots.collectEntries(D, 1, true, packEntries(dropped));
    roots.collectEntries(D, 1, true, packEntries(kept));
    const { root, order } = await roots.root(D, 1, 0);
    assert.equal(order.length, 3);
    assert.equal(hex(root), hex(mapRoot([...kept].sort((a, b) => compareLabels(a.label, b.label)))));
  });
});
