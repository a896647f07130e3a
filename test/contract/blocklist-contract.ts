// The BlocklistStore contract (XEP-0191 blocklists). Part of the storage contract (./storage-contract.ts runs
// every part against every adapter).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Storage } from '../../src/storage/types.ts';
import { credentials } from './fixtures.ts';

/** Registers the blocklist tests; `storage()` is empty at the start of each test. */
export function blocklistContract(storage: () => Storage): void {
  describe('blocklist', () => {
    const owner = 'juliet@capulet.lit';
    const list = () => storage().blocklist;

    it('an unknown owner blocks nobody', async () => {
      assert.deepEqual(await list().list(owner), []);
      assert.deepEqual(await list().unblockAll(owner), []);
      assert.deepEqual(await list().unblock(owner, ['romeo@montague.lit']), []);
    });

    it('block adds JIDs of every form, reports only the new ones, and list returns them sorted', async () => {
      const added = await list().block(owner, ['romeo@montague.lit', 'montague.lit', 'iago@shakespeare.lit/evil', 'romeo@montague.lit']);
      assert.deepEqual(added, ['iago@shakespeare.lit/evil', 'montague.lit', 'romeo@montague.lit']);
      assert.deepEqual(await list().block(owner, ['romeo@montague.lit', 'tybalt@capulet.lit']), ['tybalt@capulet.lit']);
      assert.deepEqual(await list().list(owner), ['iago@shakespeare.lit/evil', 'montague.lit', 'romeo@montague.lit', 'tybalt@capulet.lit']);
      // Another owner's list is its own.
      assert.deepEqual(await list().list('nurse@capulet.lit'), []);
    });

    it('unblock removes the given JIDs and reports those that were blocked; unblockAll empties the list', async () => {
      await list().block(owner, ['a@x.lit', 'b@x.lit', 'c@x.lit']);
      await list().block('nurse@capulet.lit', ['a@x.lit']);
      assert.deepEqual(await list().unblock(owner, ['b@x.lit', 'zzz@x.lit']), ['b@x.lit']);
      assert.deepEqual(await list().list(owner), ['a@x.lit', 'c@x.lit']);
      assert.deepEqual(await list().unblockAll(owner), ['a@x.lit', 'c@x.lit']);
      assert.deepEqual(await list().list(owner), []);
      assert.deepEqual(await list().list('nurse@capulet.lit'), ['a@x.lit']);
    });

    it('deleting the account deletes its blocklist, and only its own', async () => {
      await storage().accounts.create(owner, credentials('j'));
      await list().block(owner, ['romeo@montague.lit']);
      await list().block('nurse@capulet.lit', ['romeo@montague.lit']);
      assert.equal(await storage().accounts.delete(owner), true);
      assert.deepEqual(await list().list(owner), []);
      assert.deepEqual(await list().list('nurse@capulet.lit'), ['romeo@montague.lit']);
    });
  });
}
