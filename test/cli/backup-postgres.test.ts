// The PostgreSQL side of docs/operations.md: `pepkeys check` reaches the database and reads its schema
// version, and the pg_dump / pg_restore commands the document gives move a pepkeys database (schema public)
// to a new one that `pepkeys` then uses.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { runCli, lines } from './run-cli.ts';

let pg: PostgresServer | undefined;
let dir: string;
before(async () => {
  pg = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'pepkeys-backup-pg-'));
});
after(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function configFor(url: string, name: string): string {
  const file = join(dir, `${name}.toml`);
  writeFileSync(file, `data_dir = "${join(dir, name)}"\n[c2s]\nlisten = ["127.0.0.1:0"]\n[storage]\ndriver = "postgres"\nurl = "${url}"\n`);
  return file;
}

describe('PostgreSQL: check, pg_dump and pg_restore', { skip: process.env.PEPKEYS_SKIP_POSTGRES === '1' }, () => {
  it('check reports the database reachable, and the documented pg_dump / pg_restore carry accounts over', async () => {
    const url = await pg!.createDatabase('pepkeys_live');
    const live = configFor(url, 'live');
    const add = await runCli(['user', 'add', 'alice@localhost', '--password', 'pw', '--config', live]);
    assert.equal(add.code, 0, add.stderr);
    const check = await runCli(['check', '--config', live, '--json']);
    assert.equal(check.code, 0, check.stdout);
    const db = (JSON.parse(check.stdout) as { findings: { check: string; message: string }[] }).findings.find((f) => f.check === 'database')!;
    assert.match(db.message, /^PostgreSQL postgres:\/\/.*\/pepkeys_live is reachable, schema version \d+$/);

    // As docs/operations.md gives them.
    const dump = join(dir, 'pepkeys.dump');
    execFileSync('pg_dump', ['--format=custom', '--schema=public', '--no-owner', `--file=${dump}`, url]);
    const copy = await pg!.createDatabase('pepkeys_restored');
    execFileSync('pg_restore', ['--no-owner', '--schema=public', `--dbname=${copy}`, dump]);

    const list = await runCli(['user', 'list', '--config', configFor(copy, 'restored')]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(lines(list.stdout), ['alice@localhost']);
  });
});
