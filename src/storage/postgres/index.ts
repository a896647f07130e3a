// PostgreSQL storage: the store for deployments that outgrow one machine. Several pepkeys servers may
// share one database; each opens its own pool.
//
// Multi-node safety, in short (details beside each store):
// - No in-process cache of database state: every read goes to the database, so nothing can go stale when
//   another server writes. The only per-process state is node-postgres's per-connection prepared
//   statements (plans, not data; PostgreSQL invalidates them itself when a migration changes a table).
// - Roster versions: an upsert on the owner's roster_versions row, locked until COMMIT.
// - Item order: a per-node counter bumped with UPDATE ... RETURNING, locked until COMMIT, so publishes to
//   one node from any number of servers are serialised and trimming sees all of them.
// - Offline take-all, pending requests, accounts: single statements whose row locks (DELETE ... RETURNING,
//   ON CONFLICT) make concurrent servers take turns.
// - Arrival order of offline messages and pending requests comes from identity columns: exact within one
//   server; across servers it is the order in which the writes drew their numbers.
// - Writes group commit (./group-commit.ts): a write resolves only after its transaction's COMMIT.
import pg from 'pg';
import type { PoolConfig } from 'pg';
import type { Storage } from '../types.ts';
import { GroupCommit } from './group-commit.ts';
import { migrate } from './migrations.ts';
import { createAccountStore } from './accounts.ts';
import { createRosterStore } from './roster.ts';
import { createOfflineStore } from './offline.ts';
import { createCapsStore } from './caps.ts';
import { createTransparencyStore } from './transparency.ts';
import { createPostgresKtMap } from './kt-map.ts';
import { createPubsubStore } from './pubsub.ts';
import { createArchiveStore } from './archive.ts';
import { createBlocklistStore } from './blocklist.ts';
import { createAdvisoryLocks } from './locks.ts';

export interface PostgresStorageOptions extends PoolConfig {
  /** e.g. postgres://pepkeys:secret@db.example:5432/pepkeys (or give host/port/user/... as in pg's PoolConfig). */
  connectionString?: string;
  /**
   * Errors of idle pooled connections (the server restarted, the network dropped). The pool discards the
   * connection and opens a new one when needed; without a handler they are ignored.
   */
  onError?: (err: Error) => void;
}

export interface PostgresStorage extends Storage {
  readonly kind: 'postgres';
  /** Batches, transactions, writes and deadlock retries so far (for metrics and benchmarks). */
  readonly stats: GroupCommit['stats'];
}

export async function openPostgresStorage(options: PostgresStorageOptions): Promise<PostgresStorage> {
  const { onError, ...poolConfig } = options;
  const pool = new pg.Pool({ application_name: 'pepkeys', max: 10, ...poolConfig });
  // An idle client's error is emitted on the pool; unhandled it would crash the process.
  pool.on('error', (err) => onError?.(err));
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  const gc = new GroupCommit(pool);
  const transparency = createTransparencyStore(gc);
  const locks = createAdvisoryLocks({ application_name: 'pepkeys-locks', ...poolConfig }, onError);
  let closing: Promise<void> | undefined;
  return {
    kind: 'postgres',
    stats: gc.stats,
    accounts: createAccountStore(gc),
    roster: createRosterStore(gc),
    blocklist: createBlocklistStore(gc),
    offline: createOfflineStore(gc),
    caps: createCapsStore(gc),
    pubsub: createPubsubStore(gc, transparency.append),
    transparency: transparency.store,
    ktMap: createPostgresKtMap(gc),
    archive: createArchiveStore(gc),
    locks,
    observeCommits(observer) {
      gc.observer = observer;
      return () => {
        if (gc.observer === observer) gc.observer = undefined;
      };
    },
    close() {
      // Refuses new operations at once, commits what is queued, then closes the connections (pool.end
      // waits for reads still running).
      closing ??= gc.close().then(() => Promise.all([pool.end(), locks.close()])).then(() => undefined);
      return closing;
    },
  };
}
