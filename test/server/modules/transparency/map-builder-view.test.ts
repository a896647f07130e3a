// The builder's view of an older epoch (map-builder.ts view(), epoch-view.ts): read through the latest epoch's
// map, or, when more entries than maxViewAdded came after it, from its own entries; either way its root is the
// root signed in that epoch's head, and it reports each epoch's own head. Epoch 0 is the empty map; an epoch
// after the latest has no view.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createMemoryStorage } from '../../../../src/storage/memory/index.ts';
import { DomainMapBuilder, type MapFunctions } from '../../../../src/server/modules/transparency/map-builder.ts';
import { EMPTY_SUBTREE } from '../../../../src/transparency/map/hash.ts';
import type { SignedMapHead } from '../../../../src/transparency/map-head.ts';
import { fakeMapFunctions } from '../../../helpers/fake-map-functions.ts';

const DOMAIN = 'capulet.lit';
const { privateKey } = generateKeyPairSync('ed25519');
const fns = fakeMapFunctions;

describe('map builder: views of older epochs', () => {
  it('through the latest map or from scratch, each epoch has the root its head signed; new epochs are handed to onEpoch', async () => {
    const storage = createMemoryStorage();
    for (let i = 0; i < 40; i++) {
      const jid = `u${i % 7}@${DOMAIN}`;
      await storage.pubsub.createNode({ service: jid, node: 'n', owner: jid, config: {} } as never).catch(() => undefined);
      await storage.pubsub.publishItem({ service: jid, node: 'n', id: `i${i}`, publisher: `${jid}/r`, payload: '<x/>', publishedAt: 1 } as never, undefined, {
        domain: DOMAIN, event: { type: 'publish', time: 1, jid, node: 'n', itemId: `i${i}` },
      });
    }
    const published: SignedMapHead[] = [];
    const onEpoch = async (h: SignedMapHead) => void published.push(h);
    const through = new DomainMapBuilder(DOMAIN, privateKey, storage.transparency, storage.ktMap!, fns, () => 1, { maxEpochEntries: 8, onEpoch });
    const latest = (await through.update(40))!;
    assert.equal(latest.epoch, 5);
    assert.deepEqual(published.map((h) => h.epoch), [1, 2, 3, 4, 5]);
    // A second builder over the same storage that reads every older epoch from scratch.
    const scratch = new DomainMapBuilder(DOMAIN, privateKey, storage.transparency, storage.ktMap!, fns, () => 1, { maxViewAdded: 0 });
    for (const b of [through, scratch]) {
      for (let e = 1; e <= 5; e++) {
        const v = (await b.view(e))!;
        const head = (await storage.ktMap!.epoch(DOMAIN, e))!;
        assert.deepEqual(v.epoch, head);
        assert.deepEqual((await v.map.subtree(new Uint8Array(32), 0)).hash, head.root, `epoch ${e}`);
      }
      assert.deepEqual((await (await b.view(0))!.map.subtree(new Uint8Array(32), 0)).hash, EMPTY_SUBTREE);
      assert.equal(await b.view(6), undefined);
    }
  });
});
