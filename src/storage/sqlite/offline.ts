// Offline message queue (XEP-0160), oldest first.
import type { OfflineStore } from '../types.ts';
import { toOfflineMessage } from '../sql/rows.ts';
import type { SqliteDatabase } from './database.ts';
import type { GroupCommit } from './group-commit.ts';

export function createOfflineStore(db: SqliteDatabase, gc: GroupCommit) {
  const insert = db.prepare('INSERT INTO offline_messages (owner, stanza, stored_at) VALUES (?, ?, ?)');
  const selectAll = db.prepare('SELECT stanza, stored_at FROM offline_messages WHERE owner = ? ORDER BY seq');
  const deleteAll = db.prepare('DELETE FROM offline_messages WHERE owner = ?');
  const count = db.prepare('SELECT count(*) FROM offline_messages WHERE owner = ?').pluck();

  const store: OfflineStore = {
    push(owner, message) {
      return gc.write(() => {
        insert.run(owner, message.stanza, message.storedAt);
      });
    },
    takeAll(owner) {
      // A write, so the delete commits before the messages are handed out: a crash after delivery cannot
      // redeliver, and one before commit loses nothing.
      return gc.write(() => {
        const rows = selectAll.all(owner) as { stanza: string; stored_at: number }[];
        if (rows.length > 0) deleteAll.run(owner);
        return rows.map(toOfflineMessage);
      });
    },
    count(owner) {
      return gc.read(() => count.get(owner) as number);
    },
  };

  const deleteOwner = (owner: string) => {
    deleteAll.run(owner);
  };

  return { store, deleteOwner };
}
