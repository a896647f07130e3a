// `pepkeys check`: each problem an operator meets at `serve` (or that makes clients refuse the server) is
// found beforehand, one line each with what to do, and the exit code says whether anything is an error.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli, lines } from './run-cli.ts';
import { makeCert, writePair } from './cert-fixtures.ts';
import { scratchDirs, serveInProcess } from './backup-helpers.ts';

const fresh = scratchDirs('pepkeys-check-');
/** A configuration file in its own directory, with a data directory beside it. */
function configIn(dir: string, toml: string): string {
  const file = join(dir, 'pepkeys.toml');
  writeFileSync(file, `data_dir = "${join(dir, 'data')}"\n${toml}`);
  return file;
}
const problems = (stdout: string) => lines(stdout).filter((l) => /^(error|warning): /.test(l));

describe('pepkeys check: configuration', () => {
  it('passes a fresh installation (nothing created yet) with exit 0 and one summary line', async () => {
    const dir = fresh();
    const r = await runCli(['check', '--data', join(dir, 'data'), '--host', 'example.com', '--listen', '127.0.0.1:0']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(lines(r.stdout), ['pepkeys check: ok (checked config, certificate, data, ports, database)']);
  });

  it('reports a TOML syntax error with file:line:column, and exits 1', async () => {
    const dir = fresh();
    const file = configIn(dir, 'hosts = ["example.com"\n[c2s]\n');
    const r = await runCli(['check', '--config', file]);
    assert.equal(r.code, 1);
    const [first, summary] = lines(r.stdout);
    assert.match(first!, new RegExp(`^error: ${file.replace(/[.]/g, '\\.')}:\\d+:\\d+: invalid TOML: `));
    assert.equal(summary, 'pepkeys check: 1 error (checked config)');
  });

  it('reports each unknown key on its own line with "did you mean"', async () => {
    const dir = fresh();
    const file = configIn(dir, '[c2s]\nlisen = ["127.0.0.1:5222"]\n[storage]\ndrivr = "sqlite"\n');
    const r = await runCli(['check', '--config', file]);
    assert.equal(r.code, 1);
    const p = problems(r.stdout);
    assert.equal(p.length, 2, r.stdout);
    assert.match(p[0]!, /^error: .*c2s: .*"lisen".*\(did you mean "listen"\?\)$/);
    assert.match(p[1]!, /^error: .*storage: .*"drivr".*\(did you mean "driver"\?\)$/);
  });
});

describe('pepkeys check: certificate', () => {
  const withCert = async (spec: Parameters<typeof makeCert>[0], hosts: string[], keyFrom?: Parameters<typeof makeCert>[0]) => {
    const dir = fresh();
    const c = await makeCert(spec);
    const k = keyFrom ? await makeCert(keyFrom) : c;
    const files = writePair(dir, c.cert, k.key);
    const file = configIn(dir, `hosts = ${JSON.stringify(hosts)}\n[c2s]\nlisten = ["127.0.0.1:0"]\n[tls]\ncert = "${files.cert}"\nkey = "${files.key}"\n`);
    return runCli(['check', '--config', file]);
  };

  it('accepts a wildcard certificate for one-label subdomains, and refuses it for the bare domain (RFC 6125 §6.4.3)', async () => {
    const good = await withCert({ cn: 'wild', names: ['*.example.com'] }, ['chat.example.com']);
    assert.equal(good.code, 0, good.stdout);
    const bad = await withCert({ cn: 'wild', names: ['*.example.com'] }, ['example.com', 'a.b.example.com']);
    assert.equal(bad.code, 1);
    const p = problems(bad.stdout);
    assert.equal(p.length, 2, bad.stdout);
    assert.match(p[0]!, /^error: tls\.cert ".*" does not cover example\.com \(it names \*\.example\.com\), so clients refuse it for example\.com: replace the files/);
    assert.match(p[1]!, /does not cover a\.b\.example\.com/);
  });

  it('reads the subject CN only when the certificate has no DNS names', async () => {
    const cnOnly = await withCert({ cn: 'example.com' }, ['example.com']);
    assert.equal(cnOnly.code, 0, cnOnly.stdout);
    const sanWins = await withCert({ cn: 'example.com', names: ['other.example'] }, ['example.com']);
    assert.equal(sanWins.code, 1, sanWins.stdout);
  });

  it('reports an expired certificate as an error and one expiring within 14 days as a warning (exit 0; 1 with --strict)', async () => {
    const expired = await withCert({ cn: 'x', names: ['example.com'], fromDays: -30, toDays: -1 }, ['example.com']);
    assert.equal(expired.code, 1);
    assert.match(problems(expired.stdout)[0]!, /^error: .* expired on \d{4}-\d\d-\d\d: /);

    const soon = await withCert({ cn: 'x', names: ['example.com'], toDays: 5 }, ['example.com']);
    assert.equal(soon.code, 0, soon.stdout);
    assert.match(problems(soon.stdout)[0]!, /^warning: .* expires on \d{4}-\d\d-\d\d \(in [45] days\): .* before clients refuse it$/);
    assert.match(lines(soon.stdout).at(-1)!, /^pepkeys check: 1 warning \(/);

    const dir = fresh();
    const c = await makeCert({ cn: 'x', names: ['example.com'], toDays: 5 });
    const files = writePair(dir, c.cert, c.key);
    const strict = await runCli(['check', '--strict', '--host', 'example.com', '--data', join(dir, 'data'), '--config', configIn(dir, `[c2s]\nlisten = ["127.0.0.1:0"]\n[tls]\ncert = "${files.cert}"\nkey = "${files.key}"\n`)]);
    assert.equal(strict.code, 1);
  });

  it('reports a key that does not belong to the certificate', async () => {
    const r = await withCert({ cn: 'x', names: ['example.com'] }, ['example.com'], { cn: 'other', names: ['example.com'] });
    assert.equal(r.code, 1);
    assert.match(problems(r.stdout)[0]!, /^error: tls\.key ".*" is not the private key of tls\.cert ".*": give the key the certificate was issued for$/);
  });

  it('names tls.cert when its file is missing', async () => {
    const dir = fresh();
    const file = configIn(dir, `[c2s]\nlisten = ["127.0.0.1:0"]\n[tls]\ncert = "${join(dir, 'nope.crt')}"\nkey = "${join(dir, 'nope.key')}"\n`);
    const r = await runCli(['check', '--config', file]);
    assert.equal(r.code, 1);
    assert.deepEqual(problems(r.stdout).length, 1, r.stdout);
    assert.match(problems(r.stdout)[0]!, /^error: tls\.cert ".*nope\.crt": no such file$/);
  });

  it('warns about a chain listed out of order', async () => {
    const dir = fresh();
    const ca = await makeCert({ cn: 'Root', ca: true });
    const inter = await makeCert({ cn: 'Intermediate', ca: true, issuer: ca });
    const leaf = await makeCert({ cn: 'example.com', names: ['example.com'], issuer: inter });
    const inOrder = writePair(dir, leaf.cert + inter.cert, leaf.key, 'good');
    const swapped = writePair(dir, leaf.cert + ca.cert, leaf.key, 'bad');
    const run = (f: { cert: string; key: string }) =>
      runCli(['check', '--config', configIn(dir, `hosts = ["example.com"]\n[c2s]\nlisten = ["127.0.0.1:0"]\n[tls]\ncert = "${f.cert}"\nkey = "${f.key}"\n`)]);
    assert.deepEqual(problems((await run(inOrder)).stdout), []);
    const r = await run(swapped);
    assert.equal(r.code, 0);
    assert.match(problems(r.stdout)[0]!, /^warning: .*certificate 2 did not issue certificate 1; list the server's certificate first/);
  });
});

describe('pepkeys check: ports', () => {
  let busy: Server;
  let busyPort: number;
  before(async () => {
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    busyPort = (busy.address() as { port: number }).port;
  });
  after(() => busy.close());

  it('names the setting of a port in use and how to find who holds it', async () => {
    const dir = fresh();
    const file = configIn(dir, `[c2s]\nlisten = ["127.0.0.1:0"]\ntls_listen = ["127.0.0.1:${busyPort}"]\n`);
    const r = await runCli(['check', '--config', file]);
    assert.equal(r.code, 1);
    assert.deepEqual(problems(r.stdout), [
      `error: c2s.tls_listen[0] 127.0.0.1:${busyPort}: the port is in use by another program: stop it (\`ss -ltnp 'sport = :${busyPort}'\` names it), or listen elsewhere (c2s.tls_listen[0])`,
    ]);
  });

  it('reports two listeners on one address, and an address that is not this machine', async () => {
    const dir = fresh();
    const file = configIn(dir, `[c2s]\nlisten = ["127.0.0.1:${busyPort + 1}"]\ntls_listen = ["127.0.0.1:${busyPort + 1}", "192.0.2.1:5223"]\n`);
    const r = await runCli(['check', '--config', file]);
    assert.equal(r.code, 1);
    const p = problems(r.stdout);
    assert.ok(p.some((l) => l === `error: c2s.tls_listen[0] 127.0.0.1:${busyPort + 1} is also c2s.listen[0]: give each listener its own port`), r.stdout);
    assert.ok(p.some((l) => l.startsWith('error: c2s.tls_listen[1] 192.0.2.1:5223: no such address on this machine')), r.stdout);
  });
});

describe('pepkeys check: data directory and database', () => {
  it('warns about a data directory and database readable by others, with the chmod to run', async () => {
    const dir = fresh();
    const data = join(dir, 'data');
    const add = await runCli(['user', 'add', 'a@localhost', '--password', 'pw', '--create', '--data', data]);
    assert.equal(add.code, 0, add.stderr);
    // As made: directory 0700, database 0600 (the issue saw 0755 and 0644).
    const asMade = await runCli(['check', '--data', data, '--listen', '127.0.0.1:0']);
    assert.deepEqual(problems(asMade.stdout), []);
    chmodSync(data, 0o755);
    chmodSync(join(data, 'pepkeys.sqlite'), 0o644);
    const r = await runCli(['check', '--data', data, '--listen', '127.0.0.1:0']);
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(problems(r.stdout), [
      `warning: data directory ${data} is mode 0755 and holds account credentials: chmod 700 ${data}`,
      `warning: ${join(data, 'pepkeys.sqlite')} is mode 0644 and holds secrets: chmod 600 ${join(data, 'pepkeys.sqlite')}`,
    ]);
  });

  it('reports a damaged database, and one written by a newer pepkeys', async () => {
    const dir = fresh();
    const data = join(dir, 'data');
    assert.equal((await runCli(['user', 'add', 'a@localhost', '--password', 'pw', '--create', '--data', data])).code, 0);
    const db = new Database(join(data, 'pepkeys.sqlite'));
    db.pragma('user_version = 999');
    db.close();
    const newer = await runCli(['check', '--data', data, '--listen', '127.0.0.1:0']);
    assert.equal(newer.code, 1);
    assert.match(problems(newer.stdout)[0]!, /^error: database schema version 999 is newer than this build supports \(\d+\); upgrade pepkeys$/);

    writeFileSync(join(data, 'pepkeys.sqlite'), Buffer.alloc(8192, 0x42));
    const damaged = await runCli(['check', '--data', data, '--listen', '127.0.0.1:0']);
    assert.equal(damaged.code, 1);
    assert.match(problems(damaged.stdout)[0]!, /^error: database .*pepkeys\.sqlite is damaged \(.*\); restore it from a backup$/);
  });

  it('says a data directory is in use by a running server, naming its pid, and does not count its ports as taken', async () => {
    const dir = fresh();
    const data = join(dir, 'data');
    const srv = await serveInProcess(data);
    try {
      const r = await runCli(['check', '--data', data, '--listen', `127.0.0.1:${srv.port}`, '--json']);
      const out = JSON.parse(r.stdout) as { ok: boolean; errors: number; warnings: number; findings: { check: string; level: string; message: string }[] };
      assert.equal(r.code, 0, r.stdout);
      assert.equal(out.ok, true);
      assert.equal(out.warnings, 1);
      const warn = out.findings.find((f) => f.level === 'warning')!;
      assert.equal(warn.check, 'data');
      assert.match(warn.message, new RegExp(`in use by a running pepkeys server \\(pid ${process.pid}\\); a second server on it is refused`));
      // The c2s port's finding (http.listen's default 127.0.0.1:5280 is checked too, and is free here).
      const c2sPort = out.findings.find((f) => f.check === 'ports' && f.message.includes(`:${srv.port} `))!;
      assert.match(c2sPort.message, new RegExp(`in use, presumably by the running server \\(pid ${process.pid}\\)`));
      assert.match(out.findings.find((f) => f.check === 'database')!.message, /passes quick_check, schema version \d+$/);
    } finally {
      await srv.stop();
    }
  });

  it('reports PostgreSQL unreachable without printing the password from storage.url', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const dir = fresh();
    const file = configIn(dir, `[c2s]\nlisten = ["127.0.0.1:0"]\n[storage]\ndriver = "postgres"\nurl = "postgres://pepkeys:s3cret@127.0.0.1:${port}/pepkeys"\n`);
    const r = await runCli(['check', '--config', file]);
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stdout, /s3cret/);
    assert.match(problems(r.stdout)[0]!, new RegExp(`^error: PostgreSQL postgres://pepkeys:\\*\\*\\*@127\\.0\\.0\\.1:${port}/pepkeys is not usable: .*ECONNREFUSED.*: is it running, and are storage\\.url's host, port, user, password and database right\\?$`));
  });
});
