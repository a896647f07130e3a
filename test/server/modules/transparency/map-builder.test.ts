// The map builder on its own (no sockets): a backlog is spread over epochs of at most maxEpochEntries, versions
// count each (JID, node)'s events, each epoch's head is signed over the map and log roots, a new builder over the
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
    // Versions count each (JID, node)'s events in log order, across epochs.
    for (const [jid, node] of [...new Set(events.map((e) => e.join('|')))].map((k) => k.split('|') as [string, string])) {
      const vs = await store.versions(DOMAIN, jid, node, 1, 100);
      assert.deepEqual(vs.map((v) => v.version), vs.map((_, i) => i + 1));
      assert.deepEqual(vs.map((v) => v.seq), events.flatMap(([j, n], i) => (j === jid && n === node ? [i] : [])));
      assert.deepEqual(vs.map((v) => v.label), vs.map((v) => fns.label(jid, node, v.version)));
    }
    // A new builder over the same storage (a restart) continues: the next events go in epoch 4, at their versions.
    await logEvents(storage, [[`u0@${DOMAIN}`, 'urn:xmpp:pubkey:2']]);
    const again = new DomainMapBuilder(DOMAIN, privateKey, storage.transparency, store, fns, () => 2000);
    const next = await again.update(24);
    assert.deepEqual([next?.epoch, next?.logSize], [4, 24]);
    const [added] = await store.inserted(DOMAIN, 3, 4, 10);
    assert.equal(added!.version, events.filter(([j, n]) => j === `u0@${DOMAIN}` && n === 'urn:xmpp:pubkey:2').length + 1);
    const served = await again.served();
    assert.deepEqual(await served!.map.root(), next!.root);
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
