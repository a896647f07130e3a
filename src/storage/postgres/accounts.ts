// Accounts. Deleting an account removes everything it owns (roster, pending requests, offline messages,
// pubsub service, blocklist) in the same single statement, so no server, crash or concurrent writer can ever see half
// an account.
import { AccountExistsError, type AccountCredentials, type AccountRecord, type AccountStore } from '../types.ts';
import { toAccount, type AccountRow } from '../sql/rows.ts';
import { statement } from './db.ts';
import type { GroupCommit } from './group-commit.ts';
import { domainOf } from '../../jid/index.ts';


const insert = statement(
  'account_insert',
  'INSERT INTO accounts (jid, domain, credentials, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (jid) DO NOTHING',
);
const select = statement('account_select', 'SELECT jid, credentials, created_at FROM accounts WHERE jid = $1');
const update = statement('account_update', 'UPDATE accounts SET credentials = $2 WHERE jid = $1');
// Data-modifying CTEs all run, whether or not the main query reads them; the owner's records are removed
// only when the account itself was (EXISTS on the deleted row). Pubsub items, affiliations and
// subscriptions follow their nodes through ON DELETE CASCADE.
const remove = statement(
  'account_delete',
  `WITH a AS (DELETE FROM accounts WHERE jid = $1 RETURNING jid),
     ri AS (DELETE FROM roster_items WHERE owner = $1 AND EXISTS (SELECT 1 FROM a)),
     rv AS (DELETE FROM roster_versions WHERE owner = $1 AND EXISTS (SELECT 1 FROM a)),
     rp AS (DELETE FROM roster_pending_in WHERE owner = $1 AND EXISTS (SELECT 1 FROM a)),
     om AS (DELETE FROM offline_messages WHERE owner = $1 AND EXISTS (SELECT 1 FROM a)),
     pn AS (DELETE FROM pubsub_nodes WHERE service = $1 AND EXISTS (SELECT 1 FROM a)),
     am AS (DELETE FROM archive_messages WHERE owner = $1 AND EXISTS (SELECT 1 FROM a)),
     ap AS (DELETE FROM archive_prefs WHERE owner = $1 AND EXISTS (SELECT 1 FROM a)),
     bl AS (DELETE FROM blocklist WHERE owner = $1 AND EXISTS (SELECT 1 FROM a))
   SELECT count(*)::int AS n FROM a`,
);
const listAll = statement('account_list', 'SELECT jid FROM accounts');
const listDomain = statement('account_list_domain', 'SELECT jid FROM accounts WHERE domain = $1');

// JS sort (UTF-16 code units) so the order matches every other adapter whatever the database collation.
const sorted = (rows: { jid: string }[]) => rows.map((r) => r.jid).sort();

export function createAccountStore(gc: GroupCommit): AccountStore {
  return {
    create(jid: string, credentials: AccountCredentials) {
      const values = [jid, domainOf(jid), JSON.stringify(credentials), Date.now()];
      return gc.write(async (db) => {
        if ((await db.run(insert, values)).rowCount === 0) throw new AccountExistsError(jid);
      });
    },
    get(jid) {
      return gc.read(async (db): Promise<AccountRecord | undefined> => {
        const row = (await db.run<AccountRow>(select, [jid])).rows[0];
        return row && toAccount(row);
      });
    },
    setCredentials(jid, credentials) {
      const json = JSON.stringify(credentials);
      return gc.write(async (db) => ((await db.run(update, [jid, json])).rowCount ?? 0) > 0);
    },
    delete(jid) {
      return gc.write(async (db) => (await db.run(remove, [jid])).rows[0].n > 0);
    },
    list(domain) {
      return gc.read(async (db) => sorted((domain === undefined ? await db.run(listAll, []) : await db.run(listDomain, [domain])).rows));
    },
  };
}
