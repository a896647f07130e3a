// Verified entity-capabilities cache (XEP-0115), keyed by hash:ver.
import type { CapsInfo, CapsStore } from '../types.ts';
import type { SqliteDatabase } from './database.ts';
import type { GroupCommit } from './group-commit.ts';

export function createCapsStore(db: SqliteDatabase, gc: GroupCommit): CapsStore {
  const select = db.prepare('SELECT info FROM caps WHERE key = ?').pluck();
  const upsert = db.prepare('INSERT INTO caps (key, info) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET info = excluded.info');
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
  };
}
