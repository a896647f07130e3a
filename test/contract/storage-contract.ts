// The storage contract: every adapter (memory, sqlite, postgres) must pass this suite unchanged. It is made
// of one part per store (./accounts-contract.ts, ./roster-contract.ts, ./offline-contract.ts,
// ./caps-contract.ts, ./pubsub-contract.ts, ./archive-contract.ts, ./blocklist-contract.ts), which a component implementing only that store (the engine's
// caching PubsubStore, later a session directory) runs on its own, plus the tests that span stores.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Storage } from '../../src/storage/types.ts';
import { accountsContract } from './accounts-contract.ts';
import { archiveContract } from './archive-contract.ts';
import { blocklistContract } from './blocklist-contract.ts';
import { capsContract } from './caps-contract.ts';
import { credentials, item } from './fixtures.ts';
import { offlineContract } from './offline-contract.ts';
import { pubsubContract } from './pubsub-contract.ts';
import { pubsubNodeLifecycleContract } from './pubsub-node-lifecycle-contract.ts';
import { rosterContract } from './roster-contract.ts';
import { subjectOfEachTest } from './subject.ts';
import { transparencyContract } from './transparency-contract.ts';

export interface StorageTarget {
  /** A new, empty storage. */
  open(): Promise<Storage> | Storage;
  /**
   * Empties an open storage in place. Given, one storage serves the whole suite and is emptied before each
   * test, for adapters that are slow to open (a worker thread under tsx, a PostgreSQL pool); without it,
   * every test opens its own.
   */
  reset?(storage: Storage): Promise<void> | void;
  /**
   * The transparency log cannot be emptied in place (SQLite's key-log thread keeps the log's tree in
   * memory, as a server does): its contract then opens a storage per test.
   */
  logNeedsFreshStorage?: boolean;
}

export function storageContract(name: string, target: StorageTarget | StorageTarget['open']): void {
  if (typeof target === 'function') target = { open: target };
  const { open, reset, logNeedsFreshStorage } = target;
  describe(`storage contract: ${name}`, () => {
    const s = subjectOfEachTest({ open, reset, close: (storage) => storage.close() });

    it('has a kind', () => {
      assert.equal(typeof s().kind, 'string');
      assert.ok(s().kind.length > 0);
    });

    accountsContract(s);
    rosterContract(() => s().roster);
    offlineContract(() => s().offline);
    capsContract(() => s().caps);
    pubsubContract(() => s().pubsub);
    pubsubNodeLifecycleContract(s);
    archiveContract(() => s().archive, () => s().accounts);
    blocklistContract(s);
    if (logNeedsFreshStorage && reset) describe('a storage per test', () => transparencyContract(subjectOfEachTest({ open, close: (storage) => storage.close() })));
    else transparencyContract(s);

    // ------------------------------------------------------------------ across stores, and closing
    describe('concurrency and close', () => {
      it('a failing operation does not affect operations issued alongside it', async () => {
        await s().accounts.create('alice@example.org', credentials('a'));
        const results = await Promise.allSettled([
          s().roster.putItem('alice@example.org', { jid: 'bob@example.org', subscription: 'none', groups: [] }),
          s().accounts.create('alice@example.org', credentials('dup')),
          s().pubsub.publishItem(item('alice@example.org', 'missing', 'x'), undefined),
          s().offline.push('alice@example.org', { stanza: '<message/>', storedAt: 1 }),
          s().accounts.create('bob@example.org', credentials('b')),
        ]);
        assert.deepEqual(
          results.map((r) => r.status),
          ['fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled'],
        );
        assert.ok(await s().roster.getItem('alice@example.org', 'bob@example.org'));
        assert.equal(await s().offline.count('alice@example.org'), 1);
        assert.deepEqual(await s().accounts.list(), ['alice@example.org', 'bob@example.org']);
        assert.deepEqual((await s().accounts.get('alice@example.org'))?.credentials, credentials('a'));
      });

      it('interleaved writes and reads to many stores in one burst all apply in order', async () => {
        const owner = 'alice@example.org';
        const ops: Promise<unknown>[] = [];
        for (let i = 0; i < 100; i++) {
          ops.push(s().roster.putItem(owner, { jid: `c${String(i).padStart(3, '0')}@example.org`, subscription: 'none', groups: [] }));
          ops.push(s().offline.push(owner, { stanza: `<message id="${i}"/>`, storedAt: i }));
          ops.push(s().caps.put(`sha-1:${i}`, { identities: [], features: [`f${i}`], forms: [] }));
        }
        const counted = s().offline.count(owner);
        const versions = (await Promise.all(ops)).filter((_, i) => i % 3 === 0) as string[];
        assert.equal(new Set(versions).size, 100);
        assert.equal(await counted, 100);
        const roster = await s().roster.get(owner);
        assert.equal(roster.items.length, 100);
        assert.equal(roster.version, versions[99]);
        assert.deepEqual((await s().offline.takeAll(owner)).map((m) => m.storedAt), Array.from({ length: 100 }, (_, i) => i));
        assert.deepEqual((await s().caps.get('sha-1:42'))?.features, ['f42']);
      });

      it('close waits for writes issued before it, is idempotent, and refuses later operations', async () => {
        // Its own storage: a suite may share one storage between tests.
        const own = await open();
        const pending = own.caps.put('sha-1:k', { identities: [], features: ['x'], forms: [] });
        await own.close();
        await pending;
        await own.close();
        await assert.rejects(own.caps.get('sha-1:k'), (err: unknown) => (err as { code?: string }).code === 'STORAGE_CLOSED');
        await assert.rejects(own.caps.put('sha-1:j', { identities: [], features: [], forms: [] }), (err: unknown) => (err as { code?: string }).code === 'STORAGE_CLOSED');
      });
    });
  });
}
