// The map builder's work on the worker thread (map-epoch-work.ts, map-mirror.ts, vrf-worker.ts mapThread) gives
// what the in-thread builder gives, byte for byte: every epoch's stored head (roots, log root, signature) and
// every stored entry (label, commitment, JID, node, version, sequence), for random events over several epochs,
// also when storing an epoch fails once (the thread must forget it), when another builder stored epochs meanwhile
// (what the thread knows is stale) and when a builder restarts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createMemoryStorage } from '../../../../src/storage/memory/index.ts';
import type { Storage } from '../../../../src/storage/types.ts';
import type { KtMapStore } from '../../../../src/storage/kt-map.ts';
import { DomainMapBuilder, type MapFunctions } from '../../../../src/server/modules/transparency/map-builder.ts';
import { VrfWorker } from '../../../../src/server/modules/transparency/vrf-worker.ts';
import { mapLabelOnly } from '../../../../src/transparency/map-label.ts';
import { commitmentNonce, commitValue } from '../../../../src/transparency/map-commitment.ts';
import { vrfGenerateKeyPair } from '../../../../src/transparency/vrf.ts';
import { rootHash } from '../../../../src/transparency/tree.ts';

const DOMAIN = 'capulet.lit';
const { privateKey } = generateKeyPairSync('ed25519');
const vrfKey = vrfGenerateKeyPair();
const commitSecret = new Uint8Array(randomBytes(32));
const inThread: MapFunctions = {
  label: (jid, node, version) => mapLabelOnly(vrfKey.secretKey, jid, node, version),
  commit: (label, value) => commitValue(commitmentNonce(commitSecret, label), label, value),
};
// Non-ASCII JIDs and nodes: the event loop reads them from the leaf's bytes without decoding the whole leaf.
const JIDS = ['juliet', 'romeo', 'nurse', 'tybalt', 'jülïet', 'ロミオ'].map((l) => `${l}@${DOMAIN}`);
const NODES = ['urn:xmpp:pubkey:2', 'urn:xmpp:openpgp:0:public-keys', 'urn:xmpp:omemo:2:bundles:ü1'];
const TYPES = ['publish', 'publish', 'publish', 'retract', 'purge', 'delete'] as const;

interface Ev { jid: string; node: string; type: (typeof TYPES)[number]; n: number }
const randomEvents = (count: number, from: number): Ev[] =>
  Array.from({ length: count }, (_, i) => ({
    jid: JIDS[Math.floor(Math.random() * JIDS.length)]!,
    node: NODES[Math.floor(Math.random() * NODES.length)]!,
    type: TYPES[Math.floor(Math.random() * TYPES.length)]!,
    n: from + i,
  }));

async function logEvents(storage: Storage, events: Ev[]): Promise<void> {
  for (const { jid, node, type, n } of events) {
    await storage.pubsub.createNode({ service: jid, node, owner: jid, config: {}, createdAt: 1 } as never).catch(() => undefined);
    await storage.pubsub.publishItem({ service: jid, node, id: `i${n}`, publisher: `${jid}/r`, payload: `<x n='${n}'/>`, publishedAt: 1 } as never, undefined, {
      domain: DOMAIN,
      event: { type, time: 1000 + n, jid, node, itemId: type === 'purge' || type === 'delete' ? '' : `i${n}`, payload: type === 'publish' ? `<x n='${n}'/>` : undefined },
    });
  }
}

/** Every stored epoch and entry, as bytes and numbers. */
async function dump(store: KtMapStore): Promise<unknown> {
  const latest = (await store.latestEpoch(DOMAIN))?.epoch ?? 0;
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  const epochs = [];
  for (let e = 1; e <= latest; e++) {
    const h = (await store.epoch(DOMAIN, e))!;
    epochs.push({ ...h, logRoot: hex(h.logRoot), root: hex(h.root), key: hex(h.key), signature: hex(h.signature) });
  }
  const entries = (await store.inserted(DOMAIN, 0, latest, 1_000_000)).map((x) => ({ ...x, label: hex(x.label), commitment: hex(x.commitment) }));
  return { epochs, entries };
}

/** A map store whose addEpoch fails while `failing` says so (changing nothing, like a refused write). */
function flaky(store: KtMapStore, failing: () => boolean): KtMapStore {
  return { ...store, addEpoch: (d, e, entries) => (failing() ? Promise.reject(new Error('disk full')) : store.addEpoch(d, e, entries)) };
}

describe('map builder on the worker thread', () => {
  it('stores the same epochs and entries as in-thread, across failures and a restart', async () => {
    const a = createMemoryStorage();
    const b = createMemoryStorage();
    const vrf = new VrfWorker();
    try {
      const thread = (storage: Storage) => vrf.mapThread(DOMAIN, vrfKey.secretKey, commitSecret, storage.ktMap!);
      let failB = false;
      const storeB = flaky(b.ktMap!, () => failB);
      const opts = { maxEpochEntries: 37, threadBatch: 16 };
      const ref = new DomainMapBuilder(DOMAIN, privateKey, a.transparency, a.ktMap!, inThread, () => 5, opts);
      let built = new DomainMapBuilder(DOMAIN, privateKey, b.transparency, storeB, thread(b), () => 5, opts);
      let size = 0;
      for (let round = 0; round < 7; round++) {
        const events = randomEvents(5 + Math.floor(Math.random() * 60), size);
        await logEvents(a, events);
        await logEvents(b, events);
        size += events.length;
        const logRoot = await rootHash(size, (refs) => b.transparency.nodes(DOMAIN, refs));
        await ref.update(size);
        if (round === 2) {
          // The epoch the thread computed is not stored: its next root must not include it.
          failB = true;
          await assert.rejects(built.update(size, logRoot), /disk full/);
          failB = false;
        }
        if (round === 3) {
          // Epochs stored by another builder (in-thread): what the thread knows of the map is stale.
          await new DomainMapBuilder(DOMAIN, privateKey, b.transparency, storeB, inThread, () => 5, opts).update(size);
          built = new DomainMapBuilder(DOMAIN, privateKey, b.transparency, storeB, thread(b), () => 5, opts);
        }
        if (round === 5) {
          // A restart: a new builder, the same thread (which still holds the map as of the latest epoch).
          built = new DomainMapBuilder(DOMAIN, privateKey, b.transparency, storeB, thread(b), () => 5, opts);
        }
        await built.update(size, logRoot);
        assert.deepEqual(await dump(b.ktMap!), await dump(a.ktMap!), `round ${round}`);
      }
      assert.ok(((await a.ktMap!.latestEpoch(DOMAIN))?.epoch ?? 0) >= 6);
      // The served map (proofs) sees the latest epoch.
      const served = (await built.served())!;
      assert.deepEqual(await served.map.root(), served.epoch.root);
    } finally {
      await vrf.close();
      await a.close();
      await b.close();
    }
  });

  it('a leaf that does not decode fails its epoch on the thread, as in-thread', async () => {
    const storage = createMemoryStorage();
    const vrf = new VrfWorker();
    try {
      await logEvents(storage, randomEvents(3, 0));
      const log = { ...storage.transparency, entries: async (d: string, s: number, e: number) => (await storage.transparency.entries(d, s, e)).map((x) => ({ ...x, leaf: new Uint8Array([9, ...x.leaf.subarray(1)]) })) };
      const thread = vrf.mapThread(DOMAIN, vrfKey.secretKey, commitSecret, storage.ktMap!);
      const builder = new DomainMapBuilder(DOMAIN, privateKey, log, storage.ktMap!, thread, () => 5);
      await assert.rejects(builder.update(3), /leaf version/);
      const ref = new DomainMapBuilder(DOMAIN, privateKey, log, storage.ktMap!, inThread, () => 5);
      await assert.rejects(ref.update(3), /leaf version/);
      assert.equal(await storage.ktMap!.latestEpoch(DOMAIN), undefined);
    } finally {
      await vrf.close();
      await storage.close();
    }
  });
});
