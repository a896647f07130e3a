// The caching PubsubStore in front of the engine's store must answer exactly as the store it wraps: it runs
// the pubsub part of the storage contract over the in-memory adapter and over SQLite.
import { describe } from 'node:test';
import { cachedPubsubStore } from '../../../src/server/pubsub/cached-store.ts';
import { createMemoryStorage } from '../../../src/storage/memory/index.ts';
import { openSqliteStorage } from '../../../src/storage/sqlite/index.ts';
import type { PubsubStore, Storage } from '../../../src/storage/types.ts';
import { pubsubContract } from '../../contract/pubsub-contract.ts';
import { subjectOfEachTest } from '../../contract/subject.ts';

const behind: [string, () => Storage][] = [
  ['memory', createMemoryStorage],
  ["sqlite ':memory:'", () => openSqliteStorage({ path: ':memory:' })],
];

for (const [name, open] of behind) {
  describe(`pubsub contract: cachedPubsubStore over ${name}`, () => {
    const subject = subjectOfEachTest<{ storage: Storage; pubsub: PubsubStore }>({
      open: () => {
        const storage = open();
        return { storage, pubsub: cachedPubsubStore(storage.pubsub) };
      },
      close: ({ storage }) => storage.close(),
    });
    pubsubContract(() => subject().pubsub);
  });
}
