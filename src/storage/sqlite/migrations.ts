// Numbered schema migrations. Append new ones, never edit an applied one: a database remembers what it ran
// in `schema_migrations`, and `PRAGMA user_version` mirrors the latest number for quick inspection.
import type { SqliteDatabase } from './database.ts';
import { SchemaTooNewError } from '../errors.ts';
import { convertKtBlocks, convertKtLeaves } from './kt-migration.ts';
import { convertKtJournal } from './kt-journal-migration.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Run after `sql`, in the same transaction: conversions SQL cannot express. */
  convert?: (db: SqliteDatabase) => void;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE accounts (
        jid         TEXT PRIMARY KEY,
        domain      TEXT NOT NULL,
        credentials TEXT NOT NULL,             -- JSON AccountCredentials
        created_at  INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX accounts_by_domain ON accounts (domain, jid);

      -- One counter per owner so versions only ever grow (RFC 6121 §2.6).
      CREATE TABLE roster_versions (
        owner   TEXT PRIMARY KEY,
        version INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE roster_items (
        owner        TEXT NOT NULL,
        contact      TEXT NOT NULL,
        name         TEXT,
        subscription TEXT NOT NULL,
        ask          TEXT,
        approved     INTEGER,                  -- NULL when the caller left it unset
        groups_json  TEXT NOT NULL,
        PRIMARY KEY (owner, contact)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE roster_pending_in (
        seq    INTEGER PRIMARY KEY,            -- arrival order
        owner  TEXT NOT NULL,
        sender TEXT NOT NULL,
        stanza TEXT NOT NULL,
        UNIQUE (owner, sender)
      ) STRICT;

      CREATE TABLE offline_messages (
        seq       INTEGER PRIMARY KEY,         -- arrival order
        owner     TEXT NOT NULL,
        stanza    TEXT NOT NULL,
        stored_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX offline_by_owner ON offline_messages (owner, seq);

      CREATE TABLE caps (
        key  TEXT PRIMARY KEY,                 -- hash:ver
        info TEXT NOT NULL                     -- JSON CapsInfo
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE pubsub_nodes (
        id         INTEGER PRIMARY KEY,
        service    TEXT NOT NULL,
        node       TEXT NOT NULL,
        config     TEXT NOT NULL,              -- JSON NodeConfig
        created_at INTEGER NOT NULL,
        last_seq   INTEGER NOT NULL DEFAULT 0, -- source of item sequence numbers, never decreases
        UNIQUE (service, node)
      ) STRICT;

      CREATE TABLE pubsub_items (
        node_id      INTEGER NOT NULL REFERENCES pubsub_nodes (id) ON DELETE CASCADE,
        item_id      TEXT NOT NULL,
        seq          INTEGER NOT NULL,         -- higher is newer; a republish takes a new one
        publisher    TEXT NOT NULL,
        payload      TEXT NOT NULL,
        published_at INTEGER NOT NULL,
        PRIMARY KEY (node_id, item_id)
      ) STRICT, WITHOUT ROWID;
      CREATE UNIQUE INDEX pubsub_items_by_seq ON pubsub_items (node_id, seq);

      CREATE TABLE pubsub_affiliations (
        node_id     INTEGER NOT NULL REFERENCES pubsub_nodes (id) ON DELETE CASCADE,
        jid         TEXT NOT NULL,
        affiliation TEXT NOT NULL,
        PRIMARY KEY (node_id, jid)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE pubsub_subscriptions (
        node_id INTEGER NOT NULL REFERENCES pubsub_nodes (id) ON DELETE CASCADE,
        jid     TEXT NOT NULL,
        state   TEXT NOT NULL,
        PRIMARY KEY (node_id, jid)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'caps use order, verbatim offline messages',
    sql: `
      -- Least-recently-used eviction of the caps cache (issue 19 finding 6): a use counter, higher is newer.
      ALTER TABLE caps ADD COLUMN used_at INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX caps_by_use ON caps (used_at);
      -- 1: the stanza is exactly what to deliver (delay stamp included, written by a server that carries
      -- namespace declarations into stanzas), replayed without a parse (finding 8). Older rows are parsed.
      ALTER TABLE offline_messages ADD COLUMN verbatim INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 3,
    name: 'message archives (XEP-0313)',
    sql: `
      CREATE TABLE archive_messages (
        seq       INTEGER PRIMARY KEY,         -- archive order
        owner     TEXT NOT NULL,
        id        TEXT NOT NULL,               -- the stanza-id handed to clients
        with_jid  TEXT NOT NULL,               -- the other party, as the stanza names it
        with_bare TEXT NOT NULL,
        stored_at INTEGER NOT NULL,
        stanza    TEXT NOT NULL,
        UNIQUE (owner, id)
      ) STRICT;
      CREATE INDEX archive_by_owner ON archive_messages (owner, seq);
      CREATE INDEX archive_by_with ON archive_messages (owner, with_bare, seq);
      CREATE INDEX archive_by_time ON archive_messages (stored_at);

      CREATE TABLE archive_prefs (
        owner        TEXT PRIMARY KEY,
        default_mode TEXT NOT NULL,            -- always | never | roster
        always_json  TEXT NOT NULL,
        never_json   TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
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
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    name: 'key transparency logs',
    sql: `
      -- Issue 14: one append-only RFC 9162 log of key events per served domain (docs/transparency.md).
      CREATE TABLE kt_logs (
        id     INTEGER PRIMARY KEY,
        domain TEXT NOT NULL UNIQUE
      ) STRICT;
      -- Leaf seq of a log: its encoded bytes (transparency/leaf.ts) and their RFC 9162 leaf hash.
      CREATE TABLE kt_leaves (
        log_id INTEGER NOT NULL,
        seq    INTEGER NOT NULL,
        jid    TEXT NOT NULL,
        hash   BLOB NOT NULL,
        leaf   BLOB NOT NULL,
        PRIMARY KEY (log_id, seq)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX kt_leaves_by_jid ON kt_leaves (log_id, jid, seq);
      -- Perfect subtrees of level >= 1: node (level, idx) covers leaves [idx*2^level, (idx+1)*2^level).
      CREATE TABLE kt_nodes (
        log_id INTEGER NOT NULL,
        level  INTEGER NOT NULL,
        idx    INTEGER NOT NULL,
        hash   BLOB NOT NULL,
        PRIMARY KEY (log_id, level, idx)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 6,
    name: 'compact key transparency logs',
    sql: `
      -- Issue 14: at most ~100 bytes per leaf (docs/transparency.md "Storage"). JIDs and node names once each.
      CREATE TABLE kt_names (
        id   INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
      ) STRICT;
      -- A leaf: its JID and node by number, the rest in a compact body (storage/sql/kt-body.ts) from which the
      -- canonical leaf is rebuilt; its hash is computed, not stored.
      CREATE TABLE kt_entries (
        log_id  INTEGER NOT NULL,
        seq     INTEGER NOT NULL,
        jid_id  INTEGER NOT NULL,
        node_id INTEGER NOT NULL,
        body    BLOB NOT NULL,
        PRIMARY KEY (log_id, seq)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX kt_entries_by_jid ON kt_entries (log_id, jid_id, seq);
      -- Perfect subtrees of level >= 3 by their last leaf (storage/sql/kt-tree.ts); lower ones are hashed from leaves.
      CREATE TABLE kt_subtrees (
        log_id INTEGER NOT NULL,
        last   INTEGER NOT NULL,
        level  INTEGER NOT NULL,
        hash   BLOB NOT NULL,
        PRIMARY KEY (log_id, last, level)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO kt_subtrees (log_id, last, level, hash) SELECT log_id, ((idx + 1) << level) - 1, level, hash FROM kt_nodes WHERE level >= 3;
      DROP TABLE kt_nodes;
    `,
    // kt_leaves → kt_names + kt_entries (in JavaScript: the body is a binary encoding), then dropped.
    convert: (db) => convertKtLeaves(db),
  },
  {
    version: 7,
    name: 'key transparency leaves in blocks of 8',
    sql: `
      -- Issue 14: leaves in rows of 8 (storage/sql/kt-block.ts), a row being the level-3 subtree it holds,
      -- with that subtree's hash once full; every upper subtree is folded from them in memory.
      CREATE TABLE kt_blocks (
        log_id INTEGER NOT NULL,
        block  INTEGER NOT NULL,
        hash   BLOB,
        leaves BLOB NOT NULL,
        PRIMARY KEY (log_id, block)
      ) STRICT, WITHOUT ROWID;
      -- entries-of: a JID's leaves.
      CREATE TABLE kt_jids (
        log_id INTEGER NOT NULL,
        jid_id INTEGER NOT NULL,
        seq    INTEGER NOT NULL,
        PRIMARY KEY (log_id, jid_id, seq)
      ) STRICT, WITHOUT ROWID;
    `,
    // kt_entries → kt_blocks + kt_jids, checked leaf by leaf and subtree by subtree, then both dropped.
    convert: (db) => convertKtBlocks(db),
  },
  {
    version: 8,
    name: 'key transparency verifiable maps',
    sql: `
      -- Issue 14 Stage 2 (docs/transparency.md "Map storage"). An entry per key event: its VRF label, its
      -- commitment and the epoch that inserted it (public through proofs), and whose event it is (private).
      CREATE TABLE kt_map_entries (
        domain     TEXT NOT NULL,
        label      BLOB NOT NULL,
        commitment BLOB NOT NULL,
        epoch      INTEGER NOT NULL,
        jid        TEXT NOT NULL,
        node       TEXT NOT NULL,
        version    INTEGER NOT NULL,
        seq        INTEGER NOT NULL,
        PRIMARY KEY (domain, label)
      ) STRICT, WITHOUT ROWID;
      CREATE UNIQUE INDEX kt_map_entries_by_key ON kt_map_entries (domain, jid, node, version);
      CREATE INDEX kt_map_entries_by_epoch ON kt_map_entries (domain, epoch);
      CREATE TABLE kt_map_epochs (
        domain    TEXT NOT NULL,
        epoch     INTEGER NOT NULL,
        log_size  INTEGER NOT NULL,
        log_root  BLOB NOT NULL,
        root      BLOB NOT NULL,
        time      INTEGER NOT NULL,
        key       BLOB NOT NULL,
        signature BLOB NOT NULL,
        PRIMARY KEY (domain, epoch)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 9,
    name: 'key transparency journal',
    sql: `
      -- Issue 14: a key event is recorded here in its write's transaction; the key-log thread derives its leaf
      -- and appends it to the transparency file (storage/sqlite/kt-journal.ts, kt-file.ts), after which the
      -- record is deleted. AUTOINCREMENT: numbers are never reused, the thread's cursor relies on it.
      CREATE TABLE kt_journal (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        domain       TEXT NOT NULL,
        type         TEXT NOT NULL,
        time         INTEGER NOT NULL,
        jid          TEXT NOT NULL,
        node         TEXT NOT NULL,
        item_id      TEXT NOT NULL,
        payload      TEXT,
        payload_hash BLOB,
        fingerprint  TEXT
      ) STRICT;
      -- Names the transparency file that belongs to this database (kt-file.ts bindKtFile).
      CREATE TABLE kt_file (
        id    INTEGER PRIMARY KEY CHECK (id = 1),
        token BLOB NOT NULL
      ) STRICT;
      INSERT INTO kt_file (id, token) VALUES (1, randomblob(16));
    `,
  },
  {
    version: 10,
    name: 'key transparency journal: one record per batch',
    sql: `
      -- Issue 14: a record holds the key events of one group-commit batch, in write order, as JSON
      -- (storage/sqlite/kt-journal-record.ts): one INSERT per batch instead of one per event. The key-log
      -- process's cursor counts records, so numbers must never be reused; without AUTOINCREMENT (whose
      -- sqlite_sequence row cost every batch a page) a new record takes max(seq) + 1, and the highest
      -- record is never deleted (kt-journal.ts deletes below the drained one), so max(seq) never goes down.
      ALTER TABLE kt_journal RENAME TO kt_journal_events;
      CREATE TABLE kt_journal (
        seq    INTEGER PRIMARY KEY,
        events TEXT NOT NULL
      ) STRICT;
    `,
    // The old records, one event each, under their numbers; numbering goes on above the old (kt-journal-migration.ts).
    convert: (db) => convertKtJournal(db),
  },
];

export const latestSchemaVersion = migrations[migrations.length - 1].version;

/** Brings the schema up to date; each migration commits on its own so a failure leaves a known version. */
export function migrate(db: SqliteDatabase): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`);
  const applied = db.prepare('SELECT coalesce(max(version), 0) FROM schema_migrations').pluck().get() as number;
  const current = Math.max(applied, db.pragma('user_version', { simple: true }) as number);
  if (current > latestSchemaVersion) throw new SchemaTooNewError(current, latestSchemaVersion);
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      m.convert?.(db);
      record.run(m.version, m.name, Date.now());
      // user_version lives in the header and is written inside this transaction.
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
