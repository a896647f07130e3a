// Migration 6 (compact transparency logs) converts logs written by migration 5 without loss, on SQLite and
// PostgreSQL: a database at version 5 with two logs in the old layout (leaf bytes, leaf hashes, every
// perfect subtree) is upgraded by opening it; every leaf comes back byte for byte, proofs verify against
// heads signed before the upgrade, and the log keeps growing consistently with them.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { migrations as sqliteMigrations } from '../../src/storage/sqlite/migrations.ts';
import { migrations as pgMigrations } from '../../src/storage/postgres/migrations.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';
import type { Storage } from '../../src/storage/types.ts';
import { encodeLeaf, type KeyEvent } from '../../src/transparency/leaf.ts';
import { leafHash } from '../../src/transparency/hash.ts';
import { MemoryTree, rootHash } from '../../src/transparency/tree.ts';
import { inclusionProof, verifyInclusion } from '../../src/transparency/inclusion.ts';
import { consistencyProof, verifyConsistency } from '../../src/transparency/consistency.ts';
import { signTreeHead, verifyTreeHead, type SignedTreeHead } from '../../src/transparency/tree-head.ts';
import { item } from '../contract/fixtures.ts';
import { postgresAvailability, startPostgres } from '../helpers/postgres.ts';

const DOMAINS = ['capulet.lit', 'montague.lit'];
const SIZES = [300, 45];
const { privateKey } = generateKeyPairSync('ed25519');

/** Leaves of every shape the compact body has a form for, and some it keeps whole. */
function event(seq: number, domain: string): KeyEvent {
  const jid = seq % 7 === 0 ? `jüliet${seq % 5}@${domain}` : `user${seq % 11}@${domain}`;
  const hex = Buffer.alloc(32, seq % 256).toString('hex');
  const shapes: Omit<KeyEvent, 'seq' | 'jid'>[] = [
    { type: 'publish', time: 1_764_892_800_000 + seq, node: 'urn:xmpp:pubkey:2', itemId: 'current', payloadHash: new Uint8Array(32).fill(seq % 256), fingerprint: `sha-256:${hex}` },
    { type: 'publish', time: 1_764_892_800_000 + seq, node: 'eu.siacs.conversations.axolotl.bundles:42', itemId: `i${seq}`, payloadHash: new Uint8Array(32).fill(1), fingerprint: `omemo:${hex}` },
    { type: 'retract', time: 1_764_892_800_000 + seq, node: 'urn:xmpp:openpgp:0:public-keys:0123456789abcdef0123456789abcdef01234567', itemId: '2026-01-01T00:00:00Z', fingerprint: 'openpgp-v4:0123456789abcdef0123456789abcdef01234567' },
    { type: 'purge', time: 1_764_892_800_000 + seq, node: 'urn:xmpp:omemo:2:devices', itemId: '' },
    { type: 'delete', time: seq, node: 'urn:xmpp:pubkey:2', itemId: '' },
    // Upper-case hex and an unknown algorithm stay text; a time beyond 48 bits keeps the leaf whole.
    { type: 'publish', time: 1_764_892_800_000, node: 'urn:xmpp:pubkey:1', itemId: 'current', payloadHash: new Uint8Array(32).fill(2), fingerprint: `SHA-256:${hex.toUpperCase()}` },
    { type: 'publish', time: 2 ** 50 + seq, node: 'urn:xmpp:attest:1', itemId: '☃', payloadHash: new Uint8Array(32).fill(3), fingerprint: 'blake3:abc' },
  ];
  return { seq, jid, ...shapes[seq % shapes.length]! };
}

interface OldLog {
  domain: string;
  leaves: Uint8Array[];
  tree: MemoryTree;
  heads: SignedTreeHead[];
}

/** The logs as migration 5's adapters stored them, and heads signed over them then. */
async function oldLogs(): Promise<OldLog[]> {
  return Promise.all(DOMAINS.map(async (domain, d) => {
    const tree = new MemoryTree();
    const leaves: Uint8Array[] = [];
    for (let seq = 0; seq < SIZES[d]!; seq++) {
      const leaf = encodeLeaf(event(seq, domain));
      leaves.push(leaf);
      tree.appendLeafInput(leaf);
    }
    const heads = [];
    for (const size of [SIZES[d]!, Math.floor(SIZES[d]! / 2) + 3, 1]) {
      heads.push(signTreeHead({ domain, size, time: 1_764_892_900_000, root: await rootHash(size, tree.read) }, privateKey));
    }
    return { domain, leaves, tree, heads };
  }));
}

/** The rows of migration 5 for a log: [log row id, leaves, perfect subtrees of level >= 1]. */
function oldRows(log: OldLog) {
  const leafRows = log.leaves.map((leaf, seq) => ({ seq, jid: event(seq, log.domain).jid, hash: log.tree.node({ level: 0, index: seq }), leaf }));
  const nodeRows = log.tree.levels.slice(1).flatMap((l, i) => l.map((hash, idx) => ({ level: i + 1, idx, hash })));
  return { leafRows, nodeRows };
}

async function checkUpgraded(storage: Storage, logs: OldLog[]): Promise<void> {
  const kt = storage.transparency;
  for (const log of logs) {
    const n = log.leaves.length;
    assert.equal(await kt.size(log.domain), n);
    const entries = [];
    for (let s = 0; s < n; s += 100) entries.push(...(await kt.entries(log.domain, s, s + 100)));
    assert.deepEqual(entries.map((e) => Buffer.from(e.leaf).toString('hex')), log.leaves.map((l) => Buffer.from(l).toString('hex')), `${log.domain}: every leaf as it was`);
    const read = (refs: Parameters<typeof kt.nodes>[1]) => kt.nodes(log.domain, refs);
    for (const head of log.heads) {
      assert.ok(verifyTreeHead(head));
      assert.deepEqual(await rootHash(head.size, read), head.root, `${log.domain}: root of the old head of size ${head.size}`);
      for (const seq of [0, 1, head.size - 1, Math.floor(head.size / 3)].filter((s) => s < head.size)) {
        assert.ok(verifyInclusion(seq, head.size, leafHash(log.leaves[seq]!), await inclusionProof(seq, head.size, read), head.root), `${log.domain}: leaf ${seq} in the old head of size ${head.size}`);
      }
    }
    const [latest, middle] = log.heads;
    assert.ok(verifyConsistency(middle!.size, latest!.size, await consistencyProof(middle!.size, latest!.size, read), middle!.root, latest!.root));
    const jid = event(3, log.domain).jid;
    const of = await kt.entriesOf(log.domain, jid, 0, 1000);
    assert.deepEqual(of.map((e) => e.seq), log.leaves.map((_, seq) => seq).filter((seq) => event(seq, log.domain).jid === jid));
  }
  // The log grows on from the converted one, consistently with the head signed before the upgrade.
  const [log] = logs;
  const owner = event(3, log!.domain).jid;
  await storage.pubsub.createNode({ service: owner, node: 'urn:xmpp:pubkey:2', config: {}, createdAt: 1 });
  for (let i = 0; i < 20; i++) {
    await storage.pubsub.publishItem(item(owner, 'urn:xmpp:pubkey:2', `new${i}`), undefined, {
      domain: log!.domain,
      event: { type: 'publish', time: 1_764_893_000_000 + i, jid: owner, node: 'urn:xmpp:pubkey:2', itemId: `new${i}`, payloadHash: new Uint8Array(32).fill(9), fingerprint: 'sha-256:00' },
    });
  }
  const read = (refs: Parameters<typeof kt.nodes>[1]) => kt.nodes(log!.domain, refs);
  const n = log!.leaves.length + 20;
  assert.equal(await kt.size(log!.domain), n);
  const root = await rootHash(n, read);
  for (const old of log!.heads) assert.ok(verifyConsistency(old.size, n, await consistencyProof(old.size, n, read), old.root, root), `grown log consistent with the old head of size ${old.size}`);
  const reference = new MemoryTree();
  for (const e of await kt.entries(log!.domain, 0, n)) reference.appendLeafInput(e.leaf);
  assert.deepEqual(await rootHash(n, reference.read), root);
}

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
        assert.equal(after6.pragma('user_version', { simple: true }), sqliteMigrations.at(-1)!.version);
        const tables = after6.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'kt_%' AND name NOT LIKE 'kt_map_%' ORDER BY name").pluck().all();
        assert.deepEqual(tables, ['kt_entries', 'kt_logs', 'kt_names', 'kt_subtrees']);
      } finally {
        after6.close();
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
        assert.deepEqual(rows.map((r) => r.t), ['kt_entries', 'kt_logs', 'kt_names', 'kt_subtrees']);
        assert.equal((await check.query<{ v: number }>('SELECT max(version)::int AS v FROM schema_migrations')).rows[0]!.v, pgMigrations.at(-1)!.version);
      } finally {
        await check.end();
      }
    });
  });
}
