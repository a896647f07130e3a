// StorageLocks on PostgreSQL session-level advisory locks, on one connection of their own (not the pool's):
// - pg_try_advisory_lock never waits, so the connection is never blocked behind another node's lock; a taker
//   polls with backoff until free or its bound passes;
// - a lock belongs to the session that took it: when a node dies (or its connection drops) PostgreSQL
//   releases all its locks at once, with no lease to run out;
// - every lock is in one class (CLASS), the key hashed to the second 32-bit half.
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { ClientConfig } from 'pg';
import type { StorageLocks } from '../types.ts';

/** 'pepk': the class of pepkeys' advisory locks, apart from any other application's on the database. */
const CLASS = 0x7065706b;
const TRY = 'SELECT pg_try_advisory_lock($1::int4, $2::int4) AS ok';
const UNLOCK = 'SELECT pg_advisory_unlock($1::int4, $2::int4)';

export interface AdvisoryLocks extends StorageLocks {
  /** Ends the connection (which releases whatever it still holds). */
  close(): Promise<void>;
}

const hashOf = (key: string) => createHash('sha256').update(key).digest().readInt32BE(0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createAdvisoryLocks(config: ClientConfig, onError?: (err: Error) => void): AdvisoryLocks {
  let client: Promise<pg.Client> | undefined;
  let closed = false;

  /** The lock connection, opened on first use and again after it dropped. */
  function connection(): Promise<pg.Client> {
    if (client) return client;
    const c = new pg.Client(config);
    const opened = c.connect().then(() => c);
    client = opened;
    const drop = (err?: Error) => {
      // Its locks went with it (PostgreSQL ends the session); the next acquisition opens another.
      if (client === opened) client = undefined;
      if (err) onError?.(err);
    };
    c.on('error', drop);
    c.on('end', () => drop());
    opened.catch((err: Error) => drop(err));
    return opened;
  }

  return {
    async acquire(key, timeoutMs) {
      const hash = hashOf(key);
      const end = Date.now() + timeoutMs;
      /** One try; true when taken. A database that does not answer counts as a held lock. */
      const tryOnce = async (): Promise<pg.Client | undefined> => {
        const c = await connection();
        return (await c.query<{ ok: boolean }>(TRY, [CLASS, hash])).rows[0]?.ok ? c : undefined;
      };
      const releaseOf = (c: pg.Client) => async () => {
        // A connection that dropped meanwhile released the lock already.
        if (client === undefined || (await client.catch(() => undefined)) !== c) return;
        await c.query(UNLOCK, [CLASS, hash]).catch((err: Error) => onError?.(err));
      };
      for (let attempt = 0; !closed; attempt++) {
        const left = end - Date.now();
        if (left <= 0) return undefined;
        const trying = tryOnce().catch(() => undefined);
        // A connect or query that hangs (the database is unreachable) must not outlast the bound either.
        let timer: NodeJS.Timeout | undefined;
        const late = Symbol('late');
        const got = await Promise.race([trying, new Promise<typeof late>((r) => (timer = setTimeout(() => r(late), left)))]);
        clearTimeout(timer);
        if (got === late) {
          // Taken after all, once nobody waits for it: give it back.
          void trying.then((c) => c && releaseOf(c)());
          return undefined;
        }
        if (got) return releaseOf(got);
        // 2, 4, 8 ... up to 50 ms, jittered so that nodes waiting for one lock do not ask in step.
        await sleep(Math.min(Math.max(0, end - Date.now()), Math.min(50, 2 << Math.min(attempt, 5)) * (0.5 + Math.random())));
      }
      return undefined;
    },
    async close() {
      closed = true;
      const c = client;
      client = undefined;
      await (await c?.catch(() => undefined))?.end().catch(() => undefined);
    },
  };
}
