// Migration 10 (a journal record per batch) on a database of schema 9, whose journal holds a record per key
// event: records the key-log process had not appended yet are appended after the upgrade, in order, each
// exactly once, before anything written after it; and the numbering goes on above the old highest number
// even when every old record was drained and deleted (else the transparency file's cursor would be ahead of
// the journal and the open refused, or new records skipped).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { migrations } from '../../../src/storage/sqlite/migrations.ts';
import { ktFileOf, openKtFile } from '../../../src/storage/sqlite/kt-file.ts';
import { createTransparencyStore } from '../../../src/storage/sqlite/transparency.ts';
import { openSqliteStorage } from '../../../src/storage/sqlite/index.ts';
import { checkKtFile } from '../../../src/cli/ops/kt-file-check.ts';
import { deriveKeyEvent } from '../../../src/transparency/key-events.ts';
import { decodeLeaf } from '../../../src/transparency/leaf.ts';
import type { LogAppend } from '../../../src/storage/types.ts';
import { item } from '../../contract/fixtures.ts';
import { DOMAIN, NODE, OWNER, journal, keyEvent, logIds, reopenedLogIs, tempDir } from './kt-journal-helpers.ts';

/** Event `i` of the old journal: publishes with their payload, and every third a retract with only a hash. */
const oldEvent = (i: number): LogAppend => (i % 3 === 2
  ? { domain: DOMAIN, event: { type: 'retract', time: 1_764_892_800_000 + i, jid: OWNER, node: NODE, itemId: `old${i}`, payloadHash: new Uint8Array(32).fill(i), fingerprint: `sha-256:${i}` } }
  : keyEvent(`old${i}`));

/**
 * A database as a schema-9 server leaves it: its logs in the transparency file, which has appended the first
 * `drained` of `highest` journalled events (those records deleted), the others still in the journal.
 */
function schema9(path: string, highest: number, drained: number): void {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT');
    for (const m of migrations.filter((m) => m.version <= 9)) {
      db.exec(m.sql);
      m.convert?.(db);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
    }
    db.pragma('user_version = 9');
    // Its first open moved the main file's own log tables into the transparency file.
    for (const t of ['kt_logs', 'kt_names', 'kt_blocks', 'kt_jids', 'kt_map_entries', 'kt_map_epochs']) db.exec(`DROP TABLE ${t}`);
    const insert = db.prepare('INSERT INTO kt_journal (domain, type, time, jid, node, item_id, payload, payload_hash, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (let i = 1; i <= highest; i++) {
      const { domain, event: e } = oldEvent(i);
      insert.run(domain, e.type, e.time, e.jid, e.node, e.itemId, e.payload ?? null, e.payloadHash ?? null, e.fingerprint ?? null);
    }
    db.prepare('DELETE FROM kt_journal WHERE seq <= ?').run(drained);
    const token = db.prepare('SELECT token FROM kt_file WHERE id = 1').pluck().get() as Buffer;
    const kt = openKtFile(ktFileOf(path));
    try {
      const { appendAll, finished } = createTransparencyStore(kt, undefined);
      kt.transaction(() => {
        if (drained > 0) appendAll(Array.from({ length: drained }, (_, k) => oldEvent(k + 1)).map(({ domain, event }) => ({ domain, event: deriveKeyEvent(event) })));
        kt.prepare("INSERT INTO kt_meta (key, value) VALUES ('cursor', ?), ('database', ?)").run(drained, token);
      })();
      finished(true);
    } finally {
      kt.close();
    }
  } finally {
    db.close();
  }
}

const oldIds = (n: number) => Array.from({ length: n }, (_, k) => `old${k + 1}`);

describe('migration 10: the kt journal from a record per event to a record per batch', () => {
  it('undrained per-event records are appended once, in order, before the first batch after the upgrade', async () => {
    const dir = tempDir();
    try {
      schema9(dir.path, 7, 3);
      // `pepkeys check` reads the journal of a database the server has not migrated yet.
      assert.match(checkKtFile(dir.path).map((f) => `${f.level}: ${f.message}`).join('\n'), /^ok: .*capulet\.lit: 3 leaves; 4 journal records to append$/);
      const storage = openSqliteStorage({ path: dir.path });
      assert.deepEqual(journal(dir.path), [4, 5, 6, 7].map((seq) => [seq, [`${DOMAIN}/old${seq}`]]), 'the old records, under their numbers');
      await storage.pubsub.createNode({ service: OWNER, node: NODE, config: {}, createdAt: 1 });
      await Promise.all(['n1', 'n2'].map((id) => storage.pubsub.publishItem(item(OWNER, NODE, id), undefined, keyEvent(id))));
      assert.deepEqual(journal(dir.path).at(-1), [8, [`${DOMAIN}/n1`, `${DOMAIN}/n2`]]);
      const ids = [...oldIds(7), 'n1', 'n2'];
      assert.deepEqual(await logIds(storage), ids);
      // A retract (old5, still journalled at the upgrade) kept its hash and fingerprint through the conversion.
      const [entry] = await storage.transparency.entries(DOMAIN, 4, 5);
      const leaf = decodeLeaf(entry!.leaf);
      assert.deepEqual([leaf.type, Buffer.from(leaf.payloadHash!).equals(Buffer.alloc(32, 5)), leaf.fingerprint], ['retract', true, 'sha-256:5']);
      await reopenedLogIs(storage, dir.path, ids);
    } finally {
      dir.remove();
    }
  });

  it('a journal drained empty: the next record numbers above the old highest, and the open is not refused', async () => {
    const dir = tempDir();
    try {
      schema9(dir.path, 5, 5);
      const storage = openSqliteStorage({ path: dir.path });
      assert.deepEqual(journal(dir.path), [[5, []]], 'an empty record holds the highest number');
      await storage.pubsub.createNode({ service: OWNER, node: NODE, config: {}, createdAt: 1 });
      await storage.pubsub.publishItem(item(OWNER, NODE, 'n1'), undefined, keyEvent('n1'));
      assert.deepEqual(journal(dir.path).at(-1), [6, [`${DOMAIN}/n1`]]);
      assert.deepEqual(await logIds(storage), [...oldIds(5), 'n1']);
      await reopenedLogIs(storage, dir.path, [...oldIds(5), 'n1']);
    } finally {
      dir.remove();
    }
  });
});
