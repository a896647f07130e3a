// Roster items, per-owner roster versions and inbound subscription requests (RFC 6121).
import type { PendingSubscription, Roster, RosterItem, RosterStore, Subscription } from '../types.ts';
import type { SqliteDatabase } from './database.ts';
import type { GroupCommit } from './group-commit.ts';

interface ItemRow {
  contact: string;
  name: string | null;
  subscription: string;
  ask: string | null;
  approved: number | null;
  groups_json: string;
}

function toItem(row: ItemRow): RosterItem {
  // Optional fields are only present when they were stored, so items round-trip exactly.
  const item: RosterItem = { jid: row.contact, subscription: row.subscription as Subscription, groups: [] };
  if (row.name !== null) item.name = row.name;
  if (row.ask !== null) item.ask = row.ask as 'subscribe';
  if (row.approved !== null) item.approved = row.approved === 1;
  item.groups = JSON.parse(row.groups_json);
  return item;
}

const byJid = (a: RosterItem, b: RosterItem) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0);

export function createRosterStore(db: SqliteDatabase, gc: GroupCommit) {
  const columns = 'contact, name, subscription, ask, approved, groups_json';
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
        const items = (selectItems.all(owner) as ItemRow[]).map(toItem).sort(byJid);
        return { version: String(version ?? 0), items };
      });
    },
    getItem(owner, contact) {
      return gc.read(() => {
        const row = selectItem.get(owner, contact) as ItemRow | undefined;
        return row && toItem(row);
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
      return gc.read(() =>
        (selectPending.all(owner) as { sender: string; stanza: string }[]).map(
          (row): PendingSubscription => ({ from: row.sender, stanza: row.stanza }),
        ),
      );
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
