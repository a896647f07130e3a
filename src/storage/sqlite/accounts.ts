// Accounts table. Deleting an account also runs every other store's per-owner cleanup in the same write,
// so a crash can never leave half an account behind.
import { AccountExistsError, type AccountCredentials, type AccountRecord, type AccountStore } from '../types.ts';
import { toAccount, type AccountRow } from '../sql/rows.ts';
import type { SqliteDatabase } from './database.ts';
import type { GroupCommit } from './group-commit.ts';
import { domainOf } from '../../jid/index.ts';

/** Synchronous cleanup a store runs for an owner inside the account deletion transaction. */
export type OwnerCleanup = (owner: string) => void;


export function createAccountStore(db: SqliteDatabase, gc: GroupCommit, cleanups: OwnerCleanup[]): AccountStore {
  const insert = db.prepare(
    'INSERT INTO accounts (jid, domain, credentials, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (jid) DO NOTHING',
  );
  const select = db.prepare('SELECT jid, credentials, created_at FROM accounts WHERE jid = ?');
  const update = db.prepare('UPDATE accounts SET credentials = ? WHERE jid = ?');
  const remove = db.prepare('DELETE FROM accounts WHERE jid = ?');
  const listAll = db.prepare('SELECT jid FROM accounts').pluck();
  const listDomain = db.prepare('SELECT jid FROM accounts WHERE domain = ?').pluck();

  return {
    create(jid: string, credentials: AccountCredentials) {
      const createdAt = Date.now();
      return gc.write(() => {
        if (insert.run(jid, domainOf(jid), JSON.stringify(credentials), createdAt).changes === 0) {
          throw new AccountExistsError(jid);
        }
      });
    },
    get(jid) {
      return gc.read((): AccountRecord | undefined => {
        const row = select.get(jid) as AccountRow | undefined;
        return row && toAccount(row);
      });
    },
    setCredentials(jid, credentials) {
      return gc.write(() => update.run(JSON.stringify(credentials), jid).changes > 0);
    },
    delete(jid) {
      return gc.write(() => {
        if (remove.run(jid).changes === 0) return false;
        for (const cleanup of cleanups) cleanup(jid);
        return true;
      });
    },
    list(domain) {
      // Sorted in JS so the order matches the other adapters (SQLite compares UTF-8 bytes, JS UTF-16 units).
      return gc.read(() => ((domain === undefined ? listAll.all() : listDomain.all(domain)) as string[]).sort());
    },
  };
}
