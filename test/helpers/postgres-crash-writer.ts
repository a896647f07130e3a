// Child process for the PostgreSQL crash test: publishes items forever from several concurrent writers, each
// awaiting its acknowledgement before printing the id on stdout. The parent SIGKILLs it (and the database
// server) mid-stream and then checks that every printed id survived.
// Usage: node --import tsx test/helpers/postgres-crash-writer.ts <connection string> [writers]
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';

const [url, writersArg = '4'] = process.argv.slice(2);
if (!url) throw new Error('usage: postgres-crash-writer.ts <connection string> [writers]');

const storage = await openPostgresStorage({ connectionString: url });
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
