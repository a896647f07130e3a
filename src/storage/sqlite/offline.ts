// Offline message queue (XEP-0160), oldest first.
import type { OfflineStore } from '../types.ts';
import { toOfflineMessage } from '../sql/rows.ts';
import type { SqliteDatabase } from './database.ts';
import type { GroupCommit } from './group-commit.ts';

export function createOfflineStore(db: SqliteDatabase, gc: GroupCommit) {
  const insert = db.prepare('INSERT INTO offline_messages (owner, stanza, stored_at, verbatim) VALUES (?, ?, ?, ?)');
  const selectAll = db.prepare('SELECT stanza, stored_at, verbatim FROM offline_messages WHERE owner = ? ORDER BY seq');
  const deleteAll = db.prepare('DELETE FROM offline_messages WHERE owner = ?');
  const count = db.prepare('SELECT count(*) FROM offline_messages WHERE owner = ?').pluck();
  // octet_length reads the size from the record header, not the (possibly overflowing) text itself.
  const size = db.prepare('SELECT count(*) AS messages, coalesce(sum(octet_length(stanza)), 0) AS bytes FROM offline_messages WHERE owner = ?');

  const store: OfflineStore = {
    push(owner, message) {
      return gc.write(() => {
        insert.run(owner, message.stanza, message.storedAt, message.verbatim ? 1 : 0);
      });
    },
    takeAll(owner) {
      // A write, so the delete commits before the messages are handed out: a crash after delivery cannot
      // redeliver, and one before commit loses nothing.
      return gc.write(() => {
        const rows = selectAll.all(owner) as { stanza: string; stored_at: number; verbatim: number }[];
        if (rows.length > 0) deleteAll.run(owner);
        return rows.map(toOfflineMessage);
      });
    },
    count(owner) {
      return gc.read(() => count.get(owner) as number);
    },
    size(owner) {
      return gc.read(() => size.get(owner) as { messages: number; bytes: number });
    },
  };

  const deleteOwner = (owner: string) => {
    deleteAll.run(owner);
  };

  return { store, deleteOwner };
}
