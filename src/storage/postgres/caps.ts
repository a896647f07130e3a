// Verified entity-capabilities cache (XEP-0115), keyed by hash:ver. Entries are immutable facts about a
// hash, so servers sharing the table can never disagree about one.
import type { CapsInfo, CapsStore } from '../types.ts';
import { statement } from './db.ts';
import type { GroupCommit } from './group-commit.ts';

const select = statement('caps_select', 'SELECT info FROM caps WHERE key = $1');
const upsert = statement('caps_upsert', 'INSERT INTO caps (key, info) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET info = excluded.info');

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
  };
}
