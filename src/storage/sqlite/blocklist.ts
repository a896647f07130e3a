// XEP-0191 blocklists: one row per (owner, blocked JID).
import type { BlocklistStore } from '../types.ts';
import type { SqliteDatabase } from './database.ts';
import type { GroupCommit } from './group-commit.ts';

// JS sort (UTF-16 code units), the order every adapter returns.
const sorted = (a: Iterable<string>) => [...a].sort();

export function createBlocklistStore(db: SqliteDatabase, gc: GroupCommit) {
  const select = db.prepare('SELECT jid FROM blocklist WHERE owner = ?').pluck();
  const insert = db.prepare('INSERT INTO blocklist (owner, jid) VALUES (?, ?) ON CONFLICT DO NOTHING');
  const remove = db.prepare('DELETE FROM blocklist WHERE owner = ? AND jid = ?');
  const purge = db.prepare('DELETE FROM blocklist WHERE owner = ? RETURNING jid').pluck();

  const store: BlocklistStore = {
    list: (owner) => gc.read(() => sorted(select.all(owner) as string[])),
    block: (owner, jids) => gc.write(() => sorted(new Set(jids.filter((j) => insert.run(owner, j).changes > 0)))),
    unblock: (owner, jids) => gc.write(() => sorted(new Set(jids.filter((j) => remove.run(owner, j).changes > 0)))),
    unblockAll: (owner) => gc.write(() => sorted(purge.all(owner) as string[])),
  };
  /** Runs inside the account deletion write. */
  const deleteOwner = (owner: string) => void purge.all(owner);
  return { store, deleteOwner };
}
