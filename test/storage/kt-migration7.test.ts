// Migration 7 (leaves in blocks of 8) converts logs written by migration 6 without loss, on SQLite and
// PostgreSQL: a database at version 6 with two logs in that layout (compact rows, subtrees of level ≥ 3) is
// upgraded by opening it; every leaf comes back byte for byte, proofs verify against heads signed before,
// the log grows on. A log whose stored subtree does not match its leaves stops the upgrade at version 6.
import { ktFileOf } from '../../src/storage/sqlite/kt-file.ts';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { migrations as sqliteMigrations } from '../../src/storage/sqlite/migrations.ts';
import { migrations as pgMigrations } from '../../src/storage/postgres/migrations.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';
import { encodeBody } from '../../src/storage/sql/kt-body.ts';
import { checkUpgraded, event, oldLogs, type OldLog } from './kt-migration-fixtures.ts';
import { postgresAvailability, startPostgres } from '../helpers/postgres.ts';

/** Migration 6's rows of a log: names, compact entries, subtrees of level >= 3 by their last leaf. */
function v6Rows(log: OldLog) {
  const entries = log.leaves.map((leaf, seq) => {
    const e = event(seq, log.domain);
    return { seq, jid: e.jid, node: e.node, body: encodeBody(e, seq, leaf) };
  });
  const subtrees = log.tree.levels.slice(3).flatMap((l, i) => l.map((hash, idx) => ({ level: i + 3, last: (idx + 1) * 2 ** (i + 3) - 1, hash: Buffer.from(hash) })));
  return { entries, subtrees };
}

function v6Sqlite(path: string, logs: OldLog[], corrupt = false): void {
  const db = new Database(path);
  try {
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT');
    for (const m of sqliteMigrations.filter((m) => m.version <= 6)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
    }
    // Migration 6 converted and dropped the old leaf table (empty here).
    db.exec('DROP TABLE kt_leaves');
    db.pragma('user_version = 6');
    const name = (n: string) => {
      db.prepare('INSERT INTO kt_names (name) VALUES (?) ON CONFLICT DO NOTHING').run(n);
      return db.prepare('SELECT id FROM kt_names WHERE name = ?').pluck().get(n) as number;
    };
    db.transaction(() => {
      for (const log of logs) {
        const id = Number(db.prepare('INSERT INTO kt_logs (domain) VALUES (?)').run(log.domain).lastInsertRowid);
        const { entries, subtrees } = v6Rows(log);
        for (const r of entries) db.prepare('INSERT INTO kt_entries (log_id, seq, jid_id, node_id, body) VALUES (?, ?, ?, ?, ?)').run(id, r.seq, name(r.jid), name(r.node), r.body);
        for (const [i, r] of subtrees.entries()) {
          if (corrupt && i === 3) r.hash[0]! ^= 1;
          db.prepare('INSERT INTO kt_subtrees (log_id, last, level, hash) VALUES (?, ?, ?, ?)').run(id, r.last, r.level, r.hash);
        }
      }
    })();
  } finally {
    db.close();
  }
}

describe('migration 7 puts transparency leaves in blocks of 8 (SQLite)', () => {
  it('a database of migration 6 with two logs, upgraded: same leaves, old heads verify, the log grows on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-migration7-'));
    try {
      const path = join(dir, 'pepkeys.sqlite');
      const logs = await oldLogs();
      v6Sqlite(path, logs);
      const storage = openSqliteStorage({ path });
      try {
        await checkUpgraded(storage, logs);
      } finally {
        await storage.close();
      }
      const db = new Database(path, { readonly: true });
      try {
        assert.equal(db.pragma('user_version', { simple: true }), sqliteMigrations.at(-1)!.version);
        // The logs moved to the transparency file at the first open after migration 9 (kt-file.ts).
        assert.deepEqual(db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'kt_%' AND name NOT LIKE 'kt_map_%' ORDER BY name").pluck().all(), ['kt_file', 'kt_journal']);
      } finally {
        db.close();
      }
      const kt = new Database(ktFileOf(path), { readonly: true });
      try {
        // 300 + 20 leaves and 45: 40 + 6 blocks, the last of each partial and without a hash.
        assert.equal(kt.prepare('SELECT count(*) FROM kt_blocks').pluck().get(), 46);
        assert.equal(kt.prepare('SELECT count(*) FROM kt_blocks WHERE hash IS NULL').pluck().get(), 1);
        assert.equal(kt.prepare('SELECT count(*) FROM kt_jids').pluck().get(), 365);
      } finally {
        kt.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a stored subtree that does not match the leaves stops the upgrade: the database stays at version 6', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-migration7-'));
    try {
      const path = join(dir, 'pepkeys.sqlite');
      v6Sqlite(path, await oldLogs(), true);
      assert.throws(() => openSqliteStorage({ path }), /does not match its leaves/);
      const db = new Database(path, { readonly: true });
      try {
        assert.equal(db.pragma('user_version', { simple: true }), 6);
        assert.equal(db.prepare('SELECT count(*) FROM kt_entries').pluck().get(), 345);
      } finally {
        db.close();
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
  describe('migration 7 puts transparency leaves in blocks of 8 (PostgreSQL)', () => {
    async function v6Postgres(logs: OldLog[], corrupt = false): Promise<string> {
      const url = await server.createDatabase();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
        for (const m of pgMigrations.filter((m) => m.version <= 6)) {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations VALUES ($1, $2, 0)', [m.version, m.name]);
        }
        await client.query('DROP TABLE kt_leaves');
        for (const log of logs) {
          const id = (await client.query<{ id: string }>('INSERT INTO kt_logs (domain) VALUES ($1) RETURNING id', [log.domain])).rows[0]!.id;
          const { entries, subtrees } = v6Rows(log);
          for (const r of entries) {
            await client.query('INSERT INTO kt_names (name) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [[r.jid, r.node]]);
            await client.query(
              'INSERT INTO kt_entries (log_id, seq, jid_id, node_id, body) VALUES ($1, $2, (SELECT id FROM kt_names WHERE name = $3), (SELECT id FROM kt_names WHERE name = $4), $5)',
              [id, r.seq, r.jid, r.node, r.body],
            );
          }
          for (const [i, r] of subtrees.entries()) {
            if (corrupt && i === 3) r.hash[0]! ^= 1;
            await client.query('INSERT INTO kt_subtrees (log_id, last, level, hash) VALUES ($1, $2, $3, $4)', [id, r.last, r.level, r.hash]);
          }
        }
      } finally {
        await client.end();
      }
      return url;
    }
    const tables = async (url: string) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const t = (await c.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE tablename LIKE 'kt_%' AND tablename NOT LIKE 'kt_map_%' ORDER BY tablename")).rows.map((r) => r.t);
        const v = (await c.query<{ v: number }>('SELECT max(version)::int AS v FROM schema_migrations')).rows[0]!.v;
        return { t, v };
      } finally {
        await c.end();
      }
    };

    it('a database of migration 6 with two logs, upgraded: same leaves, old heads verify, the log grows on', async () => {
      const logs = await oldLogs();
      const url = await v6Postgres(logs);
      const storage = await openPostgresStorage({ connectionString: url });
      try {
        await checkUpgraded(storage, logs);
      } finally {
        await storage.close();
      }
      assert.deepEqual(await tables(url), { t: ['kt_blocks', 'kt_jids', 'kt_logs', 'kt_names'], v: pgMigrations.at(-1)!.version });
    });

    it('a stored subtree that does not match the leaves stops the upgrade at version 6', async () => {
      const url = await v6Postgres(await oldLogs(), true);
      await assert.rejects(openPostgresStorage({ connectionString: url }), /does not match its leaves/);
      assert.deepEqual(await tables(url), { t: ['kt_entries', 'kt_logs', 'kt_names', 'kt_subtrees'], v: 6 });
    });
  });
} else {
  describe('migration 7 (PostgreSQL)', () => {
    it('needs PostgreSQL', { skip: availability }, () => {});
  });
}
