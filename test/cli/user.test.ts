// `pepkeys user ...` against a temporary data directory: in-process, and once through bin/ as a real process.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, lines, runCli, type CliResult } from './run-cli.ts';

const SECRETS = ['s3cret-alice', 'piped-bob-pw', 'new-alice-pw', 'piped-new-bob', 'piped-carl-pw'];

/** Asserts a failure: exit code 1 and exactly one `pepkeys: ...` line on stderr matching `re`. */
function assertOneLineError(r: CliResult, re: RegExp): void {
  assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
  const l = lines(r.stderr);
  assert.equal(l.length, 1, `one stderr line expected, got: ${r.stderr}`);
  assert.match(l[0]!, /^pepkeys: /);
  assert.match(l[0]!, re);
}

describe('pepkeys user', () => {
  let dir: string;
  const outputs: CliResult[] = [];
  const cli = async (args: string[], input?: string) => {
    const r = await runCli([...args, '--data', dir], { input });
    outputs.push(r);
    return r;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-cli-user-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('adds an account given --password', async () => {
    const r = await cli(['user', 'add', 'Alice@LocalHost', '--password', 's3cret-alice']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'created alice@localhost\n');
  });

  it('adds an account reading the first line of a piped stdin', async () => {
    const r = await cli(['user', 'add', 'bob@localhost'], 'piped-bob-pw\nsecond line ignored\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'created bob@localhost\n');
  });

  it('refuses a duplicate account with one line and exit code 1', async () => {
    const r = await cli(['user', 'add', 'alice@localhost', '--password', 'other']);
    assertOneLineError(r, /alice@localhost already exists/);
  });

  it('refuses an empty password from stdin', async () => {
    assertOneLineError(await cli(['user', 'add', 'carol@localhost'], ''), /empty password/);
  });

  it('lists accounts sorted, optionally of one domain', async () => {
    assert.equal((await cli(['user', 'add', 'dave@example.com', '-p', 'x'])).code, 0);
    const all = await cli(['user', 'list']);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(lines(all.stdout), ['alice@localhost', 'bob@localhost', 'dave@example.com']);
    const one = await cli(['user', 'list', 'example.com']);
    assert.deepEqual(lines(one.stdout), ['dave@example.com']);
  });

  it('changes a password with --password and from stdin', async () => {
    const a = await cli(['user', 'passwd', 'alice@localhost', '--password', 'new-alice-pw']);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, 'password changed for alice@localhost\n');
    const b = await cli(['user', 'passwd', 'bob@localhost'], 'piped-new-bob\r\n');
    assert.equal(b.code, 0, b.stderr);
  });

  it('refuses to change the password of a missing account', async () => {
    assertOneLineError(await cli(['user', 'passwd', 'nobody@localhost', '-p', 'x']), /no account nobody@localhost/);
  });

  it('deletes an account, and refuses to delete it twice', async () => {
    const r = await cli(['user', 'del', 'dave@example.com']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'deleted dave@example.com\n');
    assert.deepEqual(lines((await cli(['user', 'list'])).stdout), ['alice@localhost', 'bob@localhost']);
    assertOneLineError(await cli(['user', 'del', 'dave@example.com']), /no account dave@example.com/);
  });

  it('rejects invalid, domain-only and full JIDs', async () => {
    assertOneLineError(await cli(['user', 'add', 'a@b@c', '-p', 'x']), /invalid JID 'a@b@c'/);
    assertOneLineError(await cli(['user', 'add', 'localhost', '-p', 'x']), /invalid JID 'localhost'.*localpart/);
    assertOneLineError(await cli(['user', 'add', 'eve@localhost/phone', '-p', 'x']), /invalid JID .*bare/);
  });

  it('warns, but accepts, a domain that is not a configured host', async () => {
    const r = await cli(['user', 'add', 'frank@elsewhere.org', '-p', 'x', '--host', 'localhost']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^pepkeys: warning: elsewhere\.org is not a configured host/);
  });

  it('refuses to operate on a data directory without a database instead of creating one', async () => {
    const r = await runCli(['user', 'list', '--data', join(dir, 'typo')]);
    assertOneLineError(r, /no database at .*typo/);
  });

  it('works through bin/pepkeys.js as a real process, reading the password from its piped stdin', async () => {
    const r = await runCli(['user', 'add', 'carl@localhost', '--data', dir], { entry: BIN, input: 'piped-carl-pw\n' });
    outputs.push(r);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'created carl@localhost\n');
    assert.deepEqual(lines((await cli(['user', 'list', 'localhost'])).stdout), ['alice@localhost', 'bob@localhost', 'carl@localhost']);
  });

  it('never prints a password', () => {
    for (const r of outputs) for (const s of SECRETS) assert.ok(!(r.stdout + r.stderr).includes(s), `output contains a password: ${r.stdout}${r.stderr}`);
  });
});
