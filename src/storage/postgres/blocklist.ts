// XEP-0191 blocklists: one row per (owner, blocked JID). Each change is one statement whose RETURNING says
// what it changed, so servers sharing the database each report only their own effect.
import type { BlocklistStore } from '../types.ts';
import { statement } from './db.ts';
import type { GroupCommit } from './group-commit.ts';

const select = statement('blocklist_list', 'SELECT jid FROM blocklist WHERE owner = $1');
const insert = statement(
  'blocklist_block',
  'INSERT INTO blocklist (owner, jid) SELECT $1, j FROM unnest($2::text[]) AS j ON CONFLICT DO NOTHING RETURNING jid',
);
const remove = statement('blocklist_unblock', 'DELETE FROM blocklist WHERE owner = $1 AND jid = ANY($2::text[]) RETURNING jid');
const purge = statement('blocklist_unblock_all', 'DELETE FROM blocklist WHERE owner = $1 RETURNING jid');

// JS sort (UTF-16 code units) so the order matches every other adapter whatever the database collation.
const sorted = (rows: { jid: string }[]) => [...new Set(rows.map((r) => r.jid))].sort();

export function createBlocklistStore(gc: GroupCommit): BlocklistStore {
  return {
    list: (owner) => gc.read(async (db) => sorted((await db.run<{ jid: string }>(select, [owner])).rows)),
    block: (owner, jids) => gc.write(async (db) => sorted((await db.run<{ jid: string }>(insert, [owner, [...new Set(jids)]])).rows)),
    unblock: (owner, jids) => gc.write(async (db) => sorted((await db.run<{ jid: string }>(remove, [owner, jids])).rows)),
    unblockAll: (owner) => gc.write(async (db) => sorted((await db.run<{ jid: string }>(purge, [owner])).rows)),
  };
}
