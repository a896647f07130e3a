// A database whose transparency file went missing after its journal had handed records to it (deleted, or left
// out of a copy): opened as it is, the key log would begin new logs without the events appended before, and
// clients that kept the old heads would find the new ones inconsistent. The open refuses it (KT_FILE_MISSING)
// unless the operator starts new logs on purpose (newLogs, `serve --new-logs`).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import { ktFileOf } from '../../src/storage/sqlite/kt-file.ts';
import { DOMAIN, journalHandedOver, journalState, keyEvent, keyItem } from '../helpers/kt-journal-handed-over.ts';

const removeKtFile = (path: string) => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(ktFileOf(path) + suffix, { force: true });
};

describe('sqlite: a transparency file missing beside a database that logged', () => {
  it('is refused at open with KT_FILE_MISSING; newLogs starts new logs from what the journal holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-missing-'));
    const path = join(dir, 'pepkeys.sqlite');
    try {
      const published = await journalHandedOver(path);
      const { highest, kept } = journalState(path);
      assert.ok(highest > kept, `the journal handed records over and deleted them (${kept} of ${highest} kept)`);
      assert.ok(existsSync(ktFileOf(path)));

      // With its file in place the database opens as always.
      await openSqliteStorage({ path }).close();
      removeKtFile(path);
      assert.throws(
        () => openSqliteStorage({ path }),
        (err: Error & { code?: string }) => err.code === 'KT_FILE_MISSING' && err.message.includes(`${highest - kept} of its ${highest} journal records`) && /--new-logs/.test(err.message),
      );
      // Refused before anything was written: no new transparency file, the journal as it was.
      assert.ok(!existsSync(ktFileOf(path)));
      assert.deepEqual(journalState(path), { highest, kept });

      // The operator's decision: new logs, from the key events the journal still holds.
      const storage = openSqliteStorage({ path, newLogs: true });
      const rebuilt = await storage.transparency.size(DOMAIN);
      assert.ok(rebuilt < published, `the new log lacks the events handed to the lost file (${rebuilt} leaves)`);
      await storage.pubsub.publishItem(keyItem('next'), undefined, keyEvent('next'));
      assert.equal(await storage.transparency.size(DOMAIN), rebuilt + 1);
      await storage.close();
      // From then on the new file is the database's own: the next open needs no decision.
      await openSqliteStorage({ path }).close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
