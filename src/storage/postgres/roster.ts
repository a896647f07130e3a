// Roster items, per-owner roster versions and inbound subscription requests (RFC 6121).
//
// A modification and its version bump are one statement, and the bump is an upsert on the owner's
// roster_versions row, which stays locked until COMMIT: writers on different servers take turns on an
// owner, so versions are never reused and a later commit always carries the higher version.
import type { Roster, RosterItem, RosterStore } from '../types.ts';
import { rosterColumns as columns, toPending, toRosterItem, type RosterItemRow } from '../sql/rows.ts';
import { num, statement } from './db.ts';
import type { GroupCommit } from './group-commit.ts';

const byJid = (a: RosterItem, b: RosterItem) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0);

const bump = `INSERT INTO roster_versions (owner, version) VALUES ($1, 1)
  ON CONFLICT (owner) DO UPDATE SET version = roster_versions.version + 1 RETURNING version`;

// Version and items from one statement, hence one snapshot: never a version older than the items.
const selectRoster = statement(
  'roster_get',
  `SELECT v.version, i.contact, i.name, i.subscription, i.ask, i.approved, i.groups_json
   FROM (SELECT coalesce((SELECT version FROM roster_versions WHERE owner = $1), 0) AS version) v
   LEFT JOIN roster_items i ON i.owner = $1`,
);
const selectItem = statement('roster_item', `SELECT ${columns} FROM roster_items WHERE owner = $1 AND contact = $2`);
const putItem = statement(
  'roster_put',
  `WITH up AS (
     INSERT INTO roster_items (owner, ${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (owner, contact) DO UPDATE SET name = excluded.name, subscription = excluded.subscription,
       ask = excluded.ask, approved = excluded.approved, groups_json = excluded.groups_json)
   ${bump}`,
);
// No row back (so undefined) when there was no item: the version is bumped only on a real change.
const removeItem = statement(
  'roster_remove',
  `WITH d AS (DELETE FROM roster_items WHERE owner = $1 AND contact = $2 RETURNING 1)
   INSERT INTO roster_versions (owner, version) SELECT $1, 1 WHERE EXISTS (SELECT 1 FROM d)
   ON CONFLICT (owner) DO UPDATE SET version = roster_versions.version + 1 RETURNING version`,
);
// A repeated request replaces the stanza but keeps its place in line (seq is left alone).
const upsertPending = statement(
  'roster_pending_upsert',
  `INSERT INTO roster_pending_in (owner, sender, stanza) VALUES ($1, $2, $3)
   ON CONFLICT (owner, sender) DO UPDATE SET stanza = excluded.stanza`,
);
const deletePending = statement('roster_pending_delete', 'DELETE FROM roster_pending_in WHERE owner = $1 AND sender = $2');
const selectPending = statement('roster_pending_list', 'SELECT sender, stanza FROM roster_pending_in WHERE owner = $1 ORDER BY seq');

export function createRosterStore(gc: GroupCommit): RosterStore {
  return {
    get(owner) {
      return gc.read(async (db): Promise<Roster> => {
        const { rows } = await db.run<RosterItemRow & { version: string }>(selectRoster, [owner]);
        const items = rows.filter((row) => row.contact !== null).map(toRosterItem).sort(byJid);
        return { version: String(num(rows[0]?.version)), items };
      });
    },
    getItem(owner, contact) {
      return gc.read(async (db) => {
        const row = (await db.run<RosterItemRow>(selectItem, [owner, contact])).rows[0];
        return row && toRosterItem(row);
      });
    },
    putItem(owner, item) {
      const values = [owner, item.jid, item.name ?? null, item.subscription, item.ask ?? null, item.approved ?? null, JSON.stringify(item.groups)];
      return gc.write(async (db) => String(num((await db.run(putItem, values)).rows[0].version)));
    },
    removeItem(owner, contact) {
      return gc.write(async (db) => {
        const row = (await db.run(removeItem, [owner, contact])).rows[0];
        return row === undefined ? undefined : String(num(row.version));
      });
    },
    addPendingIn(owner, pending) {
      return gc.write(async (db) => {
        await db.run(upsertPending, [owner, pending.from, pending.stanza]);
      });
    },
    removePendingIn(owner, from) {
      return gc.write(async (db) => ((await db.run(deletePending, [owner, from])).rowCount ?? 0) > 0);
    },
    listPendingIn(owner) {
      return gc.read(async (db) => (await db.run<{ sender: string; stanza: string }>(selectPending, [owner])).rows.map(toPending));
    },
  };
}
