// Child process for the storage crash tests: publishes items forever from several concurrent writers, each
// awaiting its acknowledgement before printing the id on stdout. The parent SIGKILLs it (and, for
// PostgreSQL, the database server) mid-stream and then checks that every printed id survived.
// Usage: node --import tsx test/helpers/crash-writer.ts sqlite <db path> [writers]
//        node --import tsx test/helpers/crash-writer.ts postgres <connection string> [writers]
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';

const [driver, target, writersArg = '4'] = process.argv.slice(2);
if ((driver !== 'sqlite' && driver !== 'postgres') || !target) throw new Error('usage: crash-writer.ts sqlite|postgres <db path | connection string> [writers]');

const storage = driver === 'sqlite' ? openSqliteStorage({ path: target }) : await openPostgresStorage({ connectionString: target });
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
