// Offline message queues (XEP-0160), in arrival order (an identity column, never the clock).
import type { OfflineMessage, OfflineStore } from '../types.ts';
import { toOfflineMessage } from '../sql/rows.ts';
import { statement } from './db.ts';
import type { GroupCommit } from './group-commit.ts';

const insert = statement('offline_insert', 'INSERT INTO offline_messages (owner, stanza, stored_at, verbatim) VALUES ($1, $2, $3, $4)');
// One DELETE ... RETURNING is the atomic take: a second server's concurrent take waits for our row locks,
// then skips the rows we deleted, so every message is handed out once.
const takeAll = statement('offline_take_all', 'DELETE FROM offline_messages WHERE owner = $1 RETURNING seq, stanza, stored_at, verbatim');
const count = statement('offline_count', 'SELECT count(*)::int AS n FROM offline_messages WHERE owner = $1');
// octet_length of a TOASTed value reads its stored size, not the value.
const size = statement('offline_size', 'SELECT count(*)::int AS messages, coalesce(sum(octet_length(stanza)), 0)::bigint AS bytes FROM offline_messages WHERE owner = $1');

export function createOfflineStore(gc: GroupCommit): OfflineStore {
  return {
    push(owner, message) {
      return gc.write(async (db) => {
        await db.run(insert, [owner, message.stanza, message.storedAt, message.verbatim === true]);
      });
    },
    takeAll(owner) {
      return gc.write(async (db) => {
        const { rows } = await db.run<{ seq: string; stanza: string; stored_at: string; verbatim: boolean }>(takeAll, [owner]);
        // RETURNING has no order of its own.
        return rows
          .map((row) => ({ seq: BigInt(row.seq), message: toOfflineMessage(row) }))
          .sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))
          .map((r): OfflineMessage => r.message);
      });
    },
    count(owner) {
      return gc.read(async (db) => (await db.run(count, [owner])).rows[0].n as number);
    },
    size(owner) {
      return gc.read(async (db) => {
        const row = (await db.run<{ messages: number; bytes: string }>(size, [owner])).rows[0]!;
        return { messages: row.messages, bytes: Number(row.bytes) };
      });
    },
  };
}
