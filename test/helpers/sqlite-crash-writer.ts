// Child process for the SQLite crash test: publishes items forever from several concurrent writers, each
// awaiting its acknowledgement before printing the id on stdout. The parent SIGKILLs it mid-stream and
// then checks that every printed id survived.
// Usage: node --import tsx test/helpers/sqlite-crash-writer.ts <db path> <writers>
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';

const [path, writersArg = '4'] = process.argv.slice(2);
if (!path) throw new Error('usage: sqlite-crash-writer.ts <db path> [writers]');

const storage = openSqliteStorage({ path });
const service = 'crash@example.org';
const node = 'urn:test:crash';
await storage.pubsub.createNode({ service, node, config: {}, createdAt: Date.now() });
process.stdout.write('ready\n');

async function writer(w: number): Promise<never> {
  for (let i = 0; ; i++) {
    const id = `w${w}-${i}`;
    await storage.pubsub.publishItem(
      { service, node, id, publisher: service, payload: `<p>${'x'.repeat(200)}</p>`, publishedAt: Date.now() },
      undefined,
    );
    process.stdout.write(`${id}\n`);
  }
}

await Promise.all(Array.from({ length: Number(writersArg) }, (_, w) => writer(w)));
