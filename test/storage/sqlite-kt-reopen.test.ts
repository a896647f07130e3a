// The key-transparency reopen contract (test/contract/kt-reopen-contract.ts) on SQLite.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import { ktReopenContract } from '../contract/kt-reopen-contract.ts';

ktReopenContract('sqlite', {
  create: () => join(mkdtempSync(join(tmpdir(), 'pepkeys-kt-reopen-')), 'pepkeys.sqlite'),
  open: (path) => openSqliteStorage({ path }),
  remove: (path) => rmSync(dirname(path), { recursive: true, force: true }),
});
