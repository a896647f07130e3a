// The SQLite adapter journals each key event in its write's transaction and its key-log thread appends the
// leaves (storage/sqlite/kt-journal.ts): the leaves come out consecutive and in the order of the writes, a
// write that fails alone leaves no leaf and takes no number, a read queued behind the writes sees their
// leaves, and an acknowledged event the thread cannot append waits in the journal for the next open.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import { ktFileOf } from '../../src/storage/sqlite/kt-file.ts';
import type { LogAppend, Storage } from '../../src/storage/types.ts';
import { decodeLeaf } from '../../src/transparency/leaf.ts';
import { leafHash } from '../../src/transparency/hash.ts';
import { MemoryTree, rootHash } from '../../src/transparency/tree.ts';
import { item } from '../contract/fixtures.ts';

const DOMAIN = 'capulet.lit';
const OWNER = `juliet@${DOMAIN}`;
const NODE = 'urn:xmpp:pubkey:2';

const keyEvent = (itemId: string, extra: Partial<LogAppend['event']> = {}): LogAppend => ({
  domain: DOMAIN,
  event: { type: 'publish', time: 1_764_892_800_000, jid: OWNER, node: NODE, itemId, payloadHash: new Uint8Array(32).fill(7), fingerprint: 'sha-256:ab', ...extra },
});

async function withStorage(fn: (storage: Storage, path: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-batch-'));
  const path = join(dir, 'pepkeys.sqlite');
  const storage = openSqliteStorage({ path });
  try {
    await storage.pubsub.createNode({ service: OWNER, node: NODE, config: {}, createdAt: 1 });
    await fn(storage, path);
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The log's leaves, checked against the stored tree (root from the adapter's nodes = reference root). */
async function leaves(storage: Storage): Promise<{ seq: number; itemId: string }[]> {
  const kt = storage.transparency;
  const n = await kt.size(DOMAIN);
  const entries = await kt.entries(DOMAIN, 0, n);
  const reference = new MemoryTree();
  for (const e of entries) reference.append(leafHash(e.leaf));
  assert.deepEqual(await rootHash(n, (refs) => kt.nodes(DOMAIN, refs)), await rootHash(n, reference.read));
  return entries.map((e) => ({ seq: e.seq, itemId: decodeLeaf(e.leaf).itemId }));
}

describe('sqlite: key events appended per group-commit batch', () => {
  it('one batch of 30 writes: consecutive leaves in write order; failed writes leave none; a read in the batch sees them', () =>
    withStorage(async (storage) => {
      const batches: number[] = [];
      storage.observeCommits!((_s, ops) => batches.push(ops));
      const ok: string[] = [];
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 30; i++) {
        const id = `k${i}`;
        if (i % 7 === 3) {
          // Fails alone (no such node): rolled back with its event.
          writes.push(storage.pubsub.publishItem(item(OWNER, 'no-such-node', id), undefined, keyEvent(id)).then(() => assert.fail('published to a missing node'), () => 'refused'));
        } else if (i % 7 === 5) {
          // Fails alone at the append: an event with no leaf encoding.
          writes.push(storage.pubsub.publishItem(item(OWNER, NODE, id), undefined, keyEvent(id, { fingerprint: 'x'.repeat(70_000) })).then(() => assert.fail('logged an unencodable event'), () => 'refused'));
        } else {
          ok.push(id);
          writes.push(storage.pubsub.publishItem(item(OWNER, NODE, id), undefined, keyEvent(id)));
        }
      }
      // Queued behind the writes: runs inside their batch, after them.
      const sizeInBatch = storage.transparency.size(DOMAIN);
      await Promise.all(writes);
      assert.equal(await sizeInBatch, ok.length);
      assert.deepEqual(batches, [31], 'all in one batch');
      assert.deepEqual(await leaves(storage), ok.map((itemId, seq) => ({ seq, itemId })));
      const items = await storage.pubsub.getItems(OWNER, NODE);
      assert.deepEqual(items.map((i) => i.id).sort(), [...ok].sort());

      // The next batches go on from there, across blocks of 8, in acknowledgement order.
      const more: string[] = [];
      for (let b = 0; b < 3; b++) {
        const ids = Array.from({ length: 5 + b }, (_, i) => `m${b}-${i}`);
        more.push(...ids);
        await Promise.all(ids.map((id) => storage.pubsub.publishItem(item(OWNER, NODE, id), undefined, keyEvent(id))));
      }
      assert.deepEqual(await leaves(storage), [...ok, ...more].map((itemId, seq) => ({ seq, itemId })));
    }));

  it('an acknowledged key event the key-log thread cannot append stays journalled, and is appended once at the next open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-journal-'));
    const path = join(dir, 'pepkeys.sqlite');
    try {
      let storage = openSqliteStorage({ path });
      await storage.pubsub.createNode({ service: OWNER, node: NODE, config: {}, createdAt: 1 });
      await storage.pubsub.publishItem(item(OWNER, NODE, 'first'), undefined, keyEvent('first'));
      assert.deepEqual(await leaves(storage), [{ seq: 0, itemId: 'first' }]);
      await storage.close();
      // A row in the transparency file's JID index where leaf 1 goes: the thread's append of it fails.
      const side = new Database(ktFileOf(path));
      try {
        side.prepare('INSERT INTO kt_jids (log_id, jid_id, seq) SELECT l.id, n.id, 1 FROM kt_logs l, kt_names n WHERE l.domain = ? AND n.name = ?').run(DOMAIN, OWNER);
      } finally {
        side.close();
      }
      storage = openSqliteStorage({ path });
      // The write is acknowledged: its record is durable in the main file, whatever the thread does.
      await storage.pubsub.publishItem(item(OWNER, NODE, 'second'), undefined, keyEvent('second'));
      // The log cannot be read while its thread is down; the item is there.
      await assert.rejects(storage.transparency.size(DOMAIN), /UNIQUE|constraint/i);
      assert.deepEqual((await storage.pubsub.getItems(OWNER, NODE)).map((i) => i.id).sort(), ['first', 'second']);
      await storage.close();
      const journal = new Database(path, { readonly: true });
      try {
        assert.equal(journal.prepare('SELECT count(*) FROM kt_journal j, json_each(j.events) e WHERE e.value ->> 5 = ?').pluck().get('second'), 1);
      } finally {
        journal.close();
      }

      const fix = new Database(ktFileOf(path));
      try {
        fix.prepare('DELETE FROM kt_jids WHERE seq = 1').run();
      } finally {
        fix.close();
      }
      storage = openSqliteStorage({ path });
      await storage.pubsub.publishItem(item(OWNER, NODE, 'third'), undefined, keyEvent('third'));
      assert.deepEqual(await leaves(storage), [{ seq: 0, itemId: 'first' }, { seq: 1, itemId: 'second' }, { seq: 2, itemId: 'third' }]);
      await storage.close();
      // Reopened once more: nothing is appended twice.
      storage = openSqliteStorage({ path });
      assert.deepEqual(await leaves(storage), [{ seq: 0, itemId: 'first' }, { seq: 1, itemId: 'second' }, { seq: 2, itemId: 'third' }]);
      await storage.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
