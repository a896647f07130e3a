// The OfflineStore contract (XEP-0160 queues).
// Part of the storage contract (./storage-contract.ts runs every part against every adapter).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OfflineStore } from '../../src/storage/types.ts';

/** Registers the offline-queue tests; `offline()` is the store under test, empty at the start of each test. */
export function offlineContract(offline: () => OfflineStore): void {
  describe('offline', () => {
    const owner = 'alice@example.org';

    it('takeAll returns messages oldest first and empties the queue', async () => {
      await offline().push(owner, { stanza: '<message id="1"/>', storedAt: 300 });
      await offline().push(owner, { stanza: '<message id="2"/>', storedAt: 100 });
      await offline().push(owner, { stanza: '<message id="3"/>', storedAt: 200 });
      await offline().push('bob@example.org', { stanza: '<message id="b"/>', storedAt: 1 });
      assert.equal(await offline().count(owner), 3);
      // Arrival order, not storedAt order: the clock may step back.
      assert.deepEqual(await offline().takeAll(owner), [
        { stanza: '<message id="1"/>', storedAt: 300 },
        { stanza: '<message id="2"/>', storedAt: 100 },
        { stanza: '<message id="3"/>', storedAt: 200 },
      ]);
      assert.equal(await offline().count(owner), 0);
      assert.deepEqual(await offline().takeAll(owner), []);
      assert.equal(await offline().count('bob@example.org'), 1);
    });

    it('an unknown owner has nothing', async () => {
      assert.equal(await offline().count(owner), 0);
      assert.deepEqual(await offline().takeAll(owner), []);
    });

    it('messages pushed after a takeAll are kept', async () => {
      await offline().push(owner, { stanza: '<message id="1"/>', storedAt: 1 });
      await offline().takeAll(owner);
      await offline().push(owner, { stanza: '<message id="2"/>', storedAt: 2 });
      assert.deepEqual(await offline().takeAll(owner), [{ stanza: '<message id="2"/>', storedAt: 2 }]);
    });

    it('concurrent takeAll calls hand each message out once', async () => {
      for (let i = 0; i < 10; i++) await offline().push(owner, { stanza: `<message id="${i}"/>`, storedAt: i });
      const [a, b] = await Promise.all([offline().takeAll(owner), offline().takeAll(owner)]);
      assert.equal(a.length + b.length, 10);
      assert.ok(a.length === 0 || b.length === 0);
    });

    it('size counts the messages and their UTF-8 bytes per owner', async () => {
      assert.deepEqual(await offline().size(owner), { messages: 0, bytes: 0 });
      await offline().push(owner, { stanza: '<message id="1"/>', storedAt: 1 });
      await offline().push(owner, { stanza: '<message id="é€𝄞"/>', storedAt: 2 });
      await offline().push('bob@example.org', { stanza: '<message/>', storedAt: 3 });
      assert.deepEqual(await offline().size(owner), { messages: 2, bytes: 17 + Buffer.byteLength('<message id="é€𝄞"/>') });
      await offline().takeAll(owner);
      assert.deepEqual(await offline().size(owner), { messages: 0, bytes: 0 });
    });

    it('keeps the verbatim mark, and its absence', async () => {
      await offline().push(owner, { stanza: '<message id="1"/>', storedAt: 1, verbatim: true });
      await offline().push(owner, { stanza: '<message id="2"/>', storedAt: 2 });
      assert.deepEqual(await offline().takeAll(owner), [
        { stanza: '<message id="1"/>', storedAt: 1, verbatim: true },
        { stanza: '<message id="2"/>', storedAt: 2 },
      ]);
    });
  });
}
