// Usage and configuration errors: one `pepkeys: ...` line and exit code 1; --help exits 0.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { BIN, MAIN, lines, runCli } from './run-cli.ts';

describe('pepkeys usage and configuration errors', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-cli-usage-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function oneLine(stderr: string): string {
    const l = lines(stderr);
    assert.equal(l.length, 1, `one stderr line expected, got: ${stderr}`);
    assert.match(l[0]!, /^pepkeys: /);
    return l[0]!;
  }

  it('names the bad key of a config file, for serve and for user commands', async () => {
    const file = join(dir, 'bad.toml');
    writeFileSync(file, '[c2s]\nlisten = ["nope"]\n');
    for (const args of [['serve', '--config', file], ['user', 'list', '--config', file]]) {
      const r = await runCli(args);
      assert.equal(r.code, 1, r.stderr);
      const line = oneLine(r.stderr);
      assert.ok(line.includes(file), line);
      assert.match(line, /c2s\.listen\[0\]: expected HOST:PORT/);
    }
  });

  it('reports a missing config file', async () => {
    const r = await runCli(['serve', '--config', join(dir, 'missing.toml')]);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /missing\.toml: cannot read: ENOENT/);
  });

  it('reports invalid TOML with its line and column (issue 18)', async () => {
    const file = join(dir, 'broken.toml');
    writeFileSync(file, 'hosts = ["localhost"]\n[limits\n');
    const r = await runCli(['user', 'list', '--config', file]);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /broken\.toml:2:\d+: invalid TOML: \S/);
  });

  it('says how to give a password when there is no terminal and none was piped (issue 18)', async () => {
    const r = await runCli(['key', 'fetch', 'bob@localhost', '--jid', 'alice@localhost', '--server', '127.0.0.1:1', '--insecure', '--home', join(dir, 'nohome')], { input: '' });
    assert.notEqual(r.code, 0);
    assert.match(oneLine(r.stderr), /empty password: stdin is not a terminal .*--password.*PEPKEYS_PASSWORD/);
  });

  it('key verify falls back to the trust store when the server is down, and asks whether it runs (issue 18)', async () => {
    const r = await runCli(['key', 'verify', 'bob@localhost', '--jid', 'alice@localhost', '--password', 'x', '--server', '127.0.0.1:1', '--insecure', '--home', join(dir, 'verify-home')]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /cannot connect to 127\.0\.0\.1:1.*is the server running\?/);
    assert.match(r.stderr, /no keys known for bob@localhost/);
  });

  it('suggests the key meant by a misspelt one (issue 18)', async () => {
    const file = join(dir, 'typo.toml');
    writeFileSync(file, 'hosst = ["localhost"]\n[limits]\nmax_stanza_byte = 4096\n');
    const r = await runCli(['user', 'list', '--config', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Unrecognized key: "hosst" \(did you mean "hosts"\?\)/);
    assert.match(r.stderr, /limits: Unrecognized key: "max_stanza_byte" \(did you mean "max_stanza_bytes"\?\)/);
  });

  it('names tls.cert when the configured certificate is missing (issue 18)', async () => {
    const file = join(dir, 'cert.toml');
    writeFileSync(file, `[c2s]\nlisten = ["127.0.0.1:0"]\n[tls]\ncert = "${join(dir, 'nope.pem')}"\nkey = "${join(dir, 'nope.key')}"\n`);
    const r = await runCli(['serve', '--config', file, '--data', join(dir, 'certdata'), '--log-level', 'silent'], { entry: MAIN });
    assert.equal(r.code, 1, r.stderr);
    assert.match(oneLine(r.stderr), /tls\.cert = ".*nope\.pem": no such file/);
  });

  it('exits 1 with one line when a listener cannot bind, even after another one did', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (blocker.address() as AddressInfo).port;
      // A real process: a partial start cannot be undone in-process (serve exits instead).
      const r = await runCli(['serve', '--data', join(dir, 'busy'), '--listen', '127.0.0.1:0', '--listen', `127.0.0.1:${port}`, '--log-level', 'silent'], { entry: MAIN });
      assert.equal(r.code, 1, r.stderr);
      assert.match(oneLine(r.stderr), new RegExp(`EADDRINUSE.*127\\.0\\.0\\.1:${port}.*--listen HOST:PORT`));
    } finally {
      blocker.close();
    }
  });

  it("reports commander's own usage errors in the same shape, exit code 1", async () => {
    for (const args of [['serve', '--bogus'], ['user', 'add'], ['frobnicate'], ['serve', '--log-level', 'loud']]) {
      const r = await runCli(args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      oneLine(r.stderr);
    }
  });

  it('prints help through bin/pepkeys.js as a real process', async () => {
    const r = await runCli(['--help'], { entry: BIN });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: pepkeys/);
  });

  it('prints help with exit code 0 everywhere', async () => {
    for (const args of [['--help'], ['serve', '--help'], ['user', '--help'], ['user', 'add', '--help'], ['help', 'user']]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /^Usage: pepkeys/);
    }
  });
});
