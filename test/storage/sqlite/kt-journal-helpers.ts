// Shared by the kt journal tests: a database with one key node, key events, and the log read back.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { LogAppend, Storage } from '../../../src/storage/types.ts';
import { openSqliteStorage } from '../../../src/storage/sqlite/index.ts';
import { decodeJournalRecord } from '../../../src/storage/sqlite/kt-journal-record.ts';
import { decodeLeaf } from '../../../src/transparency/leaf.ts';
import { leafHash } from '../../../src/transparency/hash.ts';
import { MemoryTree, rootHash } from '../../../src/transparency/tree.ts';

export const DOMAIN = 'capulet.lit';
export const OWNER = `juliet@${DOMAIN}`;
export const NODE = 'urn:xmpp:pubkey:2';

export const keyEvent = (itemId: string, owner = OWNER): LogAppend => ({
  domain: owner.slice(owner.indexOf('@') + 1),
  event: { type: 'publish', time: 1_764_892_800_000, jid: owner, node: NODE, itemId, payload: `<pubkey xmlns="urn:xmpp:pubkey:2"><key>${itemId}</key></pubkey>` },
});

export function tempDir(): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-journal-'));
  return { path: join(dir, 'pepkeys.sqlite'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A domain's log as item ids in leaf order, checked against the stored tree. */
export async function logIds(storage: Storage, domain = DOMAIN): Promise<string[]> {
  const kt = storage.transparency;
  const n = await kt.size(domain);
  const entries = await kt.entries(domain, 0, n);
  const reference = new MemoryTree();
  for (const e of entries) reference.append(leafHash(e.leaf));
  assert.deepEqual(await rootHash(n, (refs) => kt.nodes(domain, refs)), await rootHash(n, reference.read));
  entries.forEach((e, i) => assert.equal(e.seq, i));
  return entries.map((e) => decodeLeaf(e.leaf).itemId);
}

/** The journal's records (read beside the open storage), each as [seq, its events' domain/itemId]. */
export function journal(path: string): [number, string[]][] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT seq, events FROM kt_journal ORDER BY seq').raw().all() as [number, string][])
      .map(([seq, text]) => [seq, decodeJournalRecord(text).map((l) => `${l.domain}/${l.event.itemId}`)]);
  } finally {
    db.close();
  }
}

/** Closes `storage`, opens its file again and checks nothing was appended twice: the log is still `ids`. */
export async function reopenedLogIs(storage: Storage, path: string, ids: readonly string[]): Promise<void> {
  await storage.close();
  const again = openSqliteStorage({ path });
  try {
    assert.deepEqual(await logIds(again), ids);
  } finally {
    await again.close();
  }
}
