import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteStorage } from '../../../src/storage/sqlite/index.ts';
import { cachedPubsubStore } from '../../../src/server/pubsub/cached-store.ts';

const S = 'juliet@capulet.lit';

function setup() {
  const storage = openSqliteStorage({ path: ':memory:' });
  return { storage, store: cachedPubsubStore(storage.pubsub, 2) };
}

describe('cachedPubsubStore', () => {
  it('reads see every write issued before them, awaited or not', async () => {
    const { storage, store } = setup();
    try {
      assert.equal(await store.getNode(S, 'n'), undefined);
      await store.createNode({ service: S, node: 'n', config: { access_model: 'presence' }, createdAt: 1 });
      assert.deepEqual((await store.getNode(S, 'n'))?.config, { access_model: 'presence' });
      const update = store.updateConfig(S, 'n', { access_model: 'open' });
      assert.deepEqual((await store.getNode(S, 'n'))?.config, { access_model: 'open' });
      await update;
      assert.deepEqual((await store.getNode(S, 'n'))?.config, { access_model: 'open' });
      assert.deepEqual([...(await store.getAffiliations(S, 'n'))], []);
      const aff = store.setAffiliation(S, 'n', 'romeo@montague.lit', 'member');
      assert.deepEqual([...(await store.getAffiliations(S, 'n'))], [['romeo@montague.lit', 'member']]);
      await aff;
      await store.deleteService(S);
      assert.equal(await store.getNode(S, 'n'), undefined);
    } finally {
      storage.close();
    }
  });

  it('subscriptions: a cached list follows every write, and callers get their own map', async () => {
    const { storage, store } = setup();
    try {
      await store.createNode({ service: S, node: 'n', config: {}, createdAt: 1 });
      assert.equal((await store.getSubscriptions(S, 'n')).size, 0);
      // Cached as empty now; the write below must not be answered from that entry.
      const sub = store.setSubscription(S, 'n', 'romeo@montague.lit/orchard', 'subscribed');
      assert.deepEqual([...(await store.getSubscriptions(S, 'n'))], [['romeo@montague.lit/orchard', 'subscribed']]);
      await sub;
      const mine = await store.getSubscriptions(S, 'n');
      mine.set('eve@x', 'subscribed');
      assert.deepEqual([...(await store.getSubscriptions(S, 'n'))], [['romeo@montague.lit/orchard', 'subscribed']]);
      await store.setSubscription(S, 'n', 'romeo@montague.lit/orchard', 'none');
      assert.equal((await store.getSubscriptions(S, 'n')).size, 0);
      await store.setSubscription(S, 'n', 'nurse@capulet.lit', 'pending');
      await store.deleteNode(S, 'n');
      await store.createNode({ service: S, node: 'n', config: {}, createdAt: 2 });
      assert.equal((await store.getSubscriptions(S, 'n')).size, 0);
    } finally {
      storage.close();
    }
  });

  it('a read in flight when a write is issued is not cached', async () => {
    const { storage, store } = setup();
    try {
      await store.createNode({ service: S, node: 'n', config: { title: 'a' }, createdAt: 1 });
      const before = store.getNode(S, 'n');
      await store.updateConfig(S, 'n', { title: 'b' });
      assert.equal((await before)?.config.title, 'a');
      assert.equal((await store.getNode(S, 'n'))?.config.title, 'b');
    } finally {
      storage.close();
    }
  });

  it('hands out frozen records, fresh affiliation maps, and stays bounded', async () => {
    const { storage, store } = setup();
    try {
      for (const n of ['a', 'b', 'c']) await store.createNode({ service: S, node: n, config: { roster_groups_allowed: ['x'] }, createdAt: 1 });
      const r = (await store.getNode(S, 'a'))!;
      assert.ok(Object.isFrozen(r) && Object.isFrozen(r.config) && Object.isFrozen(r.config.roster_groups_allowed));
      (await store.getAffiliations(S, 'a')).set('x@y', 'owner');
      assert.equal((await store.getAffiliations(S, 'a')).size, 0);
      for (const n of ['a', 'b', 'c', 'a']) assert.equal((await store.getNode(S, n))?.node, n);
    } finally {
      storage.close();
    }
  });
});
