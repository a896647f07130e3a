// Retrieval after a node's lifecycle changes: a node deleted (alone, with its service, or with its owner's
// account) and created again must answer with the new node's items only, never the old node's or another
// node's. The SQLite adapter caches node ids for retrieval (src/storage/sqlite/pubsub.ts); these tests are
// what its invalidation must pass, and every adapter runs them.
// Part of the storage contract (./storage-contract.ts runs every part against every adapter).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Storage } from '../../src/storage/types.ts';
import { credentials, ids, item } from './fixtures.ts';

export function pubsubNodeLifecycleContract(storage: () => Storage): void {
  const svc = 'alice@example.org';
  const newNode = (service: string, node: string) => storage().pubsub.createNode({ service, node, config: {}, createdAt: 1_700_000_000_000 });
  const publish = async (service: string, node: string, itemIds: string[]) => {
    for (const id of itemIds) await storage().pubsub.publishItem(item(service, node, id, { payload: `<entry xmlns="urn:test">${service} ${id}</entry>` }), undefined);
  };
  /** Both retrieval forms: by id and newest-first. */
  const retrieve = async (service: string, node: string, byIds: string[]) => ({
    byId: ids(await storage().pubsub.getItems(service, node, { ids: byIds })),
    newest: ids(await storage().pubsub.getItems(service, node)),
  });

  describe('pubsub retrieval across node deletion and re-creation', () => {
    it('a node deleted and created again gives the new node\'s items only', async () => {
      await newNode(svc, 'keys');
      await publish(svc, 'keys', ['old1', 'old2']);
      assert.deepEqual(await retrieve(svc, 'keys', ['old1', 'new1']), { byId: ['old1'], newest: ['old2', 'old1'] });
      assert.equal(await storage().pubsub.deleteNode(svc, 'keys'), true);
      assert.deepEqual(await retrieve(svc, 'keys', ['old1']), { byId: [], newest: [] });
      // Another node first, so the new 'keys' does not simply get the old one's row id back.
      await newNode('bob@example.org', 'keys');
      await newNode(svc, 'keys');
      assert.deepEqual(await retrieve(svc, 'keys', ['old1']), { byId: [], newest: [] });
      await publish(svc, 'keys', ['new1']);
      assert.deepEqual(await retrieve(svc, 'keys', ['old1', 'new1']), { byId: ['new1'], newest: ['new1'] });
    });

    it('a deleted node never answers with the items of a node created after it elsewhere', async () => {
      // SQLite may give a new row the id of the newest row deleted: a stale cached id would then point at
      // bob's node.
      await newNode(svc, 'keys');
      await publish(svc, 'keys', ['a1']);
      assert.deepEqual((await retrieve(svc, 'keys', ['a1'])).byId, ['a1']);
      await storage().pubsub.deleteNode(svc, 'keys');
      await newNode('bob@example.org', 'other');
      await publish('bob@example.org', 'other', ['a1', 'b1']);
      assert.deepEqual(await retrieve(svc, 'keys', ['a1', 'b1']), { byId: [], newest: [] });
      assert.deepEqual((await retrieve('bob@example.org', 'other', ['a1', 'b1'])).byId, ['a1', 'b1']);
    });

    it('a service deleted with its nodes, then its node created again, gives the new items only', async () => {
      await newNode(svc, 'keys');
      await newNode(svc, 'avatar');
      await publish(svc, 'keys', ['old']);
      await publish(svc, 'avatar', ['pic']);
      assert.deepEqual((await retrieve(svc, 'keys', ['old'])).byId, ['old']);
      assert.deepEqual((await retrieve(svc, 'avatar', ['pic'])).byId, ['pic']);
      await storage().pubsub.deleteService(svc);
      await newNode(svc, 'avatar');
      await publish(svc, 'avatar', ['new']);
      assert.deepEqual(await retrieve(svc, 'keys', ['old']), { byId: [], newest: [] });
      assert.deepEqual(await retrieve(svc, 'avatar', ['pic', 'new']), { byId: ['new'], newest: ['new'] });
    });

    it('an account deleted and created again has none of its old PEP items', async () => {
      await storage().accounts.create(svc, credentials('a'));
      await newNode(svc, 'keys');
      await publish(svc, 'keys', ['old']);
      assert.deepEqual((await retrieve(svc, 'keys', ['old'])).byId, ['old']);
      assert.equal(await storage().accounts.delete(svc), true);
      await storage().accounts.create(svc, credentials('b'));
      await newNode('bob@example.org', 'keys');
      await newNode(svc, 'keys');
      await publish(svc, 'keys', ['fresh']);
      assert.deepEqual(await retrieve(svc, 'keys', ['old', 'fresh']), { byId: ['fresh'], newest: ['fresh'] });
    });

    it('delete, create and retrieve issued together settle in order', async () => {
      await newNode(svc, 'keys');
      await publish(svc, 'keys', ['old']);
      assert.deepEqual((await retrieve(svc, 'keys', ['old'])).byId, ['old']);
      // One burst: the group-committing adapters run these in one batch, in issue order.
      const p = storage().pubsub;
      const [, , , , got] = await Promise.all([
        p.deleteNode(svc, 'keys'),
        p.createNode({ service: svc, node: 'keys', config: {}, createdAt: 1 }),
        p.publishItem(item(svc, 'keys', 'new'), undefined),
        Promise.resolve(),
        p.getItems(svc, 'keys', { ids: ['old', 'new'] }),
      ]);
      assert.deepEqual(ids(got), ['new']);
      assert.deepEqual(await retrieve(svc, 'keys', ['old', 'new']), { byId: ['new'], newest: ['new'] });
    });
  });
}
