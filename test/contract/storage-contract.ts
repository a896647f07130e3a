// The storage contract: every adapter (memory, sqlite, later postgres) must pass this suite unchanged.
// Each test gets a fresh, empty storage from `open`.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  AccountExistsError,
  type AccountCredentials,
  type PubsubItemRecord,
  type RosterItem,
  type Storage,
} from '../../src/storage/types.ts';
import { NodeNotFoundError } from '../../src/storage/errors.ts';

export type OpenStorage = () => Promise<Storage> | Storage;
export type CleanupStorage = (storage: Storage) => Promise<void> | void;

export function credentials(seed: string): AccountCredentials {
  const one = (hash: string) => ({
    salt: Buffer.from(`salt-${seed}-${hash}`).toString('base64'),
    iterations: 4096,
    storedKey: Buffer.from(`stored-${seed}-${hash}`).toString('base64'),
    serverKey: Buffer.from(`server-${seed}-${hash}`).toString('base64'),
  });
  return { 'SHA-1': one('1'), 'SHA-256': one('256') };
}

export function item(service: string, node: string, id: string, extra: Partial<PubsubItemRecord> = {}): PubsubItemRecord {
  return {
    service,
    node,
    id,
    publisher: `${service}/res`,
    payload: `<entry xmlns="urn:test">${id}</entry>`,
    publishedAt: 1_700_000_000_000,
    ...extra,
  };
}

const ids = (items: { id: string }[]) => items.map((i) => i.id);

export function storageContract(name: string, open: OpenStorage, cleanup?: CleanupStorage): void {
  describe(`storage contract: ${name}`, () => {
    let s: Storage;

    beforeEach(async () => {
      s = await open();
    });
    afterEach(async () => {
      await s.close();
      await cleanup?.(s);
    });

    const newNode = (service: string, node: string, config: Record<string, string | string[]> = {}) =>
      s.pubsub.createNode({ service, node, config, createdAt: 1_700_000_000_000 });

    it('has a kind', () => {
      assert.equal(typeof s.kind, 'string');
      assert.ok(s.kind.length > 0);
    });

    // ------------------------------------------------------------------ accounts
    describe('accounts', () => {
      it('creates and reads back an account', async () => {
        const before = Date.now();
        await s.accounts.create('alice@example.org', credentials('a'));
        const rec = await s.accounts.get('alice@example.org');
        assert.ok(rec);
        assert.equal(rec.jid, 'alice@example.org');
        assert.deepEqual(rec.credentials, credentials('a'));
        assert.equal(typeof rec.createdAt, 'number');
        assert.ok(rec.createdAt >= before - 1000 && rec.createdAt <= Date.now() + 1000);
      });

      it('returns undefined for an unknown account', async () => {
        assert.equal(await s.accounts.get('nobody@example.org'), undefined);
      });

      it('refuses a duplicate account with AccountExistsError and keeps the original', async () => {
        await s.accounts.create('alice@example.org', credentials('a'));
        await assert.rejects(s.accounts.create('alice@example.org', credentials('b')), (err: unknown) => {
          assert.ok(err instanceof AccountExistsError);
          assert.equal(err.code, 'ACCOUNT_EXISTS');
          return true;
        });
        assert.deepEqual((await s.accounts.get('alice@example.org'))?.credentials, credentials('a'));
      });

      it('does not let callers mutate stored credentials through returned objects', async () => {
        const creds = credentials('a');
        await s.accounts.create('alice@example.org', creds);
        creds['SHA-1'].iterations = 1;
        const rec = await s.accounts.get('alice@example.org');
        assert.equal(rec?.credentials['SHA-1'].iterations, 4096);
        rec!.credentials['SHA-256'].salt = 'changed';
        assert.deepEqual((await s.accounts.get('alice@example.org'))?.credentials, credentials('a'));
      });

      it('sets credentials of existing accounts only', async () => {
        await s.accounts.create('alice@example.org', credentials('a'));
        assert.equal(await s.accounts.setCredentials('alice@example.org', credentials('new')), true);
        assert.deepEqual((await s.accounts.get('alice@example.org'))?.credentials, credentials('new'));
        assert.equal(await s.accounts.setCredentials('ghost@example.org', credentials('x')), false);
        assert.equal(await s.accounts.get('ghost@example.org'), undefined);
      });

      it('lists sorted bare JIDs, optionally for one domain', async () => {
        for (const jid of ['zed@b.example', 'bob@a.example', 'alice@b.example', 'carol@a.example']) {
          await s.accounts.create(jid, credentials(jid));
        }
        assert.deepEqual(await s.accounts.list(), ['alice@b.example', 'bob@a.example', 'carol@a.example', 'zed@b.example']);
        assert.deepEqual(await s.accounts.list('a.example'), ['bob@a.example', 'carol@a.example']);
        assert.deepEqual(await s.accounts.list('b.example'), ['alice@b.example', 'zed@b.example']);
        assert.deepEqual(await s.accounts.list('c.example'), []);
      });

      it('lists nothing when empty', async () => {
        assert.deepEqual(await s.accounts.list(), []);
      });

      it('delete returns false for an unknown account', async () => {
        assert.equal(await s.accounts.delete('ghost@example.org'), false);
      });

      it('delete removes the account and everything it owns, and nothing else', async () => {
        const alice = 'alice@example.org';
        const bob = 'bob@example.org';
        for (const jid of [alice, bob]) {
          await s.accounts.create(jid, credentials(jid));
          await s.roster.putItem(jid, { jid: 'carol@example.org', subscription: 'both', groups: ['Friends'] });
          await s.roster.addPendingIn(jid, { from: 'dave@example.org', stanza: '<presence type="subscribe"/>' });
          await s.offline.push(jid, { stanza: '<message/>', storedAt: 1 });
          await newNode(jid, 'urn:xmpp:microblog:0');
          await s.pubsub.publishItem(item(jid, 'urn:xmpp:microblog:0', 'i1'), undefined);
          await s.pubsub.setAffiliation(jid, 'urn:xmpp:microblog:0', 'carol@example.org', 'member');
          await s.pubsub.setSubscription(jid, 'urn:xmpp:microblog:0', 'carol@example.org/r', 'subscribed');
        }
        // Bob has Alice in his roster: account deletion must leave that to the roster module.
        await s.roster.putItem(bob, { jid: alice, subscription: 'to', groups: [] });

        assert.equal(await s.accounts.delete(alice), true);
        assert.equal(await s.accounts.get(alice), undefined);
        assert.deepEqual(await s.accounts.list(), [bob]);
        assert.deepEqual((await s.roster.get(alice)).items, []);
        assert.equal(await s.roster.getItem(alice, 'carol@example.org'), undefined);
        assert.deepEqual(await s.roster.listPendingIn(alice), []);
        assert.equal(await s.offline.count(alice), 0);
        assert.deepEqual(await s.pubsub.listNodes(alice), []);
        assert.equal(await s.pubsub.getNode(alice, 'urn:xmpp:microblog:0'), undefined);
        assert.deepEqual(await s.pubsub.getItems(alice, 'urn:xmpp:microblog:0'), []);

        // Bob untouched, including his roster entry for Alice.
        assert.ok(await s.accounts.get(bob));
        assert.deepEqual(ids((await s.roster.get(bob)).items.map((i) => ({ id: i.jid }))), [alice, 'carol@example.org']);
        assert.equal((await s.roster.listPendingIn(bob)).length, 1);
        assert.equal(await s.offline.count(bob), 1);
        assert.equal(await s.pubsub.countItems(bob, 'urn:xmpp:microblog:0'), 1);
        assert.equal((await s.pubsub.getAffiliations(bob, 'urn:xmpp:microblog:0')).size, 1);
        assert.equal((await s.pubsub.getSubscriptions(bob, 'urn:xmpp:microblog:0')).size, 1);

        // A re-created account starts empty, and its old node does not come back with old state.
        await s.accounts.create(alice, credentials('again'));
        assert.deepEqual((await s.roster.get(alice)).items, []);
        assert.equal(await newNode(alice, 'urn:xmpp:microblog:0'), true);
        assert.equal(await s.pubsub.countItems(alice, 'urn:xmpp:microblog:0'), 0);
        assert.equal((await s.pubsub.getAffiliations(alice, 'urn:xmpp:microblog:0')).size, 0);
        assert.equal((await s.pubsub.getSubscriptions(alice, 'urn:xmpp:microblog:0')).size, 0);
      });
    });

    // ------------------------------------------------------------------ roster
    describe('roster', () => {
      const owner = 'alice@example.org';

      it('an unknown owner has an empty roster with a version', async () => {
        const r = await s.roster.get(owner);
        assert.deepEqual(r.items, []);
        assert.equal(typeof r.version, 'string');
      });

      it('putItem stores items, sorted by JID, and round-trips optional fields exactly', async () => {
        const full: RosterItem = {
          jid: 'zoe@example.org',
          name: 'Zoë',
          subscription: 'from',
          ask: 'subscribe',
          approved: true,
          groups: ['Friends', 'Work'],
        };
        const bare: RosterItem = { jid: 'bob@example.org', subscription: 'none', groups: [] };
        const notApproved: RosterItem = { jid: 'carl@example.org', subscription: 'to', approved: false, groups: ['X'] };
        await s.roster.putItem(owner, full);
        await s.roster.putItem(owner, bare);
        await s.roster.putItem(owner, notApproved);
        const r = await s.roster.get(owner);
        assert.deepEqual(r.items, [bare, notApproved, full]);
        assert.deepEqual(await s.roster.getItem(owner, 'zoe@example.org'), full);
        assert.deepEqual(await s.roster.getItem(owner, 'bob@example.org'), bare);
        assert.equal(await s.roster.getItem(owner, 'nobody@example.org'), undefined);
      });

      it('every modification changes the version, and get reports the latest', async () => {
        const seen = new Set<string>([(await s.roster.get(owner)).version]);
        const v1 = await s.roster.putItem(owner, { jid: 'bob@example.org', subscription: 'none', groups: [] });
        const v2 = await s.roster.putItem(owner, { jid: 'bob@example.org', subscription: 'to', groups: ['G'] });
        const v3 = await s.roster.putItem(owner, { jid: 'carl@example.org', subscription: 'none', groups: [] });
        const v4 = await s.roster.removeItem(owner, 'bob@example.org');
        for (const v of [v1, v2, v3, v4]) {
          assert.equal(typeof v, 'string');
          assert.ok(!seen.has(v!), `version ${v} repeated`);
          seen.add(v!);
        }
        assert.equal((await s.roster.get(owner)).version, v4);
      });

      it('putItem replaces an existing item', async () => {
        await s.roster.putItem(owner, { jid: 'bob@example.org', name: 'Bob', subscription: 'none', ask: 'subscribe', groups: ['A'] });
        await s.roster.putItem(owner, { jid: 'bob@example.org', subscription: 'both', groups: ['B', 'C'] });
        assert.deepEqual((await s.roster.get(owner)).items, [{ jid: 'bob@example.org', subscription: 'both', groups: ['B', 'C'] }]);
      });

      it('removeItem returns undefined and keeps the version when there was no item', async () => {
        const v = await s.roster.putItem(owner, { jid: 'bob@example.org', subscription: 'none', groups: [] });
        assert.equal(await s.roster.removeItem(owner, 'nobody@example.org'), undefined);
        assert.equal(await s.roster.removeItem('other@example.org', 'bob@example.org'), undefined);
        assert.equal((await s.roster.get(owner)).version, v);
        assert.notEqual(await s.roster.removeItem(owner, 'bob@example.org'), undefined);
        assert.deepEqual((await s.roster.get(owner)).items, []);
      });

      it('rosters of different owners are independent', async () => {
        await s.roster.putItem(owner, { jid: 'bob@example.org', subscription: 'none', groups: [] });
        await s.roster.putItem('bob@example.org', { jid: owner, subscription: 'both', groups: [] });
        assert.deepEqual(ids((await s.roster.get(owner)).items.map((i) => ({ id: i.jid }))), ['bob@example.org']);
        assert.deepEqual(ids((await s.roster.get('bob@example.org')).items.map((i) => ({ id: i.jid }))), [owner]);
      });

      it('does not let callers mutate stored items through arguments or results', async () => {
        const it1: RosterItem = { jid: 'bob@example.org', subscription: 'none', groups: ['A'] };
        await s.roster.putItem(owner, it1);
        it1.groups.push('B');
        const got = await s.roster.getItem(owner, 'bob@example.org');
        assert.deepEqual(got?.groups, ['A']);
        got!.groups.push('C');
        assert.deepEqual((await s.roster.get(owner)).items[0].groups, ['A']);
      });

      it('keeps pending-in requests in arrival order; a repeat replaces the stanza in place', async () => {
        await s.roster.addPendingIn(owner, { from: 'bob@example.org', stanza: '<presence from="bob" type="subscribe"/>' });
        await s.roster.addPendingIn(owner, { from: 'carl@example.org', stanza: '<presence from="carl" type="subscribe"/>' });
        await s.roster.addPendingIn(owner, { from: 'bob@example.org', stanza: '<presence from="bob" type="subscribe"><status>again</status></presence>' });
        assert.deepEqual(await s.roster.listPendingIn(owner), [
          { from: 'bob@example.org', stanza: '<presence from="bob" type="subscribe"><status>again</status></presence>' },
          { from: 'carl@example.org', stanza: '<presence from="carl" type="subscribe"/>' },
        ]);
        assert.deepEqual(await s.roster.listPendingIn('other@example.org'), []);
      });

      it('removePendingIn reports whether something was removed', async () => {
        await s.roster.addPendingIn(owner, { from: 'bob@example.org', stanza: '<presence/>' });
        assert.equal(await s.roster.removePendingIn(owner, 'carl@example.org'), false);
        assert.equal(await s.roster.removePendingIn('other@example.org', 'bob@example.org'), false);
        assert.equal(await s.roster.removePendingIn(owner, 'bob@example.org'), true);
        assert.equal(await s.roster.removePendingIn(owner, 'bob@example.org'), false);
        assert.deepEqual(await s.roster.listPendingIn(owner), []);
      });

      it('pending-in requests do not touch the roster', async () => {
        const v = (await s.roster.get(owner)).version;
        await s.roster.addPendingIn(owner, { from: 'bob@example.org', stanza: '<presence/>' });
        const r = await s.roster.get(owner);
        assert.equal(r.version, v);
        assert.deepEqual(r.items, []);
      });
    });

    // ------------------------------------------------------------------ offline
    describe('offline', () => {
      const owner = 'alice@example.org';

      it('takeAll returns messages oldest first and empties the queue', async () => {
        await s.offline.push(owner, { stanza: '<message id="1"/>', storedAt: 300 });
        await s.offline.push(owner, { stanza: '<message id="2"/>', storedAt: 100 });
        await s.offline.push(owner, { stanza: '<message id="3"/>', storedAt: 200 });
        await s.offline.push('bob@example.org', { stanza: '<message id="b"/>', storedAt: 1 });
        assert.equal(await s.offline.count(owner), 3);
        // Arrival order, not storedAt order: the clock may step back.
        assert.deepEqual(await s.offline.takeAll(owner), [
          { stanza: '<message id="1"/>', storedAt: 300 },
          { stanza: '<message id="2"/>', storedAt: 100 },
          { stanza: '<message id="3"/>', storedAt: 200 },
        ]);
        assert.equal(await s.offline.count(owner), 0);
        assert.deepEqual(await s.offline.takeAll(owner), []);
        assert.equal(await s.offline.count('bob@example.org'), 1);
      });

      it('an unknown owner has nothing', async () => {
        assert.equal(await s.offline.count(owner), 0);
        assert.deepEqual(await s.offline.takeAll(owner), []);
      });

      it('messages pushed after a takeAll are kept', async () => {
        await s.offline.push(owner, { stanza: '<message id="1"/>', storedAt: 1 });
        await s.offline.takeAll(owner);
        await s.offline.push(owner, { stanza: '<message id="2"/>', storedAt: 2 });
        assert.deepEqual(await s.offline.takeAll(owner), [{ stanza: '<message id="2"/>', storedAt: 2 }]);
      });

      it('concurrent takeAll calls hand each message out once', async () => {
        for (let i = 0; i < 10; i++) await s.offline.push(owner, { stanza: `<message id="${i}"/>`, storedAt: i });
        const [a, b] = await Promise.all([s.offline.takeAll(owner), s.offline.takeAll(owner)]);
        assert.equal(a.length + b.length, 10);
        assert.ok(a.length === 0 || b.length === 0);
      });

      it('size counts the messages and their UTF-8 bytes per owner', async () => {
        assert.deepEqual(await s.offline.size(owner), { messages: 0, bytes: 0 });
        await s.offline.push(owner, { stanza: '<message id="1"/>', storedAt: 1 });
        await s.offline.push(owner, { stanza: '<message id="é€𝄞"/>', storedAt: 2 });
        await s.offline.push('bob@example.org', { stanza: '<message/>', storedAt: 3 });
        assert.deepEqual(await s.offline.size(owner), { messages: 2, bytes: 17 + Buffer.byteLength('<message id="é€𝄞"/>') });
        await s.offline.takeAll(owner);
        assert.deepEqual(await s.offline.size(owner), { messages: 0, bytes: 0 });
      });

      it('keeps the verbatim mark, and its absence', async () => {
        await s.offline.push(owner, { stanza: '<message id="1"/>', storedAt: 1, verbatim: true });
        await s.offline.push(owner, { stanza: '<message id="2"/>', storedAt: 2 });
        assert.deepEqual(await s.offline.takeAll(owner), [
          { stanza: '<message id="1"/>', storedAt: 1, verbatim: true },
          { stanza: '<message id="2"/>', storedAt: 2 },
        ]);
      });
    });

    // ------------------------------------------------------------------ caps
    describe('caps', () => {
      const info = {
        identities: [
          { category: 'client', type: 'pc', name: 'Psi 0.11', lang: 'en' },
          { category: 'client', type: 'pc' },
        ],
        features: ['http://jabber.org/protocol/caps', 'http://jabber.org/protocol/disco#info'],
        forms: ['<x xmlns="jabber:x:data" type="result"/>'],
      };

      it('stores and returns entries by key', async () => {
        assert.equal(await s.caps.get('sha-1:QgayPKawpkPSDYmwT/WM94uAlu0='), undefined);
        await s.caps.put('sha-1:QgayPKawpkPSDYmwT/WM94uAlu0=', info);
        assert.deepEqual(await s.caps.get('sha-1:QgayPKawpkPSDYmwT/WM94uAlu0='), info);
        assert.equal(await s.caps.get('sha-1:other'), undefined);
      });

      it('put replaces an entry', async () => {
        await s.caps.put('sha-1:k', info);
        await s.caps.put('sha-1:k', { identities: [], features: ['urn:x'], forms: [] });
        assert.deepEqual(await s.caps.get('sha-1:k'), { identities: [], features: ['urn:x'], forms: [] });
      });

      it('prune keeps the most recently put or touched entries', async () => {
        const e = (n: number) => ({ identities: [], features: [`urn:f${n}`], forms: [] });
        for (let i = 0; i < 5; i++) await s.caps.put(`sha-1:${i}`, e(i));
        await s.caps.touch('sha-1:0');
        await s.caps.touch('sha-1:absent');
        await s.caps.put('sha-1:2', e(22));
        assert.equal(await s.caps.prune(3), 2);
        const left = [];
        for (let i = 0; i < 5; i++) if (await s.caps.get(`sha-1:${i}`)) left.push(i);
        assert.deepEqual(left, [0, 2, 4]);
        assert.equal(await s.caps.get('sha-1:absent'), undefined);
        assert.equal(await s.caps.prune(3), 0);
        assert.equal(await s.caps.prune(1), 2);
        assert.deepEqual(await s.caps.get('sha-1:2'), e(22));
      });
    });

    // ------------------------------------------------------------------ pubsub nodes
    describe('pubsub nodes', () => {
      const svc = 'alice@example.org';

      it('creates a node once; a duplicate returns false and changes nothing', async () => {
        assert.equal(await newNode(svc, 'n', { max_items: '10', access_model: 'presence' }), true);
        assert.equal(await newNode(svc, 'n', { max_items: '1' }), false);
        assert.deepEqual(await s.pubsub.getNode(svc, 'n'), {
          service: svc,
          node: 'n',
          config: { max_items: '10', access_model: 'presence' },
          createdAt: 1_700_000_000_000,
        });
      });

      it('getNode returns undefined for unknown nodes and services', async () => {
        await newNode(svc, 'n');
        assert.equal(await s.pubsub.getNode(svc, 'm'), undefined);
        assert.equal(await s.pubsub.getNode('bob@example.org', 'n'), undefined);
      });

      it('the same node name on two services is two nodes', async () => {
        assert.equal(await newNode(svc, 'n'), true);
        assert.equal(await newNode('bob@example.org', 'n'), true);
        await s.pubsub.publishItem(item(svc, 'n', 'a'), undefined);
        assert.equal(await s.pubsub.countItems('bob@example.org', 'n'), 0);
      });

      it('listNodes returns one service\'s nodes sorted by name', async () => {
        await newNode(svc, 'urn:xmpp:tune');
        await newNode(svc, 'urn:xmpp:avatar:data');
        await newNode(svc, 'urn:xmpp:openpgp:0');
        await newNode('bob@example.org', 'urn:xmpp:avatar:data');
        assert.deepEqual(
          (await s.pubsub.listNodes(svc)).map((n) => n.node),
          ['urn:xmpp:avatar:data', 'urn:xmpp:openpgp:0', 'urn:xmpp:tune'],
        );
        assert.deepEqual(await s.pubsub.listNodes('carol@example.org'), []);
      });

      it('updateConfig replaces the whole configuration; unknown nodes give false', async () => {
        await newNode(svc, 'n', { max_items: '10', access_model: 'presence' });
        const cfg = { max_items: 'max', roster_groups_allowed: ['Friends', 'Family'] };
        assert.equal(await s.pubsub.updateConfig(svc, 'n', cfg), true);
        assert.deepEqual((await s.pubsub.getNode(svc, 'n'))?.config, cfg);
        assert.equal(await s.pubsub.updateConfig(svc, 'missing', cfg), false);
        assert.equal(await s.pubsub.getNode(svc, 'missing'), undefined);
      });

      it('config objects are not shared with callers', async () => {
        const cfg: Record<string, string | string[]> = { groups: ['A'] };
        await newNode(svc, 'n', cfg);
        (cfg.groups as string[]).push('B');
        const rec = await s.pubsub.getNode(svc, 'n');
        assert.deepEqual(rec?.config, { groups: ['A'] });
        (rec!.config.groups as string[]).push('C');
        assert.deepEqual((await s.pubsub.getNode(svc, 'n'))?.config, { groups: ['A'] });
      });

      it('deleteNode removes the node with items, affiliations and subscriptions', async () => {
        await newNode(svc, 'n');
        await newNode(svc, 'keep');
        await s.pubsub.publishItem(item(svc, 'n', 'a'), undefined);
        await s.pubsub.publishItem(item(svc, 'keep', 'a'), undefined);
        await s.pubsub.setAffiliation(svc, 'n', 'bob@example.org', 'publisher');
        await s.pubsub.setSubscription(svc, 'n', 'bob@example.org', 'subscribed');
        assert.equal(await s.pubsub.deleteNode(svc, 'n'), true);
        assert.equal(await s.pubsub.deleteNode(svc, 'n'), false);
        assert.equal(await s.pubsub.getNode(svc, 'n'), undefined);
        assert.deepEqual(await s.pubsub.getItems(svc, 'n'), []);
        assert.equal(await s.pubsub.countItems(svc, 'n'), 0);
        assert.equal((await s.pubsub.getAffiliations(svc, 'n')).size, 0);
        assert.equal((await s.pubsub.getSubscriptions(svc, 'n')).size, 0);
        // Re-creating starts from nothing.
        assert.equal(await newNode(svc, 'n'), true);
        assert.equal(await s.pubsub.countItems(svc, 'n'), 0);
        assert.equal((await s.pubsub.getAffiliations(svc, 'n')).size, 0);
        assert.equal(await s.pubsub.countItems(svc, 'keep'), 1);
      });

      it('deleteService removes every node of that service only', async () => {
        await newNode(svc, 'a');
        await newNode(svc, 'b');
        await newNode('bob@example.org', 'a');
        await s.pubsub.publishItem(item(svc, 'a', '1'), undefined);
        await s.pubsub.setAffiliation(svc, 'b', 'x@example.org', 'member');
        await s.pubsub.publishItem(item('bob@example.org', 'a', '1'), undefined);
        await s.pubsub.deleteService(svc);
        assert.deepEqual(await s.pubsub.listNodes(svc), []);
        assert.deepEqual(await s.pubsub.getItems(svc, 'a'), []);
        assert.equal(await s.pubsub.countItems('bob@example.org', 'a'), 1);
        await s.pubsub.deleteService('nobody@example.org'); // no error on an empty service
        assert.equal(await newNode(svc, 'b'), true);
        assert.equal((await s.pubsub.getAffiliations(svc, 'b')).size, 0);
      });
    });

    // ------------------------------------------------------------------ pubsub items
    describe('pubsub items', () => {
      const svc = 'alice@example.org';
      const node = 'urn:xmpp:microblog:0';

      beforeEach(async () => {
        await newNode(svc, node);
      });

      const publish = (id: string, maxItems?: number, extra: Partial<PubsubItemRecord> = {}) =>
        s.pubsub.publishItem(item(svc, node, id, extra), maxItems);
      const publishAll = async (list: string[]) => {
        for (const id of list) await publish(id);
      };

      it('stores items and returns them newest first with every field', async () => {
        await publish('a', undefined, { publishedAt: 10 });
        await publish('b', undefined, { publishedAt: 5, publisher: 'bob@example.org/phone', payload: '<x xmlns="y">é &amp; ü</x>' });
        assert.deepEqual(await s.pubsub.getItems(svc, node), [
          { service: svc, node, id: 'b', publisher: 'bob@example.org/phone', payload: '<x xmlns="y">é &amp; ü</x>', publishedAt: 5 },
          item(svc, node, 'a', { publishedAt: 10 }),
        ]);
        assert.equal(await s.pubsub.countItems(svc, node), 2);
      });

      it('publishing to a missing node rejects with NodeNotFoundError', async () => {
        await assert.rejects(s.pubsub.publishItem(item(svc, 'missing', 'a'), undefined), (err: unknown) => {
          assert.ok(err instanceof NodeNotFoundError);
          assert.equal(err.code, 'PUBSUB_NODE_NOT_FOUND');
          return true;
        });
        assert.equal(await s.pubsub.getNode(svc, 'missing'), undefined);
      });

      it('republishing an id replaces it and moves it to newest', async () => {
        await publishAll(['a', 'b', 'c']);
        const r = await publish('a', undefined, { payload: '<new/>', publishedAt: 99, publisher: 'alice@example.org/other' });
        assert.deepEqual(r.evicted, []);
        const items = await s.pubsub.getItems(svc, node);
        assert.deepEqual(ids(items), ['a', 'c', 'b']);
        assert.deepEqual(items[0], item(svc, node, 'a', { payload: '<new/>', publishedAt: 99, publisher: 'alice@example.org/other' }));
        assert.equal(await s.pubsub.countItems(svc, node), 3);
      });

      it('trims to maxItems newest and returns evicted ids oldest first', async () => {
        assert.deepEqual((await publish('a', 3)).evicted, []);
        assert.deepEqual((await publish('b', 3)).evicted, []);
        assert.deepEqual((await publish('c', 3)).evicted, []);
        assert.deepEqual((await publish('d', 3)).evicted, ['a']);
        assert.deepEqual(ids(await s.pubsub.getItems(svc, node)), ['d', 'c', 'b']);
        // A lowered limit evicts several at once.
        assert.deepEqual((await publish('e', 1)).evicted, ['b', 'c', 'd']);
        assert.deepEqual(ids(await s.pubsub.getItems(svc, node)), ['e']);
      });

      it('republishing at the limit evicts nothing; undefined maxItems never trims', async () => {
        await publish('a', 2);
        await publish('b', 2);
        assert.deepEqual((await publish('a', 2)).evicted, []);
        assert.deepEqual(ids(await s.pubsub.getItems(svc, node)), ['a', 'b']);
        assert.deepEqual((await publish('c', 2)).evicted, ['b']);
        for (let i = 0; i < 20; i++) assert.deepEqual((await publish(`u${i}`)).evicted, []);
        assert.equal(await s.pubsub.countItems(svc, node), 22);
      });

      it('maxItems 1 keeps only the latest item (PEP singleton nodes)', async () => {
        await publish('current', 1);
        assert.deepEqual((await publish('next', 1)).evicted, ['current']);
        assert.deepEqual((await publish('next', 1)).evicted, []);
        assert.deepEqual(ids(await s.pubsub.getItems(svc, node)), ['next']);
      });

      describe('getItems queries', () => {
        // Newest first: e d c b a
        beforeEach(async () => {
          await publishAll(['a', 'b', 'c', 'd', 'e']);
        });
        const q = async (query: Parameters<Storage['pubsub']['getItems']>[2]) => ids(await s.pubsub.getItems(svc, node, query));

        it('no query and an empty query return everything newest first', async () => {
          assert.deepEqual(ids(await s.pubsub.getItems(svc, node)), ['e', 'd', 'c', 'b', 'a']);
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
        it('after: strictly older than the anchor', async () => {
          assert.deepEqual(await q({ after: 'd' }), ['c', 'b', 'a']);
          assert.deepEqual(await q({ after: 'd', max: 2 }), ['c', 'b']);
          assert.deepEqual(await q({ after: 'a' }), []);
          assert.deepEqual(await q({ after: 'e', max: 1 }), ['d']);
        });
        it('before: strictly newer than the anchor; with max the page adjacent to it', async () => {
          assert.deepEqual(await q({ before: 'b' }), ['e', 'd', 'c']);
          assert.deepEqual(await q({ before: 'b', max: 2 }), ['d', 'c']);
          assert.deepEqual(await q({ before: 'e' }), []);
          assert.deepEqual(await q({ before: 'a', max: 1 }), ['b']);
        });
        it('before empty string is the last page (XEP-0059 §2.5)', async () => {
          assert.deepEqual(await q({ before: '', max: 2 }), ['b', 'a']);
          assert.deepEqual(await q({ before: '' }), ['e', 'd', 'c', 'b', 'a']);
        });
        it('after and before together give the range between', async () => {
          assert.deepEqual(await q({ after: 'e', before: 'a' }), ['d', 'c', 'b']);
          assert.deepEqual(await q({ after: 'e', before: 'a', max: 2 }), ['c', 'b']);
          assert.deepEqual(await q({ after: 'b', before: 'd' }), []);
        });
        it('an unknown anchor yields nothing', async () => {
          assert.deepEqual(await q({ after: 'zz' }), []);
          assert.deepEqual(await q({ before: 'zz', max: 2 }), []);
        });
        it('paging with after walks the whole node once', async () => {
          const seen: string[] = [];
          let after: string | undefined;
          for (;;) {
            const page = await q({ max: 2, after });
            if (page.length === 0) break;
            seen.push(...page);
            after = page[page.length - 1];
          }
          assert.deepEqual(seen, ['e', 'd', 'c', 'b', 'a']);
        });
        it('order follows republishes', async () => {
          await publish('b');
          assert.deepEqual(await q({ max: 2 }), ['b', 'e']);
          assert.deepEqual(await q({ after: 'c' }), ['a']);
        });
        it('missing nodes have no items', async () => {
          assert.deepEqual(ids(await s.pubsub.getItems(svc, 'missing')), []);
          assert.deepEqual(ids(await s.pubsub.getItems('bob@example.org', node, { max: 1 })), []);
          assert.equal(await s.pubsub.countItems(svc, 'missing'), 0);
        });
      });

      it('retractItem removes one item and reports whether it existed', async () => {
        await publishAll(['a', 'b', 'c']);
        assert.equal(await s.pubsub.retractItem(svc, node, 'b'), true);
        assert.equal(await s.pubsub.retractItem(svc, node, 'b'), false);
        assert.equal(await s.pubsub.retractItem(svc, 'missing', 'a'), false);
        assert.deepEqual(ids(await s.pubsub.getItems(svc, node)), ['c', 'a']);
        // A new item after retracting the newest is still newest.
        assert.equal(await s.pubsub.retractItem(svc, node, 'c'), true);
        await publish('d');
        assert.deepEqual(ids(await s.pubsub.getItems(svc, node)), ['d', 'a']);
        // Republishing the newest keeps it newest; republishing an older one moves it to newest; after a
        // purge the order starts again from the first publish.
        await publish('d');
        await publish('a');
        await publish('e');
        assert.deepEqual(ids(await s.pubsub.getItems(svc, node)), ['e', 'a', 'd']);
        assert.deepEqual(ids(await s.pubsub.getItems(svc, node, { max: 1, after: 'a' })), ['d']);
        await s.pubsub.purgeNode(svc, node);
        await publishAll(['f', 'g']);
        assert.deepEqual(ids(await s.pubsub.getItems(svc, node)), ['g', 'f']);
      });

      it('purgeNode removes every item and returns how many, keeping the node', async () => {
        await publishAll(['a', 'b', 'c']);
        await s.pubsub.setAffiliation(svc, node, 'bob@example.org', 'member');
        assert.equal(await s.pubsub.purgeNode(svc, node), 3);
        assert.equal(await s.pubsub.purgeNode(svc, node), 0);
        assert.equal(await s.pubsub.purgeNode(svc, 'missing'), 0);
        assert.equal(await s.pubsub.countItems(svc, node), 0);
        assert.ok(await s.pubsub.getNode(svc, node));
        assert.equal((await s.pubsub.getAffiliations(svc, node)).get('bob@example.org'), 'member');
        await publish('z');
        assert.deepEqual(ids(await s.pubsub.getItems(svc, node)), ['z']);
      });

      it('500 publishes issued without awaiting in between all persist, in issue order', async () => {
        const n = 500;
        const results = await Promise.all(Array.from({ length: n }, (_, i) => publish(`item-${i}`)));
        assert.equal(results.length, n);
        for (const r of results) assert.deepEqual(r.evicted, []);
        assert.equal(await s.pubsub.countItems(svc, node), n);
        const got = ids(await s.pubsub.getItems(svc, node));
        assert.deepEqual(got, Array.from({ length: n }, (_, i) => `item-${n - 1 - i}`));
      });

      it('concurrent publishes with maxItems trim consistently', async () => {
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => publish(`i${i}`, 10)));
        const evicted = results.flatMap((r) => r.evicted);
        assert.deepEqual(evicted, Array.from({ length: 40 }, (_, i) => `i${i}`));
        assert.deepEqual(ids(await s.pubsub.getItems(svc, node)), Array.from({ length: 10 }, (_, i) => `i${49 - i}`));
      });

      it('a read issued right after a write (not awaited) sees it', async () => {
        const write = publish('fresh');
        const count = s.pubsub.countItems(svc, node);
        const items = s.pubsub.getItems(svc, node);
        await write;
        assert.equal(await count, 1);
        assert.deepEqual(ids(await items), ['fresh']);
      });
    });

    // ------------------------------------------------------------------ affiliations and subscriptions
    describe('pubsub affiliations and subscriptions', () => {
      const svc = 'alice@example.org';
      const node = 'n';
      beforeEach(async () => {
        await newNode(svc, node);
      });

      it('sets, replaces and removes affiliations (none removes)', async () => {
        assert.deepEqual(await s.pubsub.getAffiliations(svc, node), new Map());
        await s.pubsub.setAffiliation(svc, node, svc, 'owner');
        await s.pubsub.setAffiliation(svc, node, 'bob@example.org', 'publisher');
        await s.pubsub.setAffiliation(svc, node, 'eve@example.org', 'outcast');
        await s.pubsub.setAffiliation(svc, node, 'bob@example.org', 'publish-only');
        assert.deepEqual(
          await s.pubsub.getAffiliations(svc, node),
          new Map([
            [svc, 'owner'],
            ['bob@example.org', 'publish-only'],
            ['eve@example.org', 'outcast'],
          ]),
        );
        await s.pubsub.setAffiliation(svc, node, 'bob@example.org', 'none');
        await s.pubsub.setAffiliation(svc, node, 'nobody@example.org', 'none'); // removing nothing is fine
        assert.deepEqual(
          await s.pubsub.getAffiliations(svc, node),
          new Map([
            [svc, 'owner'],
            ['eve@example.org', 'outcast'],
          ]),
        );
        await s.pubsub.setAffiliation(svc, node, 'carol@example.org', 'member');
        assert.equal((await s.pubsub.getAffiliations(svc, node)).get('carol@example.org'), 'member');
      });

      it('sets, replaces and removes subscriptions for full and bare JIDs (none removes)', async () => {
        await s.pubsub.setSubscription(svc, node, 'bob@example.org/phone', 'pending');
        await s.pubsub.setSubscription(svc, node, 'bob@example.org', 'subscribed');
        await s.pubsub.setSubscription(svc, node, 'carol@example.org', 'unconfigured');
        await s.pubsub.setSubscription(svc, node, 'bob@example.org/phone', 'subscribed');
        assert.deepEqual(
          await s.pubsub.getSubscriptions(svc, node),
          new Map([
            ['bob@example.org/phone', 'subscribed'],
            ['bob@example.org', 'subscribed'],
            ['carol@example.org', 'unconfigured'],
          ]),
        );
        await s.pubsub.setSubscription(svc, node, 'bob@example.org', 'none');
        assert.deepEqual(
          await s.pubsub.getSubscriptions(svc, node),
          new Map([
            ['bob@example.org/phone', 'subscribed'],
            ['carol@example.org', 'unconfigured'],
          ]),
        );
      });

      it('affiliations and subscriptions are per node', async () => {
        await newNode(svc, 'other');
        await s.pubsub.setAffiliation(svc, node, 'bob@example.org', 'member');
        await s.pubsub.setSubscription(svc, node, 'bob@example.org', 'subscribed');
        assert.equal((await s.pubsub.getAffiliations(svc, 'other')).size, 0);
        assert.equal((await s.pubsub.getSubscriptions(svc, 'other')).size, 0);
      });

      it('unknown nodes have none, and setting one on an unknown node rejects', async () => {
        assert.equal((await s.pubsub.getAffiliations(svc, 'missing')).size, 0);
        assert.equal((await s.pubsub.getSubscriptions(svc, 'missing')).size, 0);
        await assert.rejects(s.pubsub.setAffiliation(svc, 'missing', 'bob@example.org', 'member'), NodeNotFoundError);
        await assert.rejects(s.pubsub.setSubscription(svc, 'missing', 'bob@example.org', 'subscribed'), NodeNotFoundError);
      });
    });

    // ------------------------------------------------------------------ batches and closing
    describe('concurrency and close', () => {
      it('a failing operation does not affect operations issued alongside it', async () => {
        await s.accounts.create('alice@example.org', credentials('a'));
        const results = await Promise.allSettled([
          s.roster.putItem('alice@example.org', { jid: 'bob@example.org', subscription: 'none', groups: [] }),
          s.accounts.create('alice@example.org', credentials('dup')),
          s.pubsub.publishItem(item('alice@example.org', 'missing', 'x'), undefined),
          s.offline.push('alice@example.org', { stanza: '<message/>', storedAt: 1 }),
          s.accounts.create('bob@example.org', credentials('b')),
        ]);
        assert.deepEqual(
          results.map((r) => r.status),
          ['fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled'],
        );
        assert.ok(await s.roster.getItem('alice@example.org', 'bob@example.org'));
        assert.equal(await s.offline.count('alice@example.org'), 1);
        assert.deepEqual(await s.accounts.list(), ['alice@example.org', 'bob@example.org']);
        assert.deepEqual((await s.accounts.get('alice@example.org'))?.credentials, credentials('a'));
      });

      it('interleaved writes and reads to many stores in one burst all apply in order', async () => {
        const owner = 'alice@example.org';
        const ops: Promise<unknown>[] = [];
        for (let i = 0; i < 100; i++) {
          ops.push(s.roster.putItem(owner, { jid: `c${String(i).padStart(3, '0')}@example.org`, subscription: 'none', groups: [] }));
          ops.push(s.offline.push(owner, { stanza: `<message id="${i}"/>`, storedAt: i }));
          ops.push(s.caps.put(`sha-1:${i}`, { identities: [], features: [`f${i}`], forms: [] }));
        }
        const counted = s.offline.count(owner);
        const versions = (await Promise.all(ops)).filter((_, i) => i % 3 === 0) as string[];
        assert.equal(new Set(versions).size, 100);
        assert.equal(await counted, 100);
        const roster = await s.roster.get(owner);
        assert.equal(roster.items.length, 100);
        assert.equal(roster.version, versions[99]);
        assert.deepEqual((await s.offline.takeAll(owner)).map((m) => m.storedAt), Array.from({ length: 100 }, (_, i) => i));
        assert.deepEqual((await s.caps.get('sha-1:42'))?.features, ['f42']);
      });

      it('close waits for writes issued before it, is idempotent, and refuses later operations', async () => {
        const pending = s.caps.put('sha-1:k', { identities: [], features: ['x'], forms: [] });
        await s.close();
        await pending;
        await s.close();
        await assert.rejects(s.caps.get('sha-1:k'), (err: unknown) => (err as { code?: string }).code === 'STORAGE_CLOSED');
        await assert.rejects(s.caps.put('sha-1:j', { identities: [], features: [], forms: [] }), (err: unknown) => (err as { code?: string }).code === 'STORAGE_CLOSED');
      });
    });
  });
}
