// The PubsubStore contract (XEP-0060 nodes, items, affiliations, subscriptions). A PubsubStore that wraps
// another (the engine's caching store) runs it too.
// Part of the storage contract (./storage-contract.ts runs every part against every adapter).
import { describe, it as test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import type { ItemQuery, PubsubItemRecord, PubsubStore } from '../../src/storage/types.ts';
import { NodeNotFoundError } from '../../src/storage/errors.ts';
import { ids, item } from './fixtures.ts';

/**
 * Registers the pubsub tests; `pubsub()` is the store under test, empty at the start of each test.
 * `knownBugs` marks tests (by name) the subject is known to fail as todo, with the reason.
 */
export function pubsubContract(pubsub: () => PubsubStore, knownBugs: Record<string, string> = {}): void {
  const it = (name: string, fn: () => Promise<void>) => test(name, knownBugs[name] ? { todo: knownBugs[name] } : {}, fn);
  const newNode = (service: string, node: string, config: Record<string, string | string[]> = {}) =>
    pubsub().createNode({ service, node, config, createdAt: 1_700_000_000_000 });

  describe('pubsub nodes', () => {
    const svc = 'alice@example.org';

    it('creates a node once; a duplicate returns false and changes nothing', async () => {
      assert.equal(await newNode(svc, 'n', { max_items: '10', access_model: 'presence' }), true);
      assert.equal(await newNode(svc, 'n', { max_items: '1' }), false);
      assert.deepEqual(await pubsub().getNode(svc, 'n'), {
        service: svc,
        node: 'n',
        config: { max_items: '10', access_model: 'presence' },
        createdAt: 1_700_000_000_000,
      });
    });

    it('getNode returns undefined for unknown nodes and services', async () => {
      await newNode(svc, 'n');
      assert.equal(await pubsub().getNode(svc, 'm'), undefined);
      assert.equal(await pubsub().getNode('bob@example.org', 'n'), undefined);
    });

    it('the same node name on two services is two nodes', async () => {
      assert.equal(await newNode(svc, 'n'), true);
      assert.equal(await newNode('bob@example.org', 'n'), true);
      await pubsub().publishItem(item(svc, 'n', 'a'), undefined);
      assert.equal(await pubsub().countItems('bob@example.org', 'n'), 0);
    });

    it('listNodes returns one service\'s nodes sorted by name', async () => {
      await newNode(svc, 'urn:xmpp:tune');
      await newNode(svc, 'urn:xmpp:avatar:data');
      await newNode(svc, 'urn:xmpp:openpgp:0');
      await newNode('bob@example.org', 'urn:xmpp:avatar:data');
      assert.deepEqual(
        (await pubsub().listNodes(svc)).map((n) => n.node),
        ['urn:xmpp:avatar:data', 'urn:xmpp:openpgp:0', 'urn:xmpp:tune'],
      );
      assert.deepEqual(await pubsub().listNodes('carol@example.org'), []);
    });

    it('updateConfig replaces the whole configuration; unknown nodes give false', async () => {
      await newNode(svc, 'n', { max_items: '10', access_model: 'presence' });
      const cfg = { max_items: 'max', roster_groups_allowed: ['Friends', 'Family'] };
      assert.equal(await pubsub().updateConfig(svc, 'n', cfg), true);
      assert.deepEqual((await pubsub().getNode(svc, 'n'))?.config, cfg);
      assert.equal(await pubsub().updateConfig(svc, 'missing', cfg), false);
      assert.equal(await pubsub().getNode(svc, 'missing'), undefined);
    });

    it('config objects are not shared with callers', async () => {
      const cfg: Record<string, string | string[]> = { groups: ['A'] };
      await newNode(svc, 'n', cfg);
      (cfg.groups as string[]).push('B');
      const rec = await pubsub().getNode(svc, 'n');
      assert.deepEqual(rec?.config, { groups: ['A'] });
      // A returned record is the caller's to read: an adapter may hand out a private copy or a frozen shared
      // one (the caching store does, so the engine can memoise per record), but never its own state.
      try {
        (rec!.config.groups as string[]).push('C');
      } catch (err) {
        assert.ok(err instanceof TypeError, 'only a frozen record may refuse the change');
      }
      assert.deepEqual((await pubsub().getNode(svc, 'n'))?.config, { groups: ['A'] });
    });

    it('deleteNode removes the node with items, affiliations and subscriptions', async () => {
      await newNode(svc, 'n');
      await newNode(svc, 'keep');
      await pubsub().publishItem(item(svc, 'n', 'a'), undefined);
      await pubsub().publishItem(item(svc, 'keep', 'a'), undefined);
      await pubsub().setAffiliation(svc, 'n', 'bob@example.org', 'publisher');
      await pubsub().setSubscription(svc, 'n', 'bob@example.org', 'subscribed');
      assert.equal(await pubsub().deleteNode(svc, 'n'), true);
      assert.equal(await pubsub().deleteNode(svc, 'n'), false);
      assert.equal(await pubsub().getNode(svc, 'n'), undefined);
      assert.deepEqual(await pubsub().getItems(svc, 'n'), []);
      assert.equal(await pubsub().countItems(svc, 'n'), 0);
      assert.equal((await pubsub().getAffiliations(svc, 'n')).size, 0);
      assert.equal((await pubsub().getSubscriptions(svc, 'n')).size, 0);
      // Re-creating starts from nothing.
      assert.equal(await newNode(svc, 'n'), true);
      assert.equal(await pubsub().countItems(svc, 'n'), 0);
      assert.equal((await pubsub().getAffiliations(svc, 'n')).size, 0);
      assert.equal(await pubsub().countItems(svc, 'keep'), 1);
    });

    it('deleteService removes every node of that service only', async () => {
      await newNode(svc, 'a');
      await newNode(svc, 'b');
      await newNode('bob@example.org', 'a');
      await pubsub().publishItem(item(svc, 'a', '1'), undefined);
      await pubsub().setAffiliation(svc, 'b', 'x@example.org', 'member');
      await pubsub().publishItem(item('bob@example.org', 'a', '1'), undefined);
      await pubsub().deleteService(svc);
      assert.deepEqual(await pubsub().listNodes(svc), []);
      assert.deepEqual(await pubsub().getItems(svc, 'a'), []);
      assert.equal(await pubsub().countItems('bob@example.org', 'a'), 1);
      await pubsub().deleteService('nobody@example.org'); // no error on an empty service
      assert.equal(await newNode(svc, 'b'), true);
      assert.equal((await pubsub().getAffiliations(svc, 'b')).size, 0);
    });
  });

  describe('pubsub items', () => {
    const svc = 'alice@example.org';
    const node = 'urn:xmpp:microblog:0';

    beforeEach(async () => {
      await newNode(svc, node);
    });

    const publish = (id: string, maxItems?: number, extra: Partial<PubsubItemRecord> = {}) =>
      pubsub().publishItem(item(svc, node, id, extra), maxItems);
    const publishAll = async (list: string[]) => {
      for (const id of list) await publish(id);
    };

    it('stores items and returns them newest first with every field', async () => {
      await publish('a', undefined, { publishedAt: 10 });
      await publish('b', undefined, { publishedAt: 5, publisher: 'bob@example.org/phone', payload: '<x xmlns="y">é &amp; ü</x>' });
      assert.deepEqual(await pubsub().getItems(svc, node), [
        { service: svc, node, id: 'b', publisher: 'bob@example.org/phone', payload: '<x xmlns="y">é &amp; ü</x>', publishedAt: 5 },
        item(svc, node, 'a', { publishedAt: 10 }),
      ]);
      assert.equal(await pubsub().countItems(svc, node), 2);
    });

    it('publishing to a missing node rejects with NodeNotFoundError', async () => {
      await assert.rejects(pubsub().publishItem(item(svc, 'missing', 'a'), undefined), (err: unknown) => {
        assert.ok(err instanceof NodeNotFoundError);
        assert.equal(err.code, 'PUBSUB_NODE_NOT_FOUND');
        return true;
      });
      assert.equal(await pubsub().getNode(svc, 'missing'), undefined);
    });

    it('republishing an id replaces it and moves it to newest', async () => {
      await publishAll(['a', 'b', 'c']);
      const r = await publish('a', undefined, { payload: '<new/>', publishedAt: 99, publisher: 'alice@example.org/other' });
      assert.deepEqual(r.evicted, []);
      const items = await pubsub().getItems(svc, node);
      assert.deepEqual(ids(items), ['a', 'c', 'b']);
      assert.deepEqual(items[0], item(svc, node, 'a', { payload: '<new/>', publishedAt: 99, publisher: 'alice@example.org/other' }));
      assert.equal(await pubsub().countItems(svc, node), 3);
    });

    it('trims to maxItems newest and returns evicted ids oldest first', async () => {
      assert.deepEqual((await publish('a', 3)).evicted, []);
      assert.deepEqual((await publish('b', 3)).evicted, []);
      assert.deepEqual((await publish('c', 3)).evicted, []);
      assert.deepEqual((await publish('d', 3)).evicted, ['a']);
      assert.deepEqual(ids(await pubsub().getItems(svc, node)), ['d', 'c', 'b']);
      // A lowered limit evicts several at once.
      assert.deepEqual((await publish('e', 1)).evicted, ['b', 'c', 'd']);
      assert.deepEqual(ids(await pubsub().getItems(svc, node)), ['e']);
    });

    it('republishing at the limit evicts nothing; undefined maxItems never trims', async () => {
      await publish('a', 2);
      await publish('b', 2);
      assert.deepEqual((await publish('a', 2)).evicted, []);
      assert.deepEqual(ids(await pubsub().getItems(svc, node)), ['a', 'b']);
      assert.deepEqual((await publish('c', 2)).evicted, ['b']);
      for (let i = 0; i < 20; i++) assert.deepEqual((await publish(`u${i}`)).evicted, []);
      assert.equal(await pubsub().countItems(svc, node), 22);
    });

    it('maxItems 1 keeps only the latest item (PEP singleton nodes)', async () => {
      await publish('current', 1);
      assert.deepEqual((await publish('next', 1)).evicted, ['current']);
      assert.deepEqual((await publish('next', 1)).evicted, []);
      assert.deepEqual(ids(await pubsub().getItems(svc, node)), ['next']);
    });

    describe('getItems queries', () => {
      // Newest first: e d c b a
      beforeEach(async () => {
        await publishAll(['a', 'b', 'c', 'd', 'e']);
      });
      const q = async (query: ItemQuery) => ids(await pubsub().getItems(svc, node, query));

      it('no query and an empty query return everything newest first', async () => {
        assert.deepEqual(ids(await pubsub().getItems(svc, node)), ['e', 'd', 'c', 'b', 'a']);
        assert.deepEqual(await q({}), ['e', 'd', 'c', 'b', 'a']);
      });
      it('max', async () => {
        assert.deepEqual(await q({ max: 2 }), ['e', 'd']);
        assert.deepEqual(await q({ max: 10 }), ['e', 'd', 'c', 'b', 'a']);
        assert.deepEqual(await q({ max: 0 }), []);
      });
      it('ids: in the order given, missing skipped, duplicates once, then max', async () => {
        assert.deepEqual(await q({ ids: ['c', 'zz', 'a', 'e'] }), ['c', 'a', 'e']);
        assert.deepEqual(await q({ ids: ['b', 'b'] }), ['b']);
        assert.deepEqual(await q({ ids: ['c', 'zz', 'a', 'e'], max: 2 }), ['c', 'a']);
        assert.deepEqual(await q({ ids: [] }), []);
        assert.deepEqual(await q({ ids: ['zz'] }), []);
      });
      it('order follows republishes', async () => {
        await publish('b');
        assert.deepEqual(await q({ max: 2 }), ['b', 'e']);
        assert.deepEqual(await q({}), ['b', 'e', 'd', 'c', 'a']);
      });
      it('missing nodes have no items', async () => {
        assert.deepEqual(ids(await pubsub().getItems(svc, 'missing')), []);
        assert.deepEqual(ids(await pubsub().getItems('bob@example.org', node, { max: 1 })), []);
        assert.equal(await pubsub().countItems(svc, 'missing'), 0);
      });
    });

    it('retractItem removes one item and reports whether it existed', async () => {
      await publishAll(['a', 'b', 'c']);
      assert.equal(await pubsub().retractItem(svc, node, 'b'), true);
      assert.equal(await pubsub().retractItem(svc, node, 'b'), false);
      assert.equal(await pubsub().retractItem(svc, 'missing', 'a'), false);
      assert.deepEqual(ids(await pubsub().getItems(svc, node)), ['c', 'a']);
      // A new item after retracting the newest is still newest.
      assert.equal(await pubsub().retractItem(svc, node, 'c'), true);
      await publish('d');
      assert.deepEqual(ids(await pubsub().getItems(svc, node)), ['d', 'a']);
      // Republishing the newest keeps it newest; republishing an older one moves it to newest; after a
      // purge the order starts again from the first publish.
      await publish('d');
      await publish('a');
      await publish('e');
      assert.deepEqual(ids(await pubsub().getItems(svc, node)), ['e', 'a', 'd']);
      await pubsub().purgeNode(svc, node);
      await publishAll(['f', 'g']);
      assert.deepEqual(ids(await pubsub().getItems(svc, node)), ['g', 'f']);
    });

    it('purgeNode removes every item and returns how many, keeping the node', async () => {
      await publishAll(['a', 'b', 'c']);
      await pubsub().setAffiliation(svc, node, 'bob@example.org', 'member');
      assert.equal(await pubsub().purgeNode(svc, node), 3);
      assert.equal(await pubsub().purgeNode(svc, node), 0);
      assert.equal(await pubsub().purgeNode(svc, 'missing'), 0);
      assert.equal(await pubsub().countItems(svc, node), 0);
      assert.ok(await pubsub().getNode(svc, node));
      assert.equal((await pubsub().getAffiliations(svc, node)).get('bob@example.org'), 'member');
      await publish('z');
      assert.deepEqual(ids(await pubsub().getItems(svc, node)), ['z']);
    });

    it('500 publishes issued without awaiting in between all persist, in issue order', async () => {
      const n = 500;
      const results = await Promise.all(Array.from({ length: n }, (_, i) => publish(`item-${i}`)));
      assert.equal(results.length, n);
      for (const r of results) assert.deepEqual(r.evicted, []);
      assert.equal(await pubsub().countItems(svc, node), n);
      const got = ids(await pubsub().getItems(svc, node));
      assert.deepEqual(got, Array.from({ length: n }, (_, i) => `item-${n - 1 - i}`));
    });

    it('concurrent publishes with maxItems trim consistently', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => publish(`i${i}`, 10)));
      const evicted = results.flatMap((r) => r.evicted);
      assert.deepEqual(evicted, Array.from({ length: 40 }, (_, i) => `i${i}`));
      assert.deepEqual(ids(await pubsub().getItems(svc, node)), Array.from({ length: 10 }, (_, i) => `i${49 - i}`));
    });

    it('a read issued right after a write (not awaited) sees it', async () => {
      const write = publish('fresh');
      const count = pubsub().countItems(svc, node);
      const items = pubsub().getItems(svc, node);
      await write;
      assert.equal(await count, 1);
      assert.deepEqual(ids(await items), ['fresh']);
    });
  });

  describe('pubsub affiliations and subscriptions', () => {
    const svc = 'alice@example.org';
    const node = 'n';
    beforeEach(async () => {
      await newNode(svc, node);
    });

    it('sets, replaces and removes affiliations (none removes)', async () => {
      assert.deepEqual(await pubsub().getAffiliations(svc, node), new Map());
      await pubsub().setAffiliation(svc, node, svc, 'owner');
      await pubsub().setAffiliation(svc, node, 'bob@example.org', 'publisher');
      await pubsub().setAffiliation(svc, node, 'eve@example.org', 'outcast');
      await pubsub().setAffiliation(svc, node, 'bob@example.org', 'publish-only');
      assert.deepEqual(
        await pubsub().getAffiliations(svc, node),
        new Map([
          [svc, 'owner'],
          ['bob@example.org', 'publish-only'],
          ['eve@example.org', 'outcast'],
        ]),
      );
      await pubsub().setAffiliation(svc, node, 'bob@example.org', 'none');
      await pubsub().setAffiliation(svc, node, 'nobody@example.org', 'none'); // removing nothing is fine
      assert.deepEqual(
        await pubsub().getAffiliations(svc, node),
        new Map([
          [svc, 'owner'],
          ['eve@example.org', 'outcast'],
        ]),
      );
      await pubsub().setAffiliation(svc, node, 'carol@example.org', 'member');
      assert.equal((await pubsub().getAffiliations(svc, node)).get('carol@example.org'), 'member');
    });

    it('sets, replaces and removes subscriptions for full and bare JIDs (none removes)', async () => {
      await pubsub().setSubscription(svc, node, 'bob@example.org/phone', 'pending');
      await pubsub().setSubscription(svc, node, 'bob@example.org', 'subscribed');
      await pubsub().setSubscription(svc, node, 'carol@example.org', 'unconfigured');
      await pubsub().setSubscription(svc, node, 'bob@example.org/phone', 'subscribed');
      assert.deepEqual(
        await pubsub().getSubscriptions(svc, node),
        new Map([
          ['bob@example.org/phone', 'subscribed'],
          ['bob@example.org', 'subscribed'],
          ['carol@example.org', 'unconfigured'],
        ]),
      );
      await pubsub().setSubscription(svc, node, 'bob@example.org', 'none');
      assert.deepEqual(
        await pubsub().getSubscriptions(svc, node),
        new Map([
          ['bob@example.org/phone', 'subscribed'],
          ['carol@example.org', 'unconfigured'],
        ]),
      );
    });

    it('affiliations and subscriptions are per node', async () => {
      await newNode(svc, 'other');
      await pubsub().setAffiliation(svc, node, 'bob@example.org', 'member');
      await pubsub().setSubscription(svc, node, 'bob@example.org', 'subscribed');
      assert.equal((await pubsub().getAffiliations(svc, 'other')).size, 0);
      assert.equal((await pubsub().getSubscriptions(svc, 'other')).size, 0);
    });

    it('unknown nodes have none, and setting one on an unknown node rejects', async () => {
      assert.equal((await pubsub().getAffiliations(svc, 'missing')).size, 0);
      assert.equal((await pubsub().getSubscriptions(svc, 'missing')).size, 0);
      await assert.rejects(pubsub().setAffiliation(svc, 'missing', 'bob@example.org', 'member'), NodeNotFoundError);
      await assert.rejects(pubsub().setSubscription(svc, 'missing', 'bob@example.org', 'subscribed'), NodeNotFoundError);
    });
  });

  // What group commit gives every adapter, and what a cache in front of one must keep.
  describe('pubsub reads after writes', () => {
    const svc = 'alice@example.org';
    const node = 'n';
    beforeEach(async () => {
      await newNode(svc, node, { max_items: '1' });
    });
    // Reads first, so that a caching store has every entry filled when the writes come.
    const readAll = () =>
      Promise.all([pubsub().getNode(svc, node), pubsub().getAffiliations(svc, node), pubsub().getSubscriptions(svc, node)]);

    it('a read of a node, its affiliations or subscriptions issued right after a write (not awaited) sees it', async () => {
      await readAll();
      const writes = [
        pubsub().updateConfig(svc, node, { max_items: '2' }),
        pubsub().setAffiliation(svc, node, 'bob@example.org', 'member'),
        pubsub().setSubscription(svc, node, 'bob@example.org', 'subscribed'),
      ];
      const [record, affiliations, subscriptions] = await readAll();
      await Promise.all(writes);
      assert.deepEqual(record?.config, { max_items: '2' });
      assert.equal(affiliations.get('bob@example.org'), 'member');
      assert.equal(subscriptions.get('bob@example.org'), 'subscribed');

      const deleted = pubsub().deleteNode(svc, node);
      const after = await readAll();
      assert.equal(await deleted, true);
      assert.deepEqual(after, [undefined, new Map(), new Map()]);
      const created = newNode(svc, node, { max_items: '3' });
      const again = pubsub().getNode(svc, node);
      await created;
      assert.deepEqual((await again)?.config, { max_items: '3' });
      const gone = pubsub().deleteService(svc);
      const none = pubsub().getNode(svc, node);
      await gone;
      assert.equal(await none, undefined);
    });

    it('a read in flight when a write is issued leaves no stale answer behind', async () => {
      const early = readAll();
      const writes = Promise.all([
        pubsub().updateConfig(svc, node, { max_items: '5' }),
        pubsub().setAffiliation(svc, node, 'bob@example.org', 'publisher'),
        pubsub().setSubscription(svc, node, 'bob@example.org', 'pending'),
      ]);
      await Promise.all([early, writes]);
      const [record, affiliations, subscriptions] = await readAll();
      assert.deepEqual(record?.config, { max_items: '5' });
      assert.equal(affiliations.get('bob@example.org'), 'publisher');
      assert.equal(subscriptions.get('bob@example.org'), 'pending');
    });
  });
}
