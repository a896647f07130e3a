// A server killed right after a batch of key events was acknowledged (its journal record durable, not yet
// appended by the key-log process): the next open appends that record's events, once, after the earlier
// ones; further reopens append nothing again.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openSqliteStorage } from '../../../src/storage/sqlite/index.ts';
import { item } from '../../contract/fixtures.ts';
import { DOMAIN, NODE, OWNER, journal, keyEvent, logIds, reopenedLogIs, tempDir } from './kt-journal-helpers.ts';

const WRITER = fileURLToPath(new URL('./kt-journal-crash-writer.ts', import.meta.url));

function runWriter(path: string): Promise<{ stdout: string; stderr: string; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ stdout, stderr, signal }));
  });
}

describe('sqlite kt journal across a crash', () => {
  it('the record of an acknowledged batch is appended after the restart, exactly once', async () => {
    const dir = tempDir();
    try {
      const run = await runWriter(dir.path);
      assert.equal(run.signal, 'SIGKILL', run.stderr);
      assert.equal(run.stdout, 'acked\n');
      // The batch is durable in the journal as one record, whatever its key-log process got to do.
      assert.deepEqual(journal(dir.path).at(-1)?.[1], [`${DOMAIN}/b`, `${DOMAIN}/c`, `${DOMAIN}/d`]);
      const storage = openSqliteStorage({ path: dir.path });
      assert.deepEqual(await logIds(storage), ['a', 'b', 'c', 'd']);
      await storage.pubsub.publishItem(item(OWNER, NODE, 'e'), undefined, keyEvent('e'));
      assert.deepEqual(await logIds(storage), ['a', 'b', 'c', 'd', 'e']);
      await reopenedLogIs(storage, dir.path, ['a', 'b', 'c', 'd', 'e']);
    } finally {
      dir.remove();
    }
  });
});
