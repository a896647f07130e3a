// A database copied back alone (an older copy of the main file, same binding token) beside a transparency file
// that already appended past it: the file's cursor is ahead of the journal's numbers, so the journal's next
// records would take numbers the key log thinks done, and would never be appended. The open refuses it
// (KT_FILE_MISMATCH) instead of losing those events from the log without a word.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import type { LogAppend } from '../../src/storage/types.ts';
import { item } from '../contract/fixtures.ts';

const DOMAIN = 'capulet.lit';
const OWNER = `juliet@${DOMAIN}`;
const NODE = 'urn:xmpp:pubkey:2';

const keyEvent = (itemId: string): LogAppend => ({
  domain: DOMAIN,
  event: { type: 'publish', time: 1_764_892_800_000, jid: OWNER, node: NODE, itemId, payloadHash: new Uint8Array(32).fill(7), fingerprint: 'sha-256:ab' },
});

describe('sqlite: a transparency file ahead of its database', () => {
  it('is refused at open with KT_FILE_MISMATCH', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-ahead-'));
    const path = join(dir, 'pepkeys.sqlite');
    const old = join(dir, 'old.sqlite');
    try {
      let storage = openSqliteStorage({ path });
      await storage.pubsub.createNode({ service: OWNER, node: NODE, config: {}, createdAt: 1 });
      await storage.pubsub.publishItem(item(OWNER, NODE, 'k0'), undefined, keyEvent('k0'));
      assert.equal(await storage.transparency.size(DOMAIN), 1);
      await storage.close();
      // The copy an operator keeps of the main file alone (closed: no -wal beside it).
      assert.ok(!existsSync(`${path}-wal`));
      copyFileSync(path, old);

      storage = openSqliteStorage({ path });
      for (const id of ['k1', 'k2', 'k3']) await storage.pubsub.publishItem(item(OWNER, NODE, id), undefined, keyEvent(id));
      assert.equal(await storage.transparency.size(DOMAIN), 4);
      await storage.close();

      // The main file goes back alone; its transparency file stays as it is, three records ahead.
      copyFileSync(old, path);
      assert.throws(() => openSqliteStorage({ path }), (err: Error & { code?: string }) => err.code === 'KT_FILE_MISMATCH' && /ahead/.test(err.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
