// Issue 14: the transparency logs live in a second file (storage/sqlite/kt-file.ts). A backup taken beside a
// live storage carries them (and the verifiable maps kept there too); the restore gives the restored database its log back, byte for byte, with
// nothing appended twice, and moves the replaced database's transparency file aside with it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import { ktFileOf } from '../../src/storage/sqlite/kt-file.ts';
import { backupSqlite, restoreSqlite } from '../../src/cli/ops/sqlite-backup.ts';
import type { LogAppend, Storage } from '../../src/storage/types.ts';
import type { KtMapEntry, KtMapEpoch } from '../../src/storage/kt-map.ts';
import { decodeLeaf } from '../../src/transparency/leaf.ts';
import { item } from '../contract/fixtures.ts';
import { scratchDirs } from './backup-helpers.ts';

const DOMAIN = 'capulet.lit';
const OWNER = `juliet@${DOMAIN}`;
const NODE = 'urn:xmpp:pubkey:2';
const scratch = scratchDirs('pepkeys-backup-ktfile-');
const MAP_ENTRY: KtMapEntry = { label: new Uint8Array(32).fill(3), commitment: new Uint8Array(32).fill(4), epoch: 1, jid: OWNER, node: NODE, version: 1, seq: 0 };
const MAP_EPOCH: KtMapEpoch = { epoch: 1, logSize: 21, logRoot: new Uint8Array(32).fill(5), root: new Uint8Array(32).fill(6), time: 1_764_892_800_000, key: new Uint8Array(32).fill(7), signature: new Uint8Array(64).fill(8) };

const keyEvent = (itemId: string): LogAppend => ({
  domain: DOMAIN,
  event: { type: 'publish', time: 1_764_892_800_000, jid: OWNER, node: NODE, itemId, payload: `<x xmlns='urn:x'>${itemId}</x>` },
});

async function logOf(storage: Storage): Promise<string[]> {
  const n = await storage.transparency.size(DOMAIN);
  return (await storage.transparency.entries(DOMAIN, 0, n)).map((e) => `${e.seq}:${decodeLeaf(e.leaf).itemId}:${Buffer.from(e.leaf).toString('hex')}`);
}

describe('backup and restore of the transparency file', () => {
  it('a backup of a live storage restores its log exactly; the log then grows on from there', async () => {
    const dir = scratch();
    const live = join(dir, 'live');
    const restored = join(dir, 'restored');
    const file = join(dir, 'pepkeys.backup');
    const storage = openSqliteStorage({ path: join(live, 'pepkeys.sqlite') });
    let before: string[];
    try {
      await storage.pubsub.createNode({ service: OWNER, node: NODE, config: {}, createdAt: 1 });
      for (let i = 0; i < 21; i++) await storage.pubsub.publishItem(item(OWNER, NODE, `k${i}`), undefined, keyEvent(`k${i}`));
      before = await logOf(storage);
      assert.equal(before.length, 21);
      // A map epoch too (its tables live in the transparency file as well).
      await storage.ktMap!.addEpoch(DOMAIN, MAP_EPOCH, [MAP_ENTRY]);
      // Taken while the storage is open, as beside a running server.
      await backupSqlite(join(live, 'pepkeys.sqlite'), file, { dataDir: live });
    } finally {
      await storage.close();
    }

    // Over an older database with a transparency file of its own: both move aside.
    mkdirSync(restored, { recursive: true });
    const old = openSqliteStorage({ path: join(restored, 'pepkeys.sqlite') });
    await old.pubsub.createNode({ service: OWNER, node: NODE, config: {}, createdAt: 1 });
    await old.pubsub.publishItem(item(OWNER, NODE, 'old'), undefined, keyEvent('old'));
    assert.equal(await old.transparency.size(DOMAIN), 1);
    await old.close();
    const r = restoreSqlite(file, join(restored, 'pepkeys.sqlite'), restored, { force: true });
    assert.ok(r.replaced && existsSync(ktFileOf(r.replaced)), 'the replaced transparency file is kept aside');
    assert.ok(!existsSync(ktFileOf(join(restored, 'pepkeys.sqlite'))), 'no transparency file until the first open');

    const back = openSqliteStorage({ path: join(restored, 'pepkeys.sqlite') });
    try {
      assert.deepEqual(await logOf(back), before);
      assert.deepEqual(await back.ktMap!.latestEpoch(DOMAIN), MAP_EPOCH);
      assert.deepEqual(await back.ktMap!.get(DOMAIN, MAP_ENTRY.label), MAP_ENTRY);
      await back.pubsub.publishItem(item(OWNER, NODE, 'after'), undefined, keyEvent('after'));
      const after = await logOf(back);
      assert.deepEqual(after.slice(0, 21), before);
      assert.equal(after.length, 22);
      assert.match(after[21]!, /^21:after:/);
    } finally {
      await back.close();
    }
    // Reopened: nothing journalled is appended a second time.
    const again = openSqliteStorage({ path: join(restored, 'pepkeys.sqlite') });
    try {
      assert.equal((await logOf(again)).length, 22);
    } finally {
      await again.close();
    }
    assert.ok(readdirSync(restored).some((n) => n.endsWith('-kt.sqlite') && n.includes('replaced-')));
  });
});
