// The SQLite journal writes one record per group-commit batch (storage/sqlite/kt-journal.ts): a batch's key
// events, in write order, in one row written inside the batch's transaction. A write rolled back alone takes
// its event with it; a batch rolled back whole (its record cannot be written) leaves neither items nor
// events; one record carries the events of every domain in the batch, and each log gets its own in order.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { openSqliteStorage } from '../../../src/storage/sqlite/index.ts';
import type { Storage } from '../../../src/storage/types.ts';
import { item } from '../../contract/fixtures.ts';
import { DOMAIN, NODE, OWNER, journal, keyEvent, logIds, reopenedLogIs, tempDir } from './kt-journal-helpers.ts';

const ROMEO = 'romeo@montague.lit';

async function withStorage(fn: (storage: Storage, path: string) => Promise<void>): Promise<void> {
  const dir = tempDir();
  const storage = openSqliteStorage({ path: dir.path });
  try {
    await storage.pubsub.createNode({ service: OWNER, node: NODE, config: {}, createdAt: 1 });
    await fn(storage, dir.path);
  } finally {
    await storage.close();
    dir.remove();
  }
}

const publish = (storage: Storage, id: string, owner = OWNER, node = NODE) => storage.pubsub.publishItem(item(owner, node, id), undefined, keyEvent(id, owner));

describe('sqlite kt journal: one record per batch', () => {
  it('a write rolled back alone leaves no event; the batch writes one record with the others in write order', () =>
    withStorage(async (storage, path) => {
      await publish(storage, 'victim');
      // A write that fails after its event was journalled: its trim of the node (max 1 item) is refused.
      const side = new Database(path);
      try {
        side.exec(`CREATE TRIGGER keep BEFORE DELETE ON pubsub_items WHEN OLD.item_id = 'victim' BEGIN SELECT RAISE(ABORT, 'kept by the test'); END`);
      } finally {
        side.close();
      }
      const batches: number[] = [];
      storage.observeCommits!((_s, ops) => batches.push(ops));
      const results = await Promise.allSettled([
        publish(storage, 'a'),
        storage.pubsub.publishItem(item(OWNER, NODE, 'trimmed'), 1, keyEvent('trimmed')),
        publish(storage, 'b'),
        // No such node: fails before its event.
        publish(storage, 'lost', OWNER, 'urn:x:missing'),
        publish(storage, 'c'),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
      assert.match(String((results[1] as PromiseRejectedResult).reason), /kept by the test/);
      assert.deepEqual(batches, [5], 'one batch');
      assert.deepEqual(journal(path).map(([, events]) => events), [[`${DOMAIN}/victim`], [`${DOMAIN}/a`, `${DOMAIN}/b`, `${DOMAIN}/c`]]);
      assert.deepEqual(await logIds(storage), ['victim', 'a', 'b', 'c']);
      assert.deepEqual((await storage.pubsub.getItems(OWNER, NODE)).map((i) => i.id).sort(), ['a', 'b', 'c', 'victim']);
    }));

  it('a read queued inside a batch sees the events before it: they are written as a record of their own first', () =>
    withStorage(async (storage, path) => {
      const first = [publish(storage, 'a'), publish(storage, 'b')];
      const size = storage.transparency.size(DOMAIN);
      const second = [publish(storage, 'c')];
      await Promise.all([...first, ...second]);
      // Answered once the batch is durable: it sees at least the events written before it.
      assert.ok((await size) >= 2);
      const records = journal(path);
      assert.deepEqual(records.map(([, events]) => events), [[`${DOMAIN}/a`, `${DOMAIN}/b`], [`${DOMAIN}/c`]]);
      assert.equal(records[1]![0], records[0]![0] + 1, 'consecutive numbers');
      assert.deepEqual(await logIds(storage), ['a', 'b', 'c']);
    }));

  it('a batch whose record cannot be written commits nothing, and the next batches log on without a gap', () =>
    withStorage(async (storage, path) => {
      await publish(storage, 'before');
      // The journal's own INSERT at the batch's end fails: the participant throws, the whole batch rolls back.
      const side = new Database(path);
      try {
        side.exec(`CREATE TRIGGER refuse BEFORE INSERT ON kt_journal WHEN NEW.events LIKE '%"boom"%' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
      } finally {
        side.close();
      }
      const results = await Promise.allSettled([publish(storage, 'x'), publish(storage, 'boom'), publish(storage, 'y')]);
      assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
      assert.match(String((results[0] as PromiseRejectedResult).reason), /refused by the test/);
      assert.deepEqual((await storage.pubsub.getItems(OWNER, NODE)).map((i) => i.id), ['before']);
      assert.deepEqual(await logIds(storage), ['before']);

      const fix = new Database(path);
      try {
        fix.exec('DROP TRIGGER refuse');
      } finally {
        fix.close();
      }
      await Promise.all([publish(storage, 'x'), publish(storage, 'y')]);
      assert.deepEqual(await logIds(storage), ['before', 'x', 'y']);
      assert.ok(!journal(path).some(([, events]) => events.includes(`${DOMAIN}/boom`)));
    }));

  it('events of several domains in one batch: one record; each domain\'s log gets its own, in write order', () =>
    withStorage(async (storage, path) => {
      await storage.pubsub.createNode({ service: ROMEO, node: NODE, config: {}, createdAt: 1 });
      await Promise.all([publish(storage, 'j1'), publish(storage, 'r1', ROMEO), publish(storage, 'j2'), publish(storage, 'r2', ROMEO), publish(storage, 'r3', ROMEO)]);
      assert.deepEqual(journal(path).map(([, events]) => events), [[`${DOMAIN}/j1`, 'montague.lit/r1', `${DOMAIN}/j2`, 'montague.lit/r2', 'montague.lit/r3']]);
      assert.deepEqual(await logIds(storage), ['j1', 'j2']);
      assert.deepEqual(await logIds(storage, 'montague.lit'), ['r1', 'r2', 'r3']);
    }));

  it('drained records are deleted but the highest one stays, so numbers are never reused across reopens', async () => {
    const dir = tempDir();
    try {
      let storage = openSqliteStorage({ path: dir.path });
      await storage.pubsub.createNode({ service: OWNER, node: NODE, config: {}, createdAt: 1 });
      const ids: string[] = [];
      // Write until the key-log process reported a drain and a later batch deleted the first records.
      const until = Date.now() + 60_000;
      for (let i = 0; ids.length < 2 || journal(dir.path)[0]![0] === 1; i++) {
        assert.ok(Date.now() < until, 'drained records were never deleted');
        ids.push(`k${i}`);
        await publish(storage, `k${i}`);
        assert.deepEqual(await logIds(storage), ids);
        await new Promise((r) => setTimeout(r, 20));
      }
      await storage.close();
      const highest = journal(dir.path).at(-1)![0];
      assert.equal(highest, ids.length, 'one record per batch, numbered from 1');
      storage = openSqliteStorage({ path: dir.path });
      assert.deepEqual(await logIds(storage), ids);
      // Writes without key events delete what is drained, until only the highest record is left.
      await storage.pubsub.createNode({ service: OWNER, node: 'urn:x:notes', config: {}, createdAt: 1 });
      for (let i = 0; journal(dir.path).length > 1; i++) {
        assert.ok(Date.now() < until, 'drained records were never deleted');
        await storage.pubsub.publishItem(item(OWNER, 'urn:x:notes', `n${i}`), undefined);
        await new Promise((r) => setTimeout(r, 20));
      }
      const [[kept]] = journal(dir.path) as [[number, string[]]];
      assert.equal(kept, ids.length);
      await publish(storage, 'next');
      ids.push('next');
      assert.equal(journal(dir.path).at(-1)![0], kept + 1, 'the next record numbers right above the kept one');
      assert.deepEqual(await logIds(storage), ids);
      await reopenedLogIs(storage, dir.path, ids);
    } finally {
      dir.remove();
    }
  });
});
