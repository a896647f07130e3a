// Verified entity-capabilities cache (XEP-0115), keyed by hash:ver. Entries are immutable facts about a
// hash, so servers sharing the table can never disagree about one. Bounded by least-recently-used eviction:
// `used_at` is a counter (max + 1 at each put or touch; two servers may tie, which only blurs the order).
import type { CapsInfo, CapsStore } from '../types.ts';
import { statement } from './db.ts';
import type { GroupCommit } from './group-commit.ts';

const NEXT_USE = '(SELECT coalesce(max(used_at), 0) + 1 FROM caps)';
const select = statement('caps_select', 'SELECT info FROM caps WHERE key = $1');
const upsert = statement('caps_upsert', `INSERT INTO caps (key, info, used_at) VALUES ($1, $2, ${NEXT_USE}) ON CONFLICT (key) DO UPDATE SET info = excluded.info, used_at = excluded.used_at`);
const touch = statement('caps_touch', `UPDATE caps SET used_at = ${NEXT_USE} WHERE key = $1`);
const prune = statement('caps_prune', 'DELETE FROM caps WHERE key IN (SELECT key FROM caps ORDER BY used_at DESC, key OFFSET $1)');

export function createCapsStore(gc: GroupCommit): CapsStore {
  return {
    get(key) {
      return gc.read(async (db) => {
        const row = (await db.run(select, [key])).rows[0];
        return row === undefined ? undefined : (JSON.parse(row.info) as CapsInfo);
      });
    },
    put(key, info) {
      const json = JSON.stringify(info);
      return gc.write(async (db) => {
        await db.run(upsert, [key, json]);
      });
    },
    touch(key) {
      return gc.write(async (db) => {
        await db.run(touch, [key]);
      });
    },
    prune(maxEntries) {
      return gc.write(async (db) => (await db.run(prune, [maxEntries])).rowCount ?? 0);
    },
  };
}
