// Verified entity-capabilities cache (XEP-0115), keyed by hash:ver, bounded by least-recently-used eviction:
// `used_at` is a counter (max + 1 at each put or touch), so the order is exact even within one millisecond.
import type { CapsInfo, CapsStore } from '../types.ts';
import type { SqliteDatabase } from './database.ts';
import type { GroupCommit } from './group-commit.ts';

const NEXT_USE = '(SELECT coalesce(max(used_at), 0) + 1 FROM caps)';

export function createCapsStore(db: SqliteDatabase, gc: GroupCommit): CapsStore {
  const select = db.prepare('SELECT info FROM caps WHERE key = ?').pluck();
  const upsert = db.prepare(`INSERT INTO caps (key, info, used_at) VALUES (?, ?, ${NEXT_USE}) ON CONFLICT (key) DO UPDATE SET info = excluded.info, used_at = excluded.used_at`);
  const touch = db.prepare(`UPDATE caps SET used_at = ${NEXT_USE} WHERE key = ?`);
  const prune = db.prepare('DELETE FROM caps WHERE key IN (SELECT key FROM caps ORDER BY used_at DESC, key LIMIT -1 OFFSET ?)');
  return {
    get(key) {
      return gc.read(() => {
        const info = select.get(key) as string | undefined;
        return info === undefined ? undefined : (JSON.parse(info) as CapsInfo);
      });
    },
    put(key, info) {
      const json = JSON.stringify(info);
      return gc.write(() => {
        upsert.run(key, json);
      });
    },
    touch(key) {
      return gc.write(() => {
        touch.run(key);
      });
    },
    prune(maxEntries) {
      return gc.write(() => prune.run(maxEntries).changes);
    },
  };
}
