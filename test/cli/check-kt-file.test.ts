// Issue 14: `pepkeys check` knows the transparency file (PATH-kt.sqlite, storage/sqlite/kt-file.ts) beside the
// SQLite database. A sound pair bound to each other passes, also beside a running server; a damaged file, a
// foreign one (which the server refuses, KT_FILE_MISMATCH), one that is ahead of its database, and a missing one
// for a database that logged key events are errors, each saying what to do. A file missing because the database
// still holds its logs (a restored backup) is not. The data directory check holds it to 0600 like the database.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, openSync, closeSync, fstatSync, writeSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStorage } from '../../src/storage/sqlite/index.ts';
import { ktFileOf } from '../../src/storage/sqlite/kt-file.ts';
import { backupSqlite, restoreSqlite } from '../../src/cli/ops/sqlite-backup.ts';
import type { LogAppend } from '../../src/storage/types.ts';
import { item } from '../contract/fixtures.ts';
import { runCli } from './run-cli.ts';
import { scratchDirs, serveInProcess } from './backup-helpers.ts';

const DOMAIN = 'capulet.lit';
const OWNER = `juliet@${DOMAIN}`;
const NODE = 'urn:xmpp:pubkey:2';
const fresh = scratchDirs('pepkeys-check-kt-');

const keyEvent = (itemId: string): LogAppend => ({
  domain: DOMAIN,
  event: { type: 'publish', time: 1_764_892_800_000, jid: OWNER, node: NODE, itemId, payload: `<x xmlns='urn:x'>${itemId}</x>` },
});

/** A data directory whose database logged `n` key events (items k0…), as a server with [kt] on would. */
async function dataWithLog(n: number, from = 0, data = join(fresh(), 'data')): Promise<string> {
  const storage = openSqliteStorage({ path: join(data, 'pepkeys.sqlite') });
  try {
    if (from === 0) await storage.pubsub.createNode({ service: OWNER, node: NODE, config: {}, createdAt: 1 });
    for (let i = from; i < from + n; i++) await storage.pubsub.publishItem(item(OWNER, NODE, `k${i}`), undefined, keyEvent(`k${i}`));
    assert.equal(await storage.transparency.size(DOMAIN), from + n);
  } finally {
    await storage.close();
  }
  return data;
}

/** The log of DOMAIN as its leaves, read through a real open of the storage. */
async function logRoot(data: string): Promise<string[]> {
  const storage = openSqliteStorage({ path: db(data) });
  try {
    const n = await storage.transparency.size(DOMAIN);
    return (await storage.transparency.entries(DOMAIN, 0, n)).map((e) => Buffer.from(e.leaf).toString('hex'));
  } finally {
    await storage.close();
  }
}

const db = (data: string) => join(data, 'pepkeys.sqlite');
const kt = (data: string) => ktFileOf(db(data));

async function check(data: string) {
  const r = await runCli(['check', '--data', data, '--listen', '127.0.0.1:0', '--json']);
  const out = JSON.parse(r.stdout) as { ok: boolean; findings: { check: string; level: string; message: string }[] };
  const ktFindings = out.findings.filter((f) => f.message.includes('transparency file'));
  return { code: r.code, out, kt: ktFindings, text: r.stdout + r.stderr };
}

describe('pepkeys check: the transparency file', () => {
  it('passes a database and its transparency file bound to each other, before and beside a running server', async () => {
    const data = await dataWithLog(21);
    const r = await check(data);
    assert.equal(r.code, 0, r.text);
    assert.equal(r.kt.length, 1, r.text);
    assert.deepEqual([r.kt[0]!.check, r.kt[0]!.level], ['database', 'ok']);
    assert.equal(r.kt[0]!.message, `transparency file ${kt(data)} passes quick_check, bound to this database; ${DOMAIN}: 21 leaves`);

    const srv = await serveInProcess(data);
    try {
      const beside = await check(data);
      assert.deepEqual(beside.kt.map((f) => f.level), ['ok'], beside.text);
      assert.equal(beside.out.findings.filter((f) => f.level === 'error').length, 0, beside.text);
    } finally {
      await srv.stop();
    }
  });

  it('reports a damaged transparency file, with what to do', async () => {
    const data = await dataWithLog(21);
    assert.ok(!existsSync(`${kt(data)}-wal`), 'closed: everything is in the file itself');
    // Every page but the first (the schema) overwritten: the tables' b-trees are garbage.
    const fd = openSync(kt(data), 'r+');
    try {
      const size = fstatSync(fd).size;
      assert.ok(size > 4 * 4096, `the file has several pages (${size} bytes)`);
      writeSync(fd, Buffer.alloc(size - 4096, 0x42), 0, size - 4096, 4096);
    } finally {
      closeSync(fd);
    }
    const r = await check(data);
    assert.equal(r.code, 1, r.text);
    assert.equal(r.kt.length, 1, r.text);
    assert.equal(r.kt[0]!.level, 'error');
    assert.match(r.kt[0]!.message, new RegExp(`^transparency file ${kt(data).replace(/[.]/g, '\\.')} is damaged \\(.+\\): stop the server and restore the database and its logs from one backup`));
    const human = await runCli(['check', '--data', data, '--listen', '127.0.0.1:0']);
    assert.match(human.stdout, /^error: transparency file .*-kt\.sqlite is damaged/m);
  });

  it('reports a transparency file of another database, which the server refuses to start with', async () => {
    const ours = await dataWithLog(3);
    const theirs = await dataWithLog(5);
    copyFileSync(kt(theirs), kt(ours));
    const r = await check(ours);
    assert.equal(r.code, 1, r.text);
    assert.equal(r.kt.length, 1, r.text);
    assert.equal(r.kt[0]!.level, 'error');
    assert.match(r.kt[0]!.message, /belongs to another database than the one beside it: the server refuses to start \(KT_FILE_MISMATCH\); put back the database it belongs to, or restore/);
    // What the check says is what the server does at start.
    assert.throws(() => openSqliteStorage({ path: db(ours) }), (e: Error & { code?: string }) => e.code === 'KT_FILE_MISMATCH');
  });

  it('reports a database put back from a copy older than its transparency file', async () => {
    const data = await dataWithLog(3);
    const older = join(data, 'older.sqlite');
    copyFileSync(db(data), older);
    await dataWithLog(4, 3, data);
    copyFileSync(older, db(data));
    const r = await check(data);
    assert.equal(r.code, 1, r.text);
    assert.match(r.kt[0]?.message ?? '', /has appended the database's journal up to record 7, but the database has numbered only 3: the database is older than its logs .*the server refuses to start \(KT_FILE_MISMATCH\) rather than leave its next key events unlogged/);
  });

  it('reports a missing transparency file of a database whose journal no longer holds every key event, and says what the server would do', async () => {
    const data = await dataWithLog(6);
    // Appended records leave the journal with a batch after the key-log thread reported them (it starts at a
    // read): read and write until some have.
    const storage = openSqliteStorage({ path: db(data) });
    try {
      await storage.pubsub.createNode({ service: OWNER, node: 'urn:x:notes', config: {}, createdAt: 1 });
      const inJournal = () => {
        const main = new Database(db(data), { readonly: true });
        try {
          return main.prepare('SELECT count(*) FROM kt_journal').pluck().get() as number;
        } finally {
          main.close();
        }
      };
      const until = Date.now() + 60_000;
      for (let i = 0; inJournal() === 6; i++) {
        assert.ok(Date.now() < until, 'the journal records were never deleted');
        assert.equal(await storage.transparency.size(DOMAIN), 6);
        await storage.pubsub.publishItem(item(OWNER, 'urn:x:notes', `n${i}`), undefined);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await storage.close();
    }
    unlinkSync(kt(data));
    const r = await check(data);
    assert.equal(r.code, 1, r.text);
    assert.equal(r.kt.length, 1, r.text);
    assert.equal(r.kt[0]!.level, 'error');
    assert.match(r.kt[0]!.message, /^transparency file .*-kt\.sqlite is missing, but the database journalled key events in 6 records, [0-5] of them still in its journal: the server refuses to start \(KT_FILE_MISSING\); started with `pepkeys serve --new-logs`, it would begin new logs and maps from what its journal holds, .*put the file back, or restore the database and its logs from one backup/);
    // As said: the server's next open is refused, and with new logs asked for it starts a log that lacks the
    // events the lost file held.
    assert.throws(() => openSqliteStorage({ path: db(data) }), (err: Error & { code?: string }) => err.code === 'KT_FILE_MISSING');
    const reopened = openSqliteStorage({ path: db(data), newLogs: true });
    try {
      assert.ok((await reopened.transparency.size(DOMAIN)) < 6);
    } finally {
      await reopened.close();
    }
  });

  it('warns of a missing transparency file whose logs the journal still holds whole, and the server rebuilds them', async () => {
    const data = await dataWithLog(6);
    const before = await logRoot(data);
    unlinkSync(kt(data));
    const r = await check(data);
    assert.equal(r.code, 0, r.text);
    assert.deepEqual(r.kt.map((f) => f.level), ['warning'], r.text);
    assert.match(r.kt[0]!.message, /^transparency file .*-kt\.sqlite is missing; the database's journal still holds all 6 key events of its logs, from which the server rebuilds them at its next start$/);
    assert.deepEqual(await logRoot(data), before);
  });

  it('reports a missing transparency file of a database that published tree heads (a log moved out of the database before the journal)', async () => {
    const data = join(fresh(), 'data');
    const storage = openSqliteStorage({ path: db(data) });
    try {
      await storage.pubsub.createNode({ service: DOMAIN, node: 'urn:pepkeys:kt:0:heads', config: {}, createdAt: 1 });
      for (const size of ['5', '12']) await storage.pubsub.publishItem(item(DOMAIN, 'urn:pepkeys:kt:0:heads', size), undefined);
    } finally {
      await storage.close();
    }
    unlinkSync(kt(data));
    const r = await check(data);
    assert.equal(r.code, 1, r.text);
    assert.match(r.kt[0]?.message ?? '', new RegExp(`is missing, but the database published tree heads of ${DOMAIN.replace('.', '\\.')} up to size 12: `));
  });

  it('passes a missing transparency file when the database has no log, or holds its logs itself (restored from a backup)', async () => {
    const plain = join(fresh(), 'data');
    assert.equal((await runCli(['user', 'add', 'a@localhost', '--password', 'pw', '--create', '--data', plain])).code, 0);
    assert.ok(existsSync(kt(plain)), 'every open of the database makes its transparency file');
    unlinkSync(kt(plain));
    const none = await check(plain);
    assert.equal(none.code, 0, none.text);
    assert.match(none.kt[0]!.message, /^no transparency file yet; the server creates .*-kt\.sqlite at its next start$/);

    const live = await dataWithLog(9);
    const file = join(live, '..', 'backup.sqlite');
    await backupSqlite(db(live), file, { dataDir: live });
    const restored = join(fresh(), 'data');
    restoreSqlite(file, db(restored), restored);
    assert.ok(!existsSync(kt(restored)));
    const r = await check(restored);
    assert.equal(r.code, 0, r.text);
    assert.match(r.kt[0]!.message, /^no transparency file yet: the server moves the logs the database holds into .*-kt\.sqlite at its next start$/);
    // And so it does: after one open the pair passes, with the log of the backup.
    await openSqliteStorage({ path: db(restored) }).close();
    const after = await check(restored);
    assert.equal(after.code, 0, after.text);
    assert.match(after.kt[0]!.message, new RegExp(`bound to this database; ${DOMAIN.replace('.', '\\.')}: 9 leaves$`));
  });

  it('holds the transparency file and its -wal and -shm to 0600 like the database', async () => {
    const data = await dataWithLog(2);
    const asMade = await runCli(['check', '--data', data, '--listen', '127.0.0.1:0']);
    assert.equal(asMade.stdout.includes('-kt.sqlite'), false, asMade.stdout);
    const ktWarnings = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('warning: ') && l.includes('-kt.sqlite'));
    chmodSync(kt(data), 0o644);
    assert.deepEqual(ktWarnings((await runCli(['check', '--data', data, '--listen', '127.0.0.1:0'])).stdout), [
      `warning: ${kt(data)} is mode 0644 and holds secrets: chmod 600 ${kt(data)}`,
    ]);
    chmodSync(kt(data), 0o600);
    // Its -wal and -shm exist while a connection (the server's key-log thread) has it open.
    const open = new Database(kt(data));
    try {
      open.pragma('user_version');
      assert.ok(existsSync(`${kt(data)}-wal`) && existsSync(`${kt(data)}-shm`));
      chmodSync(`${kt(data)}-wal`, 0o640);
      chmodSync(`${kt(data)}-shm`, 0o644);
      assert.deepEqual(ktWarnings((await runCli(['check', '--data', data, '--listen', '127.0.0.1:0'])).stdout), [
        `warning: ${kt(data)}-wal is mode 0640 and holds secrets: chmod 600 ${kt(data)}-wal`,
        `warning: ${kt(data)}-shm is mode 0644 and holds secrets: chmod 600 ${kt(data)}-shm`,
      ]);
    } finally {
      open.close();
    }
  });

  it('reports a transparency file left without its database, which a new database would refuse', async () => {
    const data = await dataWithLog(3);
    for (const f of [db(data), `${db(data)}.created`]) unlinkSync(f);
    const r = await check(data);
    assert.equal(r.code, 1, r.text);
    assert.equal(r.kt.length, 1, r.text);
    assert.match(r.kt[0]!.message, /^transparency file .*-kt\.sqlite belongs to a database that is not there: the server would create a new database and refuse to start with this file \(KT_FILE_MISMATCH\); restore the database and its logs from one backup/);
    assert.throws(() => openSqliteStorage({ path: db(data) }), (e: Error & { code?: string }) => e.code === 'KT_FILE_MISMATCH');
  });
});
