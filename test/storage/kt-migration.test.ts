// Migration 6 (compact transparency logs) converts logs written by migration 5 without loss, on SQLite and
// PostgreSQL (opening upgrades on through migration 7): a database at version 5 with two logs in the old
// layout (leaf bytes, leaf hashes, every perfect subtree) is upgraded by opening it; every leaf comes back
// byte for byte, proofs verify against heads signed before the upgrade, and the log keeps growing.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { latestSchemaVersion, migrations as sqliteMigrations } from '../../src/storage/sqlite/migrations.ts';
import { ktFileOf } from '../../src/storage/sqlite/kt-file.ts';
import { migrations as pgMigrations } from '../../src/storage/postgres/migrations.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';
import { postgresAvailability, startPostgres } from '../helpers/postgres.ts';
import { checkUpgraded, oldLogs, oldRows } from './kt-migration-fixtures.ts';

describe('migration 6 converts transparency logs (SQLite)', () => {
  it('a database of migration 5 with two logs, upgraded: same leaves, old heads verify, the log grows on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-migration-'));
    try {
      const path = join(dir, 'pepkeys.sqlite');
      const logs = await oldLogs();
      const db = new Database(path);
      db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT');
      for (const m of sqliteMigrations.filter((m) => m.version <= 5)) {
        db.exec(m.sql);
        db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
      }
      db.pragma('user_version = 5');
      db.transaction(() => {
        for (const log of logs) {
          const id = Number(db.prepare('INSERT INTO kt_logs (domain) VALUES (?)').run(log.domain).lastInsertRowid);
          const { leafRows, nodeRows } = oldRows(log);
          for (const r of leafRows) db.prepare('INSERT INTO kt_leaves (log_id, seq, jid, hash, leaf) VALUES (?, ?, ?, ?, ?)').run(id, r.seq, r.jid, r.hash, r.leaf);
          for (const r of nodeRows) db.prepare('INSERT INTO kt_nodes (log_id, level, idx, hash) VALUES (?, ?, ?, ?)').run(id, r.level, r.idx, r.hash);
        }
      })();
      db.close();

      const storage = openSqliteStorage({ path });
      try {
        await checkUpgraded(storage, logs);
      } finally {
        await storage.close();
      }
      const after6 = new Database(path, { readonly: true });
      try {
        assert.equal(after6.pragma('user_version', { simple: true }), latestSchemaVersion);
        const tables = after6.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'kt_%' AND name NOT LIKE 'kt_map_%' ORDER BY name").pluck().all();
        // The logs moved to the transparency file at the first open after migration 9 (kt-file.ts).
        assert.deepEqual(tables, ['kt_file', 'kt_journal']);
      } finally {
        after6.close();
      }
      const kt = new Database(ktFileOf(path), { readonly: true });
      try {
        const tables = kt.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'kt_%' AND name NOT LIKE 'kt_map_%' ORDER BY name").pluck().all();
        assert.deepEqual(tables, ['kt_blocks', 'kt_jids', 'kt_logs', 'kt_meta', 'kt_names']);
      } finally {
        kt.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const availability = postgresAvailability();
if (availability === 'ok') {
  const server = (await startPostgres())!;
  after(() => server.stop());
  describe('migration 6 converts transparency logs (PostgreSQL)', () => {
    it('a database of migration 5 with two logs, upgraded: same leaves, old heads verify, the log grows on', async () => {
      const url = await server.createDatabase();
      const logs = await oldLogs();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
        for (const m of pgMigrations.filter((m) => m.version <= 5)) {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations VALUES ($1, $2, 0)', [m.version, m.name]);
        }
        for (const log of logs) {
          const id = (await client.query<{ id: string }>('INSERT INTO kt_logs (domain) VALUES ($1) RETURNING id', [log.domain])).rows[0]!.id;
          const { leafRows, nodeRows } = oldRows(log);
          for (const r of leafRows) await client.query('INSERT INTO kt_leaves (log_id, seq, jid, hash, leaf) VALUES ($1, $2, $3, $4, $5)', [id, r.seq, r.jid, Buffer.from(r.hash), Buffer.from(r.leaf)]);
          for (const r of nodeRows) await client.query('INSERT INTO kt_nodes (log_id, level, idx, hash) VALUES ($1, $2, $3, $4)', [id, r.level, r.idx, Buffer.from(r.hash)]);
        }
      } finally {
        await client.end();
      }
      const storage = await openPostgresStorage({ connectionString: url });
      try {
        await checkUpgraded(storage, logs);
      } finally {
        await storage.close();
      }
      const check = new pg.Client({ connectionString: url });
      await check.connect();
      try {
        const { rows } = await check.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE tablename LIKE 'kt_%' AND tablename NOT LIKE 'kt_map_%' ORDER BY tablename");
        assert.deepEqual(rows.map((r) => r.t), ['kt_blocks', 'kt_jids', 'kt_logs', 'kt_names']);
        assert.equal((await check.query<{ v: number }>('SELECT max(version)::int AS v FROM schema_migrations')).rows[0]!.v, pgMigrations.at(-1)!.version);
      } finally {
        await check.end();
      }
    });
  });
}
