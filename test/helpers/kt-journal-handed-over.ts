// A SQLite database whose key-log journal has handed records over to its transparency file and deleted them
// (what a server that ran for a while leaves), for the tests of a transparency file gone missing: publishes
// key events one batch at a time, each read of the log waiting for its append, until a later batch deleted
// records the key log reported drained (within milliseconds; bounded).
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import type { LogAppend } from '../../src/storage/types.ts';
import { item } from '../contract/fixtures.ts';

export const DOMAIN = 'capulet.lit';
const OWNER = `juliet@${DOMAIN}`;
const NODE = 'urn:xmpp:pubkey:2';

export const keyEvent = (itemId: string): LogAppend => ({
  domain: DOMAIN,
  event: { type: 'publish', time: 1_764_892_800_000, jid: OWNER, node: NODE, itemId, payloadHash: new Uint8Array(32).fill(7), fingerprint: 'sha-256:ab' },
});
export const keyItem = (id: string) => item(OWNER, NODE, id);

/** The journal's highest record number and the records it still holds (read-only, beside an open storage too). */
export function journalState(path: string): { highest: number; kept: number } {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT coalesce(max(seq), 0) AS highest, count(*) AS kept FROM kt_journal').get() as { highest: number; kept: number };
  } finally {
    db.close();
  }
}

/** Makes the database at `path` (closed again after); returns the key events published. */
export async function journalHandedOver(path: string): Promise<number> {
  const storage = openSqliteStorage({ path });
  try {
    await storage.pubsub.createNode({ service: OWNER, node: NODE, config: {}, createdAt: 1 });
    let published = 0;
    while (published < 100) {
      await storage.pubsub.publishItem(keyItem(`k${published}`), undefined, keyEvent(`k${published}`));
      assert.equal(await storage.transparency.size(DOMAIN), ++published);
      const j = journalState(path);
      if (published >= 3 && j.kept < j.highest) return published;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.fail('the journal never deleted a record the key log had appended');
  } finally {
    await storage.close();
  }
}
