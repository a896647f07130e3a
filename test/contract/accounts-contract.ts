// The AccountStore contract. Deleting an account removes what it owns in every other store, so this part
// takes the whole Storage.
// Part of the storage contract (./storage-contract.ts runs every part against every adapter).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AccountExistsError, type Storage } from '../../src/storage/types.ts';
import { credentials, ids, item } from './fixtures.ts';

/** Registers the account tests; `storage()` is the storage under test, empty at the start of each test. */
export function accountsContract(storage: () => Storage): void {
  const newNode = (service: string, node: string) =>
    storage().pubsub.createNode({ service, node, config: {}, createdAt: 1_700_000_000_000 });

  describe('accounts', () => {
    it('creates and reads back an account', async () => {
      const before = Date.now();
      await storage().accounts.create('alice@example.org', credentials('a'));
      const rec = await storage().accounts.get('alice@example.org');
      assert.ok(rec);
      assert.equal(rec.jid, 'alice@example.org');
      assert.deepEqual(rec.credentials, credentials('a'));
      assert.equal(typeof rec.createdAt, 'number');
      assert.ok(rec.createdAt >= before - 1000 && rec.createdAt <= Date.now() + 1000);
    });

    it('returns undefined for an unknown account', async () => {
      assert.equal(await storage().accounts.get('nobody@example.org'), undefined);
    });

    it('refuses a duplicate account with AccountExistsError and keeps the original', async () => {
      await storage().accounts.create('alice@example.org', credentials('a'));
      await assert.rejects(storage().accounts.create('alice@example.org', credentials('b')), (err: unknown) => {
        assert.ok(err instanceof AccountExistsError);
        assert.equal(err.code, 'ACCOUNT_EXISTS');
        return true;
      });
      assert.deepEqual((await storage().accounts.get('alice@example.org'))?.credentials, credentials('a'));
    });

    it('does not let callers mutate stored credentials through returned objects', async () => {
      const creds = credentials('a');
      await storage().accounts.create('alice@example.org', creds);
      creds['SHA-1'].iterations = 1;
      const rec = await storage().accounts.get('alice@example.org');
      assert.equal(rec?.credentials['SHA-1'].iterations, 4096);
      rec!.credentials['SHA-256'].salt = 'changed';
      assert.deepEqual((await storage().accounts.get('alice@example.org'))?.credentials, credentials('a'));
    });

    it('sets credentials of existing accounts only', async () => {
      await storage().accounts.create('alice@example.org', credentials('a'));
      assert.equal(await storage().accounts.setCredentials('alice@example.org', credentials('new')), true);
      assert.deepEqual((await storage().accounts.get('alice@example.org'))?.credentials, credentials('new'));
      assert.equal(await storage().accounts.setCredentials('ghost@example.org', credentials('x')), false);
      assert.equal(await storage().accounts.get('ghost@example.org'), undefined);
    });

    it('lists sorted bare JIDs, optionally for one domain', async () => {
      for (const jid of ['zed@b.example', 'bob@a.example', 'alice@b.example', 'carol@a.example']) {
        await storage().accounts.create(jid, credentials(jid));
      }
      assert.deepEqual(await storage().accounts.list(), ['alice@b.example', 'bob@a.example', 'carol@a.example', 'zed@b.example']);
      assert.deepEqual(await storage().accounts.list('a.example'), ['bob@a.example', 'carol@a.example']);
      assert.deepEqual(await storage().accounts.list('b.example'), ['alice@b.example', 'zed@b.example']);
      assert.deepEqual(await storage().accounts.list('c.example'), []);
    });

    it('lists nothing when empty', async () => {
      assert.deepEqual(await storage().accounts.list(), []);
    });

    it('delete returns false for an unknown account', async () => {
      assert.equal(await storage().accounts.delete('ghost@example.org'), false);
    });

    it('delete removes the account and everything it owns, and nothing else', async () => {
      const alice = 'alice@example.org';
      const bob = 'bob@example.org';
      for (const jid of [alice, bob]) {
        await storage().accounts.create(jid, credentials(jid));
        await storage().roster.putItem(jid, { jid: 'carol@example.org', subscription: 'both', groups: ['Friends'] });
        await storage().roster.addPendingIn(jid, { from: 'dave@example.org', stanza: '<presence type="subscribe"/>' });
        await storage().offline.push(jid, { stanza: '<message/>', storedAt: 1 });
        await newNode(jid, 'urn:xmpp:microblog:0');
        await storage().pubsub.publishItem(item(jid, 'urn:xmpp:microblog:0', 'i1'), undefined);
        await storage().pubsub.setAffiliation(jid, 'urn:xmpp:microblog:0', 'carol@example.org', 'member');
        await storage().pubsub.setSubscription(jid, 'urn:xmpp:microblog:0', 'carol@example.org/r', 'subscribed');
      }
      // Bob has Alice in his roster: account deletion must leave that to the roster module.
      await storage().roster.putItem(bob, { jid: alice, subscription: 'to', groups: [] });

      assert.equal(await storage().accounts.delete(alice), true);
      assert.equal(await storage().accounts.get(alice), undefined);
      assert.deepEqual(await storage().accounts.list(), [bob]);
      assert.deepEqual((await storage().roster.get(alice)).items, []);
      assert.equal(await storage().roster.getItem(alice, 'carol@example.org'), undefined);
      assert.deepEqual(await storage().roster.listPendingIn(alice), []);
      assert.equal(await storage().offline.count(alice), 0);
      assert.deepEqual(await storage().pubsub.listNodes(alice), []);
      assert.equal(await storage().pubsub.getNode(alice, 'urn:xmpp:microblog:0'), undefined);
      assert.deepEqual(await storage().pubsub.getItems(alice, 'urn:xmpp:microblog:0'), []);

      // Bob untouched, including his roster entry for Alice.
      assert.ok(await storage().accounts.get(bob));
      assert.deepEqual(ids((await storage().roster.get(bob)).items.map((i) => ({ id: i.jid }))), [alice, 'carol@example.org']);
      assert.equal((await storage().roster.listPendingIn(bob)).length, 1);
      assert.equal(await storage().offline.count(bob), 1);
      assert.equal(await storage().pubsub.countItems(bob, 'urn:xmpp:microblog:0'), 1);
      assert.equal((await storage().pubsub.getAffiliations(bob, 'urn:xmpp:microblog:0')).size, 1);
      assert.equal((await storage().pubsub.getSubscriptions(bob, 'urn:xmpp:microblog:0')).size, 1);

      // A re-created account starts empty, and its old node does not come back with old state.
      await storage().accounts.create(alice, credentials('again'));
      assert.deepEqual((await storage().roster.get(alice)).items, []);
      assert.equal(await newNode(alice, 'urn:xmpp:microblog:0'), true);
      assert.equal(await storage().pubsub.countItems(alice, 'urn:xmpp:microblog:0'), 0);
      assert.equal((await storage().pubsub.getAffiliations(alice, 'urn:xmpp:microblog:0')).size, 0);
      assert.equal((await storage().pubsub.getSubscriptions(alice, 'urn:xmpp:microblog:0')).size, 0);
    });
  });
}
