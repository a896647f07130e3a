// Issue 14: a database of schema 8 keeps its logs and maps in the main file. Its first open by this version
// (migration 9, storage/sqlite/kt-file.ts importMainLogTables) moves both into the transparency file, where
// the key-log thread serves them; the main file keeps only the journal and the file's token.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrations } from '../../src/storage/sqlite/migrations.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import { createTransparencyStore } from '../../src/storage/sqlite/transparency.ts';
import { ktFileOf } from '../../src/storage/sqlite/kt-file.ts';
import type { KtMapEntry, KtMapEpoch } from '../../src/storage/kt-map.ts';
import { decodeLeaf } from '../../src/transparency/leaf.ts';

const DOMAIN = 'capulet.lit';
const JULIET = `juliet@${DOMAIN}`;
const NODE = 'urn:xmpp:pubkey:2';
const ENTRY: KtMapEntry = { label: new Uint8Array(32).fill(1), commitment: new Uint8Array(32).fill(2), epoch: 1, jid: JULIET, node: NODE, version: 1, seq: 0 };
const EPOCH: KtMapEpoch = { epoch: 1, logSize: 9, logRoot: new Uint8Array(32).fill(3), root: new Uint8Array(32).fill(4), time: 1_764_892_800_000, key: new Uint8Array(32).fill(5), signature: new Uint8Array(64).fill(6) };

/** A main file at schema 8 with a 9-leaf log (one full block and one growing) and one map epoch. */
function schema8(path: string): void {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT');
    for (const m of migrations.filter((m) => m.version <= 8)) {
      db.transaction(() => {
        db.exec(m.sql);
        m.convert?.(db);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)').run(m.version, m.name);
        db.pragma(`user_version = ${m.version}`);
      })();
    }
    // The inline append of schema 7–8, on the main file.
    const { appendAll } = createTransparencyStore(db, undefined);
    db.transaction(() =>
      appendAll(Array.from({ length: 9 }, (_, i) => ({ domain: DOMAIN, event: { type: 'publish' as const, time: 1_764_892_800_000 + i, jid: JULIET, node: NODE, itemId: `k${i}`, payloadHash: new Uint8Array(32).fill(i) } }))),
    )();
    db.prepare('INSERT INTO kt_map_entries (domain, label, commitment, epoch, jid, node, version, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(DOMAIN, Buffer.from(ENTRY.label), Buffer.from(ENTRY.commitment), 1, JULIET, NODE, 1, 0);
    db.prepare('INSERT INTO kt_map_epochs (domain, epoch, log_size, log_root, root, time, key, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(DOMAIN, 1, 9, Buffer.from(EPOCH.logRoot), Buffer.from(EPOCH.root), EPOCH.time, Buffer.from(EPOCH.key), Buffer.from(EPOCH.signature));
  } finally {
    db.close();
  }
}

describe('transparency file: the upgrade from schema 8', () => {
  it('moves the logs and the maps out of the main file, once, and serves them from the thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-import-'));
    const path = join(dir, 'pepkeys.sqlite');
    try {
      schema8(path);
      for (let open = 0; open < 2; open++) {
        const storage = openSqliteStorage({ path });
        try {
          assert.equal(await storage.transparency.size(DOMAIN), 9);
          const entries = await storage.transparency.entries(DOMAIN, 0, 9);
          assert.deepEqual(entries.map((e) => decodeLeaf(e.leaf).itemId), Array.from({ length: 9 }, (_, i) => `k${i}`));
          assert.deepEqual(await storage.ktMap!.latestEpoch(DOMAIN), EPOCH);
          assert.deepEqual(await storage.ktMap!.get(DOMAIN, ENTRY.label), ENTRY);
        } finally {
          await storage.close();
        }
      }
      const main = new Database(path, { readonly: true });
      try {
        assert.deepEqual(main.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'kt_%' ORDER BY name").pluck().all(), ['kt_file', 'kt_journal']);
      } finally {
        main.close();
      }
      const kt = new Database(ktFileOf(path), { readonly: true });
      try {
        assert.equal(kt.prepare('SELECT count(*) FROM kt_map_entries').pluck().get(), 1);
        assert.equal(kt.prepare('SELECT count(*) FROM kt_blocks').pluck().get(), 2);
        assert.deepEqual(kt.prepare("SELECT key FROM kt_meta WHERE key LIKE 'imported%' ORDER BY key").pluck().all(), ['imported', 'imported_map']);
      } finally {
        kt.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
