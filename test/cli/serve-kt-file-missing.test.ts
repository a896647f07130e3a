// `pepkeys serve` on a data dir whose transparency file is gone although the database had handed key events to
// it: it refuses to start (exit 1, KT_FILE_MISSING, saying what to do) and writes nothing; `--new-logs` starts
// new logs on purpose, and then serves.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ktFileOf } from '../../src/storage/sqlite/kt-file.ts';
import { journalHandedOver } from '../helpers/kt-journal-handed-over.ts';
import { startCli, within } from './run-cli.ts';

describe('pepkeys serve with the transparency file missing', () => {
  it('refuses to start unless --new-logs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pepkeys-cli-kt-missing-'));
    const db = join(dir, 'pepkeys.sqlite');
    const args = ['serve', '--data', dir, '--listen', '127.0.0.1:0', '--host', 'example.com', '--log-level', 'silent'];
    try {
      await journalHandedOver(db);
      for (const suffix of ['', '-wal', '-shm']) rmSync(ktFileOf(db) + suffix, { force: true });

      const refused = startCli(args);
      const { code, stderr } = await within(refused.exited, 30_000, 'serve to refuse');
      assert.equal(code, 1, stderr);
      assert.match(stderr, /pepkeys-kt\.sqlite is missing, but the database beside it already handed \d+ of its \d+ journal records to it/);
      assert.match(stderr, /`pepkeys serve --new-logs`/);
      assert.ok(!existsSync(ktFileOf(db)), 'nothing created');

      let serving!: () => void;
      const up = new Promise<void>((r) => (serving = r));
      const run = startCli([...args, '--new-logs'], { onStderr: (all) => { if (/^pepkeys serving example\.com on 127\.0\.0\.1:\d+$/m.test(all)) serving(); } });
      await within(Promise.race([up, run.exited.then((x) => { throw new Error(`serve ended early: ${x.stderr}`); })]), 30_000, 'serve --new-logs to start');
      assert.ok(existsSync(ktFileOf(db)), 'a new transparency file');
      run.stop();
      assert.equal((await within(run.exited, 15_000, 'serve to stop')).code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
