// SQLite TrustBackend (better-sqlite3). The file lists who the user talks to and which keys they trust, so it is
// created 0600 in a 0700 directory (XEP-0189 §10: identities must not leak).
import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TrustBackend, TrustRecord, StoredTrustState, KeyFormat } from './trust.ts';

const SCHEMA_VERSION = 2;

interface Row {
  jid: string;
  print: string;
  format: string;
  slot: string | null;
  payload: string | null;
  key: string | null;
  not_before: number | null;
  not_after: number | null;
  state: string;
  first_seen: number;
  last_seen: number;
  verified_at: number | null;
  revoked_at: number | null;
}

export class SqliteTrustBackend implements TrustBackend {
  private readonly db: Database.Database;
  private readonly stmts;

  /** `path` is a file path (its directory is created 0700 if missing) or ':memory:'. */
  constructor(path: string) {
    if (path !== ':memory:') {
      const dir = dirname(path);
      if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    // Create the file 0600 before SQLite opens it; SQLite gives its -wal/-shm files the database file's mode.
    if (path !== ':memory:' && !existsSync(path)) closeSync(openSync(path, 'wx', 0o600));
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL'); // trust decisions are rare and must survive a crash
    this.migrate();
    this.stmts = {
      get: this.db.prepare<[string, string], Row>('SELECT * FROM key_trust WHERE jid = ? AND print = ?'),
      list: this.db.prepare<[string], Row>('SELECT * FROM key_trust WHERE jid = ? ORDER BY first_seen, rowid'),
      put: this.db.prepare(
        `INSERT INTO key_trust (jid, print, format, slot, payload, key, not_before, not_after, state, first_seen, last_seen, verified_at, revoked_at)
         VALUES (@jid, @print, @format, @slot, @payload, @key, @not_before, @not_after, @state, @first_seen, @last_seen, @verified_at, @revoked_at)
         ON CONFLICT (jid, print) DO UPDATE SET format = excluded.format, slot = excluded.slot, payload = excluded.payload, key = excluded.key,
           not_before = excluded.not_before, not_after = excluded.not_after, state = excluded.state,
           first_seen = excluded.first_seen, last_seen = excluded.last_seen, verified_at = excluded.verified_at,
           revoked_at = excluded.revoked_at`,
      ),
      del: this.db.prepare<[string, string]>('DELETE FROM key_trust WHERE jid = ? AND print = ?'),
      jids: this.db.prepare<[], { jid: string }>('SELECT DISTINCT jid FROM key_trust ORDER BY jid'),
    };
  }

  private migrate(): void {
    const v = this.db.pragma('user_version', { simple: true }) as number;
    if (v > SCHEMA_VERSION) throw new Error(`trust store schema ${v} is newer than this program (${SCHEMA_VERSION})`);
    if (v < 1) {
      this.db.exec(`
        CREATE TABLE key_trust (
          jid TEXT NOT NULL,
          print TEXT NOT NULL,
          format TEXT NOT NULL,
          payload TEXT,
          key TEXT,
          not_before INTEGER,
          not_after INTEGER,
          state TEXT NOT NULL CHECK (state IN ('unverified', 'verified', 'revoked')),
          first_seen INTEGER NOT NULL,
          last_seen INTEGER NOT NULL,
          verified_at INTEGER,
          revoked_at INTEGER,
          PRIMARY KEY (jid, print)
        );
        PRAGMA user_version = 1;
      `);
    }
    if (v < 2) {
      // Version 2: OMEMO and OX keys live here too; `slot` is the OMEMO device id (NULL for the others).
      this.db.exec(`
        ALTER TABLE key_trust ADD COLUMN slot TEXT;
        PRAGMA user_version = 2;
      `);
    }
  }

  async get(jid: string, print: string): Promise<TrustRecord | undefined> {
    const r = this.stmts.get.get(jid, print);
    return r && fromRow(r);
  }

  async list(jid: string): Promise<TrustRecord[]> {
    return this.stmts.list.all(jid).map(fromRow);
  }

  async put(r: TrustRecord): Promise<void> {
    this.stmts.put.run({
      jid: r.jid, print: r.print, format: r.format, slot: r.slot ?? null, payload: r.payload ?? null, key: r.key ?? null,
      not_before: r.notBefore ?? null, not_after: r.notAfter ?? null, state: r.state,
      first_seen: r.firstSeen, last_seen: r.lastSeen, verified_at: r.verifiedAt ?? null, revoked_at: r.revokedAt ?? null,
    });
  }

  async delete(jid: string, print: string): Promise<boolean> {
    return this.stmts.del.run(jid, print).changes > 0;
  }

  async jids(): Promise<string[]> {
    return this.stmts.jids.all().map((r) => r.jid);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function fromRow(r: Row): TrustRecord {
  const out: TrustRecord = {
    jid: r.jid, print: r.print, format: r.format as KeyFormat, state: r.state as StoredTrustState, firstSeen: r.first_seen, lastSeen: r.last_seen,
  };
  if (r.slot !== null) out.slot = r.slot;
  if (r.payload !== null) out.payload = r.payload;
  if (r.key !== null) out.key = r.key;
  if (r.not_before !== null) out.notBefore = r.not_before;
  if (r.not_after !== null) out.notAfter = r.not_after;
  if (r.verified_at !== null) out.verifiedAt = r.verified_at;
  if (r.revoked_at !== null) out.revokedAt = r.revoked_at;
  return out;
}

/** Opens the SQLite trust store at `path` (the CLI passes a file in its home directory). */
export function openSqliteTrustBackend(path: string): SqliteTrustBackend {
  return new SqliteTrustBackend(path);
}
