// The map builder on its own (no sockets): a backlog is spread over epochs of at most maxEpochEntries, each epoch
// keeps the last event of each (JID, node) among its leaves, versions count the epochs with events of a pair, each epoch's head is signed over the map and log roots, a new builder over the
// same storage continues where the last one stopped, and every epoch extends the one before (append-only).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createMemoryStorage } from '../../../../src/storage/memory/index.ts';
import type { Storage } from '../../../../src/storage/types.ts';
import { DomainMapBuilder, headOf, type MapFunctions } from '../../../../src/server/modules/transparency/map-builder.ts';
import { verifyMapHead } from '../../../../src/transparency/map-head.ts';
import { rootHash } from '../../../../src/transparency/tree.ts';
import { compareLabels } from '../../../../src/transparency/map/bits.ts';
import { mapRoot } from '../../../../src/transparency/map/hash.ts';
import { proveAppendOnly, verifyAppendOnly } from '../../../../src/transparency/map/append-proof.ts';
import { SparseMerkleMap } from '../../../../src/transparency/map/tree.ts';
import { mapSource } from '../../../../src/storage/kt-map.ts';
import { fakeMapFunctions } from '../../../helpers/fake-map-functions.ts';

const DOMAIN = 'capulet.lit';
const { privateKey } = generateKeyPairSync('ed25519');
const fns = fakeMapFunctions;

async function logEvents(storage: Storage, events: [jid: string, node: string][]): Promise<void> {
  for (const [i, [jid, node]] of events.entries()) {
    await storage.pubsub.createNode({ service: jid, node, owner: jid, config: {} } as never).catch(() => undefined);
    await storage.pubsub.publishItem({ service: jid, node, id: `i${i}`, publisher: `${jid}/r`, payload: '<x/>', publishedAt: 1 } as never, undefined, {
      domain: DOMAIN,
      event: { type: 'publish', time: 1, jid, node, itemId: `i${i}` },
    });
  }
}

describe('map builder', () => {
  it('spreads a backlog over epochs, counts versions, signs heads over both roots, and resumes after a restart', async () => {
    const storage = createMemoryStorage();
    const events: [string, string][] = Array.from({ length: 23 }, (_, i) => [`u${i % 4}@${DOMAIN}`, i % 3 === 0 ? 'urn:xmpp:pubkey:2' : 'urn:xmpp:openpgp:0:public-keys']);
    await logEvents(storage, events);
    assert.equal(await storage.transparency.size(DOMAIN), 23);
    const b = new DomainMapBuilder(DOMAIN, privateKey, storage.transparency, storage.ktMap!, fns, () => 1000, { batch: 4, maxEpochEntries: 10 });
    const last = await b.update(23);
    assert.deepEqual([last?.epoch, last?.logSize], [3, 23]);
    const store = storage.ktMap!;
    for (let e = 1; e <= 3; e++) {
      const epoch = (await store.epoch(DOMAIN, e))!;
      assert.equal(epoch.logSize, Math.min(23, e * 10));
      assert.ok(verifyMapHead(headOf(DOMAIN, epoch)));
      assert.deepEqual(epoch.logRoot, await rootHash(epoch.logSize, (refs) => storage.transparency.nodes(DOMAIN, refs)));
      const entries = (await store.inserted(DOMAIN, 0, e, 100)).sort((a, c) => compareLabels(a.label, c.label));
      assert.deepEqual(epoch.root, mapRoot(entries));
      if (e > 1) {
        const prev = (await store.epoch(DOMAIN, e - 1))!;
        const added = await store.inserted(DOMAIN, e - 1, e, 100);
        const proof = await proveAppendOnly(new SparseMerkleMap(mapSource(store, DOMAIN, e - 1)), added);
        assert.ok(verifyAppendOnly(prev.root, epoch.root, proof));
      }
    }
    // One version per epoch with events of (JID, node), at the last of them in that epoch's leaves, in log order.
    const lastIn = (jid: string, node: string) =>
      [0, 10, 20].flatMap((lo) => events.flatMap(([j, n], i) => (j === jid && n === node && i >= lo && i < lo + 10 ? [i] : [])).slice(-1));
    const pairs = [...new Set(events.map((e) => e.join('|')))].map((k) => k.split('|') as [string, string]);
    for (const [jid, node] of pairs) {
      const vs = await store.versions(DOMAIN, jid, node, 1, 100);
      assert.deepEqual(vs.map((v) => v.seq), lastIn(jid, node));
      assert.deepEqual(vs.map((v) => v.version), vs.map((_, i) => i + 1));
      assert.deepEqual(vs.map((v) => v.label), vs.map((v) => fns.label(jid, node, v.version)));
    }
    assert.equal((await store.inserted(DOMAIN, 0, 3, 100)).length, pairs.reduce((n, [j, d]) => n + lastIn(j, d).length, 0));
    // A new builder over the same storage (a restart) continues: the next events go in epoch 4, at their versions.
    await logEvents(storage, [[`u0@${DOMAIN}`, 'urn:xmpp:pubkey:2']]);
    const again = new DomainMapBuilder(DOMAIN, privateKey, storage.transparency, store, fns, () => 2000);
    const next = await again.update(24);
    assert.deepEqual([next?.epoch, next?.logSize], [4, 24]);
    const [added] = await store.inserted(DOMAIN, 3, 4, 10);
    assert.equal(added!.version, lastIn(`u0@${DOMAIN}`, 'urn:xmpp:pubkey:2').length + 1);
    const served = await again.served();
    assert.deepEqual(await served!.map.root(), next!.root);
    await storage.close();
  });
});

describe('map builder epochs', () => {
  it('keep the last event of each (JID, node) among their leaves, one version per epoch with events', async () => {
    const storage = createMemoryStorage();
    const [j, r] = [`juliet@${DOMAIN}`, `romeo@${DOMAIN}`];
    const [pub, pgp] = ['urn:xmpp:pubkey:2', 'urn:xmpp:openpgp:0:public-keys'];
    // A client republishing in a loop, a contact's one key, another node of the first JID.
    await logEvents(storage, [[j, pub], [j, pub], [j, pub], [r, pub], [j, pgp], [j, pgp], [j, pub]]);
    const b = new DomainMapBuilder(DOMAIN, privateKey, storage.transparency, storage.ktMap!, fns, () => 1000);
    const first = await b.update(7);
    assert.deepEqual([first?.epoch, first?.logSize], [1, 7]);
    const store = storage.ktMap!;
    const row = (e: { jid: string; node: string; version: number; seq: number }) => [e.jid, e.node, e.version, e.seq];
    const byLabel = (a: { label: Uint8Array }, c: { label: Uint8Array }) => compareLabels(a.label, c.label);
    const one = await store.inserted(DOMAIN, 0, 1, 100);
    assert.deepEqual(one.map(row).sort(), [[j, pgp, 1, 5], [j, pub, 1, 6], [r, pub, 1, 3]].sort());
    assert.deepEqual(first!.root, mapRoot([...one].sort(byLabel)));
    // The next epoch: Juliet's key twice more, version 2 at the second; the others have no new version.
    await logEvents(storage, [[j, pub], [j, pub]]);
    const second = await b.update(9);
    assert.deepEqual([second?.epoch, second?.logSize], [2, 9]);
    const two = await store.inserted(DOMAIN, 1, 2, 100);
    assert.deepEqual(two.map(row), [[j, pub, 2, 8]]);
    assert.deepEqual(two[0]!.label, fns.label(j, pub, 2));
    const proof = await proveAppendOnly(new SparseMerkleMap(mapSource(store, DOMAIN, 1)), two);
    assert.ok(verifyAppendOnly(first!.root, second!.root, proof));
    assert.deepEqual((await store.versions(DOMAIN, j, pub, 1, 10)).map((v) => v.seq), [6, 8]);
    await storage.close();
  });
});

describe('map builder stop', () => {
  it('abandons a backlog at the next batch, keeping the epochs already added', async () => {
    const storage = createMemoryStorage();
    await logEvents(storage, Array.from({ length: 40 }, (_, i): [string, string] => [`u${i}@${DOMAIN}`, 'urn:xmpp:pubkey:2']));
    let labelled = 0;
    let b: DomainMapBuilder | undefined;
    const counting: MapFunctions = {
      ...fns,
      label: (jid, node, version) => {
        // Stops in the middle of the second epoch.
        if (++labelled === 14) void b!.stop();
        return fns.label(jid, node, version);
      },
    };
    b = new DomainMapBuilder(DOMAIN, privateKey, storage.transparency, storage.ktMap!, counting, () => 1, { batch: 2, maxEpochEntries: 10 });
    const last = await b.update(40);
    assert.deepEqual([last?.epoch, last?.logSize], [1, 10]);
    assert.ok(labelled < 20, `labelled ${labelled}`);
    assert.equal((await storage.ktMap!.inserted(DOMAIN, 0, 100, 100)).length, 10);
    await storage.close();
  });
});
