// Numbered schema migrations for PostgreSQL. Append new ones, never edit an applied one: the database
// remembers what it ran in `schema_migrations`.
//
// Several servers may start at once against one database, so migrating runs in ONE transaction that first
// takes a transaction-scoped advisory lock: the second server waits, then finds the migrations applied.
// PostgreSQL DDL is transactional, so a failing migration leaves the schema exactly as it was.
import type { Pool, PoolClient } from 'pg';
import { SchemaTooNewError } from '../errors.ts';
import { convertKtBlocks, convertKtLeaves } from './kt-migration.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Run after `sql`, in the same transaction: conversions SQL cannot express. */
  convert?: (client: PoolClient) => Promise<void>;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE accounts (
        jid         TEXT PRIMARY KEY,
        domain      TEXT NOT NULL,
        credentials TEXT NOT NULL,             -- JSON AccountCredentials, stored verbatim
        created_at  BIGINT NOT NULL            -- ms since the epoch
      );
      CREATE INDEX accounts_by_domain ON accounts (domain, jid);

      -- One counter per owner so versions only ever grow (RFC 6121 §2.6). Bumped with an upsert, which
      -- locks the row until COMMIT, so writers on different servers take turns and never reuse a version.
      CREATE TABLE roster_versions (
        owner   TEXT PRIMARY KEY,
        version BIGINT NOT NULL
      );

      CREATE TABLE roster_items (
        owner        TEXT NOT NULL,
        contact      TEXT NOT NULL,
        name         TEXT,
        subscription TEXT NOT NULL,
        ask          TEXT,
        approved     BOOLEAN,                  -- NULL when the caller left it unset
        groups_json  TEXT NOT NULL,
        PRIMARY KEY (owner, contact)
      );

      CREATE TABLE roster_pending_in (
        seq    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- arrival order
        owner  TEXT NOT NULL,
        sender TEXT NOT NULL,
        stanza TEXT NOT NULL,
        UNIQUE (owner, sender)
      );

      CREATE TABLE offline_messages (
        seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- arrival order
        owner     TEXT NOT NULL,
        stanza    TEXT NOT NULL,
        stored_at BIGINT NOT NULL
      );
      CREATE INDEX offline_by_owner ON offline_messages (owner, seq);

      CREATE TABLE caps (
        key  TEXT PRIMARY KEY,                 -- hash:ver
        info TEXT NOT NULL                     -- JSON CapsInfo
      );

      CREATE TABLE pubsub_nodes (
        id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        service    TEXT NOT NULL,
        node       TEXT NOT NULL,
        config     TEXT NOT NULL,              -- JSON NodeConfig
        created_at BIGINT NOT NULL,
        -- Source of item sequence numbers, never decreases. Drawn with UPDATE ... RETURNING, which locks the
        -- node row until COMMIT: publishes to one node from any server are serialised, so item order and
        -- max_items trimming stay exact.
        last_seq   BIGINT NOT NULL DEFAULT 0,
        UNIQUE (service, node)
      );

      CREATE TABLE pubsub_items (
        node_id      BIGINT NOT NULL REFERENCES pubsub_nodes (id) ON DELETE CASCADE,
        item_id      TEXT NOT NULL,
        seq          BIGINT NOT NULL,          -- higher is newer; a republish takes a new one
        publisher    TEXT NOT NULL,
        payload      TEXT NOT NULL,
        published_at BIGINT NOT NULL,
        PRIMARY KEY (node_id, item_id)
      );
      CREATE UNIQUE INDEX pubsub_items_by_seq ON pubsub_items (node_id, seq);

      CREATE TABLE pubsub_affiliations (
        node_id     BIGINT NOT NULL REFERENCES pubsub_nodes (id) ON DELETE CASCADE,
        jid         TEXT NOT NULL,
        affiliation TEXT NOT NULL,
        PRIMARY KEY (node_id, jid)
      );

      CREATE TABLE pubsub_subscriptions (
        node_id BIGINT NOT NULL REFERENCES pubsub_nodes (id) ON DELETE CASCADE,
        jid     TEXT NOT NULL,
        state   TEXT NOT NULL,
        PRIMARY KEY (node_id, jid)
      );

      -- publishItem in one round trip. Each statement of a VOLATILE PL/pgSQL function takes a fresh
      -- snapshot under READ COMMITTED, so once the UPDATE holds the node's row lock (waiting for another
      -- server's publish to commit if need be) the insert and the trim see every item committed before.
      -- Returns NULL when the node does not exist, else the evicted ids oldest first.
      CREATE FUNCTION pepkeys_publish_item(p_service TEXT, p_node TEXT, p_item TEXT, p_publisher TEXT,
                                           p_payload TEXT, p_published_at BIGINT, p_max_items INTEGER)
      RETURNS TEXT[] LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        v_node BIGINT;
        v_seq BIGINT;
        v_evicted TEXT[];
      BEGIN
        UPDATE pubsub_nodes SET last_seq = last_seq + 1 WHERE service = p_service AND node = p_node
          RETURNING id, last_seq INTO v_node, v_seq;
        IF NOT FOUND THEN
          RETURN NULL;
        END IF;
        INSERT INTO pubsub_items (node_id, item_id, seq, publisher, payload, published_at)
          VALUES (v_node, p_item, v_seq, p_publisher, p_payload, p_published_at)
          ON CONFLICT (node_id, item_id) DO UPDATE SET seq = excluded.seq, publisher = excluded.publisher,
            payload = excluded.payload, published_at = excluded.published_at;
        IF p_max_items IS NULL THEN
          RETURN '{}';
        END IF;
        WITH ev AS (
          DELETE FROM pubsub_items WHERE node_id = v_node AND seq <= (
            SELECT seq FROM pubsub_items WHERE node_id = v_node ORDER BY seq DESC OFFSET greatest(p_max_items, 0) LIMIT 1)
          RETURNING item_id, seq)
        SELECT coalesce(array_agg(item_id ORDER BY seq), '{}') INTO v_evicted FROM ev;
        RETURN v_evicted;
      END
      $$;
    `,
  },
  {
    version: 2,
    name: 'caps use order, verbatim offline messages',
    sql: `
      -- Least-recently-used eviction of the caps cache (issue 19 finding 6): a use counter, higher is newer.
      ALTER TABLE caps ADD COLUMN used_at BIGINT NOT NULL DEFAULT 0;
      CREATE INDEX caps_by_use ON caps (used_at);
      -- true: the stanza is exactly what to deliver (delay stamp included, written by a server that carries
      -- namespace declarations into stanzas), replayed without a parse (finding 8). Older rows are parsed.
      ALTER TABLE offline_messages ADD COLUMN verbatim BOOLEAN NOT NULL DEFAULT false;
    `,
  },
  {
    version: 3,
    name: 'message archives (XEP-0313)',
    sql: `
      CREATE TABLE archive_messages (
        seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- archive order
        owner     TEXT NOT NULL,
        id        TEXT NOT NULL,               -- the stanza-id handed to clients
        with_jid  TEXT NOT NULL,               -- the other party, as the stanza names it
        with_bare TEXT NOT NULL,
        stored_at BIGINT NOT NULL,
        stanza    TEXT NOT NULL,
        UNIQUE (owner, id)
      );
      CREATE INDEX archive_by_owner ON archive_messages (owner, seq);
      CREATE INDEX archive_by_with ON archive_messages (owner, with_bare, seq);
      CREATE INDEX archive_by_time ON archive_messages (stored_at);

      CREATE TABLE archive_prefs (
        owner        TEXT PRIMARY KEY,
        default_mode TEXT NOT NULL,            -- always | never | roster
        always_json  TEXT NOT NULL,
        never_json   TEXT NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'blocklists',
    sql: `
      -- XEP-0191: the JIDs each account blocks (bare, full or domain JIDs).
      CREATE TABLE blocklist (
        owner TEXT NOT NULL,
        jid   TEXT NOT NULL,
        PRIMARY KEY (owner, jid)
      );
    `,
  },
  {
    version: 5,
    name: 'key transparency logs',
    sql: `
      -- Issue 14: one append-only RFC 9162 log of key events per served domain (docs/transparency.md).
      -- Appends lock the kt_logs row, so servers sharing the database append to one log one at a time.
      CREATE TABLE kt_logs (
        id     BIGSERIAL PRIMARY KEY,
        domain TEXT NOT NULL UNIQUE
      );
      CREATE TABLE kt_leaves (
        log_id BIGINT NOT NULL,
        seq    BIGINT NOT NULL,
        jid    TEXT NOT NULL,
        hash   BYTEA NOT NULL,
        leaf   BYTEA NOT NULL,
        PRIMARY KEY (log_id, seq)
      );
      CREATE INDEX kt_leaves_by_jid ON kt_leaves (log_id, jid, seq);
      -- Perfect subtrees of level >= 1: node (level, idx) covers leaves [idx*2^level, (idx+1)*2^level).
      CREATE TABLE kt_nodes (
        log_id BIGINT NOT NULL,
        level  SMALLINT NOT NULL,
        idx    BIGINT NOT NULL,
        hash   BYTEA NOT NULL,
        PRIMARY KEY (log_id, level, idx)
      );
    `,
  },
  {
    version: 6,
    name: 'compact key transparency logs',
    sql: `
      -- Issue 14: the layout of SQLite's migration 6 (docs/transparency.md "Storage").
      CREATE TABLE kt_names (
        id   BIGSERIAL PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
      );
      CREATE TABLE kt_entries (
        log_id  BIGINT NOT NULL,
        seq     BIGINT NOT NULL,
        jid_id  BIGINT NOT NULL,
        node_id BIGINT NOT NULL,
        body    BYTEA NOT NULL,
        PRIMARY KEY (log_id, seq)
      );
      CREATE INDEX kt_entries_by_jid ON kt_entries (log_id, jid_id, seq);
      CREATE TABLE kt_subtrees (
        log_id BIGINT NOT NULL,
        last   BIGINT NOT NULL,
        level  SMALLINT NOT NULL,
        hash   BYTEA NOT NULL,
        PRIMARY KEY (log_id, last, level)
      );
      INSERT INTO kt_subtrees (log_id, last, level, hash) SELECT log_id, ((idx + 1) << level) - 1, level, hash FROM kt_nodes WHERE level >= 3;
      DROP TABLE kt_nodes;
    `,
    convert: (client) => convertKtLeaves(client),
  },
  {
    version: 7,
    name: 'key transparency leaves in blocks of 8',
    sql: `
      -- Issue 14: the layout of SQLite's migration 7 (docs/transparency.md "Storage").
      CREATE TABLE kt_blocks (
        log_id BIGINT NOT NULL,
        block  BIGINT NOT NULL,
        hash   BYTEA,
        leaves BYTEA NOT NULL,
        PRIMARY KEY (log_id, block)
      );
      CREATE TABLE kt_jids (
        log_id BIGINT NOT NULL,
        jid_id BIGINT NOT NULL,
        seq    BIGINT NOT NULL,
        PRIMARY KEY (log_id, jid_id, seq)
      );
    `,
    convert: (client) => convertKtBlocks(client),
  },
  {
    version: 8,
    name: 'key transparency verifiable maps',
    sql: `
      -- Issue 14 Stage 2: the layout of SQLite's migration 8 (docs/transparency.md "Map storage").
      CREATE TABLE kt_map_entries (
        domain     TEXT NOT NULL,
        label      BYTEA NOT NULL,
        commitment BYTEA NOT NULL,
        epoch      BIGINT NOT NULL,
        jid        TEXT NOT NULL,
        node       TEXT NOT NULL,
        version    BIGINT NOT NULL,
        seq        BIGINT NOT NULL,
        PRIMARY KEY (domain, label)
      );
      CREATE UNIQUE INDEX kt_map_entries_by_key ON kt_map_entries (domain, jid, node, version);
      CREATE INDEX kt_map_entries_by_epoch ON kt_map_entries (domain, epoch);
      CREATE TABLE kt_map_epochs (
        domain    TEXT NOT NULL,
        epoch     BIGINT NOT NULL,
        log_size  BIGINT NOT NULL,
        log_root  BYTEA NOT NULL,
        root      BYTEA NOT NULL,
        time      BIGINT NOT NULL,
        key       BYTEA NOT NULL,
        signature BYTEA NOT NULL,
        PRIMARY KEY (domain, epoch)
      );
    `,
  },
];

export const latestSchemaVersion = migrations[migrations.length - 1].version;

/** Key of the advisory lock serialising migrations ("pepkeys" in ASCII). */
export const MIGRATION_LOCK_KEY = BigInt('0x7065706b657973').toString();

/** Brings the schema up to date; returns the versions applied now (empty when already current). */
export async function migrate(pool: Pool): Promise<number[]> {
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    // Checked before creating anything, so the NOTICE of CREATE TABLE IF NOT EXISTS is not logged each start.
    const exists = await client.query<{ t: string | null }>("SELECT to_regclass('schema_migrations') AS t");
    if (exists.rows[0].t === null) {
      await client.query(`CREATE TABLE schema_migrations (
        version    INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        applied_at BIGINT NOT NULL
      )`);
    }
    const { rows } = await client.query<{ v: number }>('SELECT coalesce(max(version), 0)::int AS v FROM schema_migrations');
    const current = rows[0].v;
    if (current > latestSchemaVersion) throw new SchemaTooNewError(current, latestSchemaVersion);
    const applied: number[] = [];
    for (const m of migrations) {
      if (m.version <= current) continue;
      await client.query(m.sql);
      await m.convert?.(client);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch((e: Error) => (failed = e));
    throw err;
  } finally {
    client.release(failed);
  }
}
