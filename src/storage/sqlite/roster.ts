// Roster items, per-owner roster versions and inbound subscription requests (RFC 6121).
import type { Roster, RosterItem, RosterStore } from '../types.ts';
import { rosterColumns as columns, toPending, toRosterItem, type RosterItemRow } from '../sql/rows.ts';
import type { SqliteDatabase } from './database.ts';
import type { GroupCommit } from './group-commit.ts';

const byJid = (a: RosterItem, b: RosterItem) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0);

export function createRosterStore(db: SqliteDatabase, gc: GroupCommit) {
  const selectVersion = db.prepare('SELECT version FROM roster_versions WHERE owner = ?').pluck();
  const bumpVersion = db
    .prepare(
      `INSERT INTO roster_versions (owner, version) VALUES (?, 1)
       ON CONFLICT (owner) DO UPDATE SET version = version + 1 RETURNING version`,
    )
    .pluck();
  const selectItems = db.prepare(`SELECT ${columns} FROM roster_items WHERE owner = ?`);
  const selectItem = db.prepare(`SELECT ${columns} FROM roster_items WHERE owner = ? AND contact = ?`);
  const upsertItem = db.prepare(
    `INSERT INTO roster_items (owner, ${columns}) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (owner, contact) DO UPDATE SET name = excluded.name, subscription = excluded.subscription,
       ask = excluded.ask, approved = excluded.approved, groups_json = excluded.groups_json`,
  );
  const deleteItem = db.prepare('DELETE FROM roster_items WHERE owner = ? AND contact = ?');
  // A repeated request replaces the stanza but keeps its place in line (seq is left alone).
  const upsertPending = db.prepare(
    `INSERT INTO roster_pending_in (owner, sender, stanza) VALUES (?, ?, ?)
     ON CONFLICT (owner, sender) DO UPDATE SET stanza = excluded.stanza`,
  );
  const deletePending = db.prepare('DELETE FROM roster_pending_in WHERE owner = ? AND sender = ?');
  const selectPending = db.prepare('SELECT sender, stanza FROM roster_pending_in WHERE owner = ? ORDER BY seq');
  const purgeItems = db.prepare('DELETE FROM roster_items WHERE owner = ?');
  const purgeVersion = db.prepare('DELETE FROM roster_versions WHERE owner = ?');
  const purgePending = db.prepare('DELETE FROM roster_pending_in WHERE owner = ?');

  const store: RosterStore = {
    get(owner) {
      return gc.read((): Roster => {
        const version = selectVersion.get(owner) as number | undefined;
        const items = (selectItems.all(owner) as RosterItemRow[]).map(toRosterItem).sort(byJid);
        return { version: String(version ?? 0), items };
      });
    },
    getItem(owner, contact) {
      return gc.read(() => {
        const row = selectItem.get(owner, contact) as RosterItemRow | undefined;
        return row && toRosterItem(row);
      });
    },
    putItem(owner, item) {
      const approved = item.approved === undefined ? null : item.approved ? 1 : 0;
      const groups = JSON.stringify(item.groups);
      return gc.write(() => {
        upsertItem.run(owner, item.jid, item.name ?? null, item.subscription, item.ask ?? null, approved, groups);
        return String(bumpVersion.get(owner));
      });
    },
    removeItem(owner, contact) {
      return gc.write(() => (deleteItem.run(owner, contact).changes === 0 ? undefined : String(bumpVersion.get(owner))));
    },
    addPendingIn(owner, pending) {
      return gc.write(() => {
        upsertPending.run(owner, pending.from, pending.stanza);
      });
    },
    removePendingIn(owner, from) {
      return gc.write(() => deletePending.run(owner, from).changes > 0);
    },
    listPendingIn(owner) {
      return gc.read(() => (selectPending.all(owner) as { sender: string; stanza: string }[]).map(toPending));
    },
  };

  /** Runs inside the account deletion write. */
  const deleteOwner = (owner: string) => {
    purgeItems.run(owner);
    purgeVersion.run(owner);
    purgePending.run(owner);
  };

  return { store, deleteOwner };
}
