// The RosterStore contract (RFC 6121 rosters, versions, pending inbound subscriptions).
// Part of the storage contract (./storage-contract.ts runs every part against every adapter).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RosterItem, RosterStore } from '../../src/storage/types.ts';
import { ids } from './fixtures.ts';

/** Registers the roster tests; `roster()` is the store under test, empty at the start of each test. */
export function rosterContract(roster: () => RosterStore): void {
  describe('roster', () => {
    const owner = 'alice@example.org';

    it('an unknown owner has an empty roster with a version', async () => {
      const r = await roster().get(owner);
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
      await roster().putItem(owner, full);
      await roster().putItem(owner, bare);
      await roster().putItem(owner, notApproved);
      const r = await roster().get(owner);
      assert.deepEqual(r.items, [bare, notApproved, full]);
      assert.deepEqual(await roster().getItem(owner, 'zoe@example.org'), full);
      assert.deepEqual(await roster().getItem(owner, 'bob@example.org'), bare);
      assert.equal(await roster().getItem(owner, 'nobody@example.org'), undefined);
    });

    it('every modification changes the version, and get reports the latest', async () => {
      const seen = new Set<string>([(await roster().get(owner)).version]);
      const v1 = await roster().putItem(owner, { jid: 'bob@example.org', subscription: 'none', groups: [] });
      const v2 = await roster().putItem(owner, { jid: 'bob@example.org', subscription: 'to', groups: ['G'] });
      const v3 = await roster().putItem(owner, { jid: 'carl@example.org', subscription: 'none', groups: [] });
      const v4 = await roster().removeItem(owner, 'bob@example.org');
      for (const v of [v1, v2, v3, v4]) {
        assert.equal(typeof v, 'string');
        assert.ok(!seen.has(v!), `version ${v} repeated`);
        seen.add(v!);
      }
      assert.equal((await roster().get(owner)).version, v4);
    });

    it('putItem replaces an existing item', async () => {
      await roster().putItem(owner, { jid: 'bob@example.org', name: 'Bob', subscription: 'none', ask: 'subscribe', groups: ['A'] });
      await roster().putItem(owner, { jid: 'bob@example.org', subscription: 'both', groups: ['B', 'C'] });
      assert.deepEqual((await roster().get(owner)).items, [{ jid: 'bob@example.org', subscription: 'both', groups: ['B', 'C'] }]);
    });

    it('removeItem returns undefined and keeps the version when there was no item', async () => {
      const v = await roster().putItem(owner, { jid: 'bob@example.org', subscription: 'none', groups: [] });
      assert.equal(await roster().removeItem(owner, 'nobody@example.org'), undefined);
      assert.equal(await roster().removeItem('other@example.org', 'bob@example.org'), undefined);
      assert.equal((await roster().get(owner)).version, v);
      assert.notEqual(await roster().removeItem(owner, 'bob@example.org'), undefined);
      assert.deepEqual((await roster().get(owner)).items, []);
    });

    it('rosters of different owners are independent', async () => {
      await roster().putItem(owner, { jid: 'bob@example.org', subscription: 'none', groups: [] });
      await roster().putItem('bob@example.org', { jid: owner, subscription: 'both', groups: [] });
      assert.deepEqual(ids((await roster().get(owner)).items.map((i) => ({ id: i.jid }))), ['bob@example.org']);
      assert.deepEqual(ids((await roster().get('bob@example.org')).items.map((i) => ({ id: i.jid }))), [owner]);
    });

    it('does not let callers mutate stored items through arguments or results', async () => {
      const it1: RosterItem = { jid: 'bob@example.org', subscription: 'none', groups: ['A'] };
      await roster().putItem(owner, it1);
      it1.groups.push('B');
      const got = await roster().getItem(owner, 'bob@example.org');
      assert.deepEqual(got?.groups, ['A']);
      got!.groups.push('C');
      assert.deepEqual((await roster().get(owner)).items[0].groups, ['A']);
    });

    it('keeps pending-in requests in arrival order; a repeat replaces the stanza in place', async () => {
      await roster().addPendingIn(owner, { from: 'bob@example.org', stanza: '<presence from="bob" type="subscribe"/>' });
      await roster().addPendingIn(owner, { from: 'carl@example.org', stanza: '<presence from="carl" type="subscribe"/>' });
      await roster().addPendingIn(owner, { from: 'bob@example.org', stanza: '<presence from="bob" type="subscribe"><status>again</status></presence>' });
      assert.deepEqual(await roster().listPendingIn(owner), [
        { from: 'bob@example.org', stanza: '<presence from="bob" type="subscribe"><status>again</status></presence>' },
        { from: 'carl@example.org', stanza: '<presence from="carl" type="subscribe"/>' },
      ]);
      assert.deepEqual(await roster().listPendingIn('other@example.org'), []);
    });

    it('removePendingIn reports whether something was removed', async () => {
      await roster().addPendingIn(owner, { from: 'bob@example.org', stanza: '<presence/>' });
      assert.equal(await roster().removePendingIn(owner, 'carl@example.org'), false);
      assert.equal(await roster().removePendingIn('other@example.org', 'bob@example.org'), false);
      assert.equal(await roster().removePendingIn(owner, 'bob@example.org'), true);
      assert.equal(await roster().removePendingIn(owner, 'bob@example.org'), false);
      assert.deepEqual(await roster().listPendingIn(owner), []);
    });

    it('pending-in requests do not touch the roster', async () => {
      const v = (await roster().get(owner)).version;
      await roster().addPendingIn(owner, { from: 'bob@example.org', stanza: '<presence/>' });
      const r = await roster().get(owner);
      assert.equal(r.version, v);
      assert.deepEqual(r.items, []);
    });
  });
}
