// The verifiable map store's contract against every adapter: memory, SQLite (on the main thread and on its
// worker thread) and PostgreSQL (a private server this file starts).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStorage } from '../../src/storage/memory/index.ts';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import { openSqliteWorkerStorage } from '../../src/storage/sqlite/worker-storage.ts';
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';
import type { Storage } from '../../src/storage/types.ts';
import { postgresAvailability, POSTGRES_MISSING, startPostgres } from '../helpers/postgres.ts';
import { subjectOfEachTest } from './subject.ts';
import { ktMapContract } from './kt-map-contract.ts';

const root = mkdtempSync(join(tmpdir(), 'pepkeys-ktmap-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshPath = () => join(root, `db-${counter++}`, 'pepkeys.sqlite');

function suite(name: string, open: () => Promise<Storage> | Storage): void {
  describe(`kt map contract: ${name}`, () => {
    // One storage per suite: every test works on domains of its own.
    const s = subjectOfEachTest({ open, reset: () => undefined, close: (storage) => storage.close() });
    ktMapContract(() => s().ktMap!);
  });
}

suite('memory', () => createMemoryStorage());
suite('sqlite file', () => openSqliteStorage({ path: freshPath() }));
suite('sqlite worker', () => openSqliteWorkerStorage({ path: freshPath() }));

const availability = postgresAvailability();
if (availability === 'skip') {
  it('PostgreSQL tests', { skip: 'PEPKEYS_SKIP_POSTGRES=1 and PostgreSQL is not installed' }, () => {});
} else if (availability === 'missing') {
  it('PostgreSQL is installed', () => assert.fail(POSTGRES_MISSING));
} else {
  const server = (await startPostgres())!;
  let url: string;
  try {
    url = await server.createDatabase();
  } catch (err) {
    await server.stop();
    throw err;
  }
  after(() => server.stop());
  suite('postgres', () => openPostgresStorage({ connectionString: url }));
}
