// `pepkeys backup` / `pepkeys restore`: an online backup taken while clients publish is a consistent snapshot,
// and restored into a fresh data directory it serves the same accounts, rosters and items. Restore refuses a
// running server's data directory, an existing database without --force, and a damaged or newer backup.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { XmppClient, getItems, getRoster, publishItem, type NodeOptions } from '../../src/client/index.ts';
import { x } from '../../src/xml/index.ts';
import { befriend } from '../helpers/roster-setup.ts';
import { runCli, lines } from './run-cli.ts';
import { scratchDirs, serveInProcess } from './backup-helpers.ts';

const NODE = 'urn:example:notes';
const OPTIONS: NodeOptions = { accessModel: 'presence', maxItems: 'max' };
const fresh = scratchDirs('pepkeys-backup-');
const connect = (port: number, jid: string) =>
  XmppClient.connect({ host: '127.0.0.1', port, tls: { rejectUnauthorized: false }, jid, password: 'pw', resource: 'backup-test' });
const itemNumbers = async (c: XmppClient, owner: string) =>
  (await getItems(c, owner, NODE)).map((i) => Number(i.id)).sort((a, b) => a - b);

describe('pepkeys backup and restore of a server in use', () => {
  it('backs up while clients publish; the restored copy serves accounts, rosters and every item acknowledged before the backup', async () => {
    const dir = fresh();
    const live = join(dir, 'live');
    const restored = join(dir, 'restored');
    const file = join(dir, 'pepkeys.backup');
    const srv = await serveInProcess(live);
    let acknowledgedBefore = 0;
    let published = 0;
    try {
      for (const jid of ['juliet@localhost', 'romeo@localhost']) {
        const r = await runCli(['user', 'add', jid, '--password', 'pw', '--data', live]);
        assert.equal(r.code, 0, r.stderr);
      }
      const conn = { host: '127.0.0.1', port: srv.port, tls: { rejectUnauthorized: false } };
      await befriend(conn, { jid: 'juliet@localhost', password: 'pw' }, { jid: 'romeo@localhost', password: 'pw' }, ['Friends'], ['Family']);

      const juliet = await connect(srv.port, 'juliet@localhost');
      // Publishes one after another until told to stop; `published` counts the acknowledged ones.
      let stop = false;
      const publisher = (async () => {
        while (!stop) {
          await publishItem(juliet, NODE, x('note', { xmlns: 'urn:example' }, `n${published + 1}`), String(published + 1), OPTIONS);
          published++;
        }
      })();
      while (published < 20) await new Promise((r) => setTimeout(r, 10));
      acknowledgedBefore = published;
      const b = await runCli(['backup', '--data', live, file]);
      stop = true;
      await publisher;
      await juliet.close();
      assert.equal(b.code, 0, b.stderr);
      assert.match(b.stdout, new RegExp(`^backed up ${join(live, 'pepkeys.sqlite')} to ${file} \\(\\d+ KiB, schema version \\d+\\)\\n$`));
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.ok(!existsSync(`${file}-wal`), 'one self-contained file');

      // The live data directory belongs to the running server.
      const refused = await runCli(['restore', file, '--data', live, '--force']);
      assert.equal(refused.code, 1);
      assert.equal(refused.stderr, `pepkeys: data directory ${live} is in use by another pepkeys server (pid ${process.pid}); stop it first, or give this one its own --data\n`);
    } finally {
      await srv.stop();
    }

    const r = await runCli(['restore', file, '--data', restored]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^restored ${file} \\(schema version \\d+\\) to ${join(restored, 'pepkeys.sqlite')}\\n$`));
    assert.equal(statSync(restored).mode & 0o777, 0o700);
    assert.equal(statSync(join(restored, 'pepkeys.sqlite')).mode & 0o777, 0o600);

    const srv2 = await serveInProcess(restored);
    try {
      const juliet = await connect(srv2.port, 'juliet@localhost');
      const romeo = await connect(srv2.port, 'romeo@localhost');
      try {
        const roster = await getRoster(juliet);
        assert.deepEqual(roster.map((i) => [i.jid, i.subscription, i.groups]), [['romeo@localhost', 'both', ['Friends']]]);
        assert.deepEqual((await getRoster(romeo)).map((i) => [i.jid, i.subscription, i.groups]), [['juliet@localhost', 'both', ['Family']]]);
        // A snapshot: items 1..m with no gap, m at least what was acknowledged when the backup started.
        const items = await itemNumbers(romeo, 'juliet@localhost');
        assert.ok(items.length >= acknowledgedBefore, `${items.length} items restored, ${acknowledgedBefore} acknowledged before the backup`);
        assert.ok(items.length <= published);
        assert.deepEqual(items, items.map((_, i) => i + 1));
        if (process.env.PEPKEYS_TEST_VERBOSE) console.log(`acknowledged before: ${acknowledgedBefore}, restored: ${items.length}, published: ${published}`);
      } finally {
        await juliet.close();
        await romeo.close();
      }
    } finally {
      await srv2.stop();
    }

    const noForce = await runCli(['restore', file, '--data', restored]);
    assert.equal(noForce.code, 1);
    assert.equal(noForce.stderr, `pepkeys: ${join(restored, 'pepkeys.sqlite')} exists: give --force to replace it\n`);
    const forced = await runCli(['restore', file, '--data', restored, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    const kept = /^the database it replaced is kept as (\S+)$/m.exec(forced.stdout)?.[1];
    assert.ok(kept && existsSync(kept), forced.stdout);
    assert.ok(!existsSync(join(restored, 'pepkeys.sqlite-wal')), 'no -wal of the replaced database left to be replayed');
  });
});

describe('pepkeys backup and restore refusals', () => {
  it('refuses to overwrite a backup file without --force, and to back up a data directory without a database', async () => {
    const dir = fresh();
    const data = join(dir, 'data');
    assert.equal((await runCli(['user', 'add', 'a@localhost', '--password', 'pw', '--create', '--data', data])).code, 0);
    const file = join(dir, 'b.sqlite');
    writeFileSync(file, 'precious');
    const r = await runCli(['backup', '--data', data, file]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `pepkeys: ${file} exists: give --force to replace it\n`);
    assert.equal((await runCli(['backup', '--data', data, file, '--force'])).code, 0);
    assert.deepEqual(readdirSync(dir).sort(), ['b.sqlite', 'data'], 'no temporary file left behind');

    const self = join(data, 'pepkeys.sqlite');
    assert.equal((await runCli(['backup', '--data', data, self, '--force'])).stderr, `pepkeys: ${self} is the database itself: name another file\n`);
    assert.equal((await runCli(['restore', self, '--data', data, '--force'])).stderr, `pepkeys: ${self} is the database itself: name another file\n`);

    const none = await runCli(['backup', '--data', join(dir, 'typo'), join(dir, 'x.sqlite')]);
    assert.equal(none.stderr, `pepkeys: no database at ${join(dir, 'typo', 'pepkeys.sqlite')} (check --data or --config)\n`);
  });

  it('refuses a damaged backup, one from a newer pepkeys and a non-pepkeys database, touching nothing', async () => {
    const dir = fresh();
    const data = join(dir, 'data');
    const damaged = join(dir, 'damaged');
    writeFileSync(damaged, Buffer.alloc(8192, 0x42));
    const d = await runCli(['restore', damaged, '--data', data]);
    assert.equal(d.code, 1);
    assert.match(d.stderr, new RegExp(`^pepkeys: database ${damaged} is damaged \\(.*\\); restore it from a backup\\n$`));
    assert.ok(!existsSync(data), 'nothing created');

    assert.equal((await runCli(['user', 'add', 'a@localhost', '--password', 'pw', '--create', '--data', join(dir, 'src')])).code, 0);
    const newer = join(dir, 'newer');
    assert.equal((await runCli(['backup', '--data', join(dir, 'src'), newer])).code, 0);
    const db = new Database(newer);
    db.pragma('user_version = 999');
    db.close();
    const nr = await runCli(['restore', newer, '--data', data]);
    assert.equal(nr.code, 1);
    assert.match(nr.stderr, /^pepkeys: database schema version 999 is newer than this build supports \(\d+\); upgrade pepkeys\n$/);

    const other = join(dir, 'other');
    const o = new Database(other);
    o.exec('CREATE TABLE t (x)');
    o.close();
    const or = await runCli(['restore', other, '--data', data]);
    assert.equal(or.stderr, `pepkeys: ${other} is a SQLite database, but not one of pepkeys (no schema_migrations table)\n`);
    assert.ok(!existsSync(join(data, 'pepkeys.sqlite')));
  });

  it('sends PostgreSQL users to pg_dump', async () => {
    const dir = fresh();
    const file = join(dir, 'pepkeys.toml');
    writeFileSync(file, '[storage]\ndriver = "postgres"\nurl = "postgres://u:p@127.0.0.1:1/db"\n');
    const r = await runCli(['backup', '--config', file, join(dir, 'b')]);
    assert.equal(r.code, 1);
    assert.deepEqual(lines(r.stderr), ['pepkeys: storage.driver is "postgres": back it up with pg_dump / pg_restore (see docs/operations.md, Backups)']);
  });
});
