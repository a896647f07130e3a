// The verifiable map store's contract (storage/kt-map.ts), run against every adapter by kt-map.test.ts. Each
// test uses domains of its own, so adapters that share one database between tests need no emptying.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mapSource, type KtMapEntry, type KtMapEpoch, type KtMapStore } from '../../src/storage/kt-map.ts';
import { compareLabels } from '../../src/transparency/map/bits.ts';
import { mapRoot } from '../../src/transparency/map/hash.ts';
import { SparseMerkleMap } from '../../src/transparency/map/tree.ts';

const freshDomain = () => `${randomUUID()}.example`;
const label = (...first: number[]): Uint8Array => {
  const l = new Uint8Array(32);
  l.set(first);
  return l;
};
const entry = (l: Uint8Array, epoch: number, jid: string, version: number, seq: number, node = 'urn:xmpp:pubkey:2'): KtMapEntry => ({
  label: l,
  commitment: new Uint8Array(randomBytes(32)),
  epoch,
  jid,
  node,
  version,
  seq,
});
const epochOf = (epoch: number, logSize: number, root: Uint8Array = new Uint8Array(32)): KtMapEpoch => ({
  epoch,
  logSize,
  logRoot: new Uint8Array(32).fill(logSize),
  root,
  time: 1_700_000_000_000 + epoch,
  key: new Uint8Array(32).fill(7),
  signature: new Uint8Array(64).fill(epoch),
});
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const ALL = label(0);
const ONES = new Uint8Array(32).fill(0xff);

export function ktMapContract(store: () => KtMapStore): void {
  describe('kt map store', () => {
    it('an unknown domain has no epoch, no entries and version 0', async () => {
      const d = freshDomain();
      assert.equal(await store().latestEpoch(d), undefined);
      assert.equal(await store().epoch(d, 1), undefined);
      assert.equal(await store().latestVersion(d, 'juliet@capulet.lit', 'n'), 0);
      assert.deepEqual(await store().range(d, ALL, ONES, 10, 10), []);
      assert.equal(await store().get(d, ALL), undefined);
      assert.deepEqual(await store().inserted(d, 0, 10, 10), []);
      assert.deepEqual(await store().versions(d, 'juliet@capulet.lit', 'n', 1, 10), []);
    });

    it('keeps epochs and entries with their private columns; reads by label, by epoch and by (JID, node)', async () => {
      const d = freshDomain();
      const e1 = [entry(label(0x80), 1, 'juliet@capulet.lit', 1, 0), entry(label(0x7f, 0xff), 1, 'romeo@montague.lit', 1, 1)];
      const e2 = [entry(label(0x80, 1), 2, 'juliet@capulet.lit', 2, 2), entry(label(0x00, 0x01), 2, 'juliet@capulet.lit', 1, 3, 'other')];
      await store().addEpoch(d, epochOf(1, 2, new Uint8Array(32).fill(1)), e1);
      await store().addEpoch(d, epochOf(2, 4, new Uint8Array(32).fill(2)), e2);
      const latest = await store().latestEpoch(d);
      assert.deepEqual(latest, epochOf(2, 4, new Uint8Array(32).fill(2)));
      assert.deepEqual(await store().epoch(d, 1), epochOf(1, 2, new Uint8Array(32).fill(1)));
      assert.equal(await store().epoch(d, 3), undefined);
      assert.deepEqual(await store().get(d, label(0x80, 1)), e2[0]);
      assert.equal(await store().get(d, label(0x80, 2)), undefined);
      // Unsigned byte order: 0x7f… before 0x80….
      assert.deepEqual((await store().range(d, ALL, ONES, 2, 10)).map((e) => hex(e.label)), [label(0, 1), label(0x7f, 0xff), label(0x80), label(0x80, 1)].map(hex));
      assert.deepEqual((await store().range(d, ALL, ONES, 1, 10)).map((e) => hex(e.label)), [label(0x7f, 0xff), label(0x80)].map(hex));
      assert.deepEqual((await store().range(d, label(0x80), ONES, 2, 1)).map((e) => hex(e.label)), [hex(label(0x80))]);
      assert.deepEqual(await store().range(d, label(0x80), label(0x80), 2, 10), [{ label: e1[0]!.label, commitment: e1[0]!.commitment }]);
      assert.deepEqual((await store().inserted(d, 1, 2, 10)).map((e) => hex(e.label)), [label(0, 1), label(0x80, 1)].map(hex));
      assert.deepEqual((await store().inserted(d, 0, 2, 3)).map((e) => e.seq), [3, 1, 0]);
      assert.deepEqual(await store().inserted(d, 0, 1, 10), [e1[1], e1[0]]);
      assert.equal(await store().latestVersion(d, 'juliet@capulet.lit', 'urn:xmpp:pubkey:2'), 2);
      assert.equal(await store().latestVersion(d, 'juliet@capulet.lit', 'other'), 1);
      assert.deepEqual(await store().versions(d, 'juliet@capulet.lit', 'urn:xmpp:pubkey:2', 1, 10), [e1[0], e2[0]]);
      assert.deepEqual(await store().versions(d, 'juliet@capulet.lit', 'urn:xmpp:pubkey:2', 2, 10), [e2[0]]);
      assert.deepEqual(await store().versions(d, 'juliet@capulet.lit', 'urn:xmpp:pubkey:2', 1, 1), [e1[0]]);
      // Another domain sees none of it.
      assert.deepEqual(await store().range(freshDomain(), ALL, ONES, 2, 10), []);
    });

    it('refuses an epoch out of turn or a label already there, and keeps nothing of the refused epoch', async () => {
      const d = freshDomain();
      const code = (err: unknown) => (err as { code?: string }).code === 'KT_MAP_EPOCH';
      await assert.rejects(store().addEpoch(d, epochOf(2, 1), [entry(label(1), 2, 'a@x', 1, 0)]), code);
      await store().addEpoch(d, epochOf(1, 1), [entry(label(1), 1, 'a@x', 1, 0)]);
      await assert.rejects(store().addEpoch(d, epochOf(1, 2), [entry(label(2), 1, 'a@x', 2, 1)]), code);
      await assert.rejects(store().addEpoch(d, epochOf(3, 2), [entry(label(2), 3, 'a@x', 2, 1)]), code);
      await assert.rejects(store().addEpoch(d, epochOf(2, 3), [entry(label(3), 2, 'a@x', 2, 1), entry(label(1), 2, 'b@x', 1, 2)]), code);
      await assert.rejects(store().addEpoch(d, epochOf(2, 3), [entry(label(3), 2, 'a@x', 2, 1), entry(label(3), 2, 'b@x', 1, 2)]), code);
      assert.equal((await store().latestEpoch(d))?.epoch, 1);
      assert.equal(await store().get(d, label(3)), undefined);
      assert.equal(await store().get(d, label(2)), undefined);
      assert.equal(await store().latestVersion(d, 'a@x', 'urn:xmpp:pubkey:2'), 1);
      // The epoch can still go in, correctly this time; an epoch without entries is an epoch too.
      await store().addEpoch(d, epochOf(2, 3), [entry(label(3), 2, 'a@x', 2, 1)]);
      await store().addEpoch(d, epochOf(3, 3), []);
      assert.equal((await store().latestEpoch(d))?.epoch, 3);
      assert.equal(await store().latestVersion(d, 'a@x', 'urn:xmpp:pubkey:2'), 2);
    });

    it('the tree read through the store has the root of the entries of each epoch', async () => {
      const d = freshDomain();
      const all: KtMapEntry[] = [];
      for (let epoch = 1; epoch <= 3; epoch++) {
        const batch = Array.from({ length: 120 }, (_, i) => entry(new Uint8Array(randomBytes(32)), epoch, `u${i}@x`, epoch, all.length + i));
        // Labels sharing long prefixes, so the tree goes deep.
        batch.push(entry(label(0xaa, 0xaa, 0xaa, epoch), epoch, 'deep@x', epoch, all.length + 120));
        await store().addEpoch(d, epochOf(epoch, all.length + batch.length), batch);
        all.push(...batch);
      }
      for (let epoch = 1; epoch <= 3; epoch++) {
        const expected = mapRoot(all.filter((e) => e.epoch <= epoch).sort((a, b) => compareLabels(a.label, b.label)));
        const tree = new SparseMerkleMap(mapSource(store(), d, epoch), { cacheDepth: 4, leafBatch: 16 });
        assert.deepEqual(await tree.root(), expected);
      }
    });
  });
}
