// `pepkeys cert generate | import | show`: the served certificate managed without deleting data/tls, checked
// on import (key, names, validity), and picked up by a running server on SIGHUP.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { runCli, lines, startServe, within } from './run-cli.ts';
import { makeCert, writePair } from './cert-fixtures.ts';
import { scratchDirs } from './backup-helpers.ts';

const fresh = scratchDirs('pepkeys-cert-');
const show = async (data: string, ...hosts: string[]) => {
  const r = await runCli(['cert', 'show', '--json', '--data', data, ...hosts.flatMap((h) => ['--host', h])]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { names: string[]; issuer: string; sha256: string; covers: Record<string, boolean>; keyMatches: boolean; notAfter: string; subject: string };
};

describe('pepkeys cert generate and show', () => {
  it('says there is no certificate yet on a fresh data directory', async () => {
    const data = join(fresh(), 'data');
    const r = await runCli(['cert', 'show', '--data', data]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `pepkeys: no certificate yet in ${join(data, 'tls')}: the server generates one at its first start, or run \`pepkeys cert generate\`\n`);
  });

  it('generates for the served hosts, and regenerates for new hosts without deleting data/tls', async () => {
    const data = join(fresh(), 'data');
    const gen = await runCli(['cert', 'generate', '--data', data, '--host', 'example.com']);
    assert.equal(gen.code, 0, gen.stderr);
    assert.match(gen.stdout, new RegExp(`^generated a self-signed certificate for example\\.com in ${join(data, 'tls')} \\(SHA-256 [0-9A-F:]{95}\\)\\n$`));
    assert.equal(statSync(join(data, 'tls', 'key.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(join(data, 'tls')).mode & 0o777, 0o700);
    const first = await show(data, 'example.com');
    assert.deepEqual(first.names, ['example.com', '*.example.com']);
    assert.deepEqual(first.covers, { 'example.com': true });
    assert.equal(first.issuer, 'self-signed');
    assert.equal(first.keyMatches, true);

    const again = await runCli(['cert', 'generate', '--data', data, '--hosts', 'example.com,Example.ORG']);
    assert.equal(again.code, 0, again.stderr);
    const second = await show(data, 'example.com', 'example.org');
    assert.deepEqual(second.covers, { 'example.com': true, 'example.org': true });
    assert.notEqual(second.sha256, first.sha256);
    assert.equal(second.keyMatches, true);
    assert.ok(gen.stdout.includes(first.sha256));

    const human = await runCli(['cert', 'show', '--data', data, '--host', 'example.org', '--host', 'other.net']);
    assert.equal(human.code, 0);
    assert.deepEqual(lines(human.stdout).map((l) => l.split(/\s+/)[0]), ['certificate', 'key', 'subject', 'names', 'issuer', 'valid', 'sha-256', 'covers']);
    assert.match(human.stdout, /^covers {6}example\.org yes, other\.net NO$/m);
    assert.match(human.stdout, new RegExp(`^sha-256 {5}${second.sha256}$`, 'm'));

    const pem = await runCli(['cert', 'show', '--pem', '--data', data]);
    assert.equal(pem.stdout, readFileSync(join(data, 'tls', 'cert.pem'), 'utf8'));
  });

  it('warns when --hosts leaves out a served host', async () => {
    const data = join(fresh(), 'data');
    const r = await runCli(['cert', 'generate', '--data', data, '--host', 'example.com', '--host', 'example.org', '--hosts', 'example.com']);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, 'pepkeys: warning: the certificate does not cover example.org, which the configuration serves: add it to --hosts\n');
  });

  it('refuses to write when tls.cert and tls.key are configured (those files are the operator\'s)', async () => {
    const dir = fresh();
    const c = await makeCert({ cn: 'example.com', names: ['example.com'] });
    const files = writePair(dir, c.cert, c.key);
    const file = join(dir, 'pepkeys.toml');
    writeFileSync(file, `data_dir = "${join(dir, 'data')}"\n[tls]\ncert = "${files.cert}"\nkey = "${files.key}"\n`);
    const r = await runCli(['cert', 'generate', '--config', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^pepkeys: the configuration serves tls\.cert ".*server\.crt" and tls\.key ".*server\.key", which pepkeys does not overwrite: replace those files, or remove both settings to serve data_dir\/tls\n$/);
    const shown = await runCli(['cert', 'show', '--config', file, '--host', 'example.com']);
    assert.match(shown.stdout, /^certificate .*server\.crt \(tls\.cert\)$/m);
  });
});

describe('pepkeys cert import', () => {
  it('installs a CA-issued chain that matches its key and covers the hosts', async () => {
    const dir = fresh();
    const ca = await makeCert({ cn: 'Root', ca: true });
    const inter = await makeCert({ cn: 'Intermediate', ca: true, issuer: ca });
    const leaf = await makeCert({ cn: 'example.com', names: ['example.com', '*.example.com'], issuer: inter });
    const files = writePair(dir, leaf.cert + inter.cert, leaf.key);
    const data = join(dir, 'data');
    const r = await runCli(['cert', 'import', files.cert, files.key, '--data', data, '--host', 'example.com']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^imported the certificate for example\.com, \*\.example\.com \(valid until \d{4}-\d\d-\d\d, SHA-256 [0-9A-F:]+\) into /);
    const s = await show(data, 'example.com');
    assert.equal(s.issuer, 'CN=Intermediate');
    assert.equal(readFileSync(join(data, 'tls', 'cert.pem'), 'utf8'), leaf.cert + inter.cert);
    const check = await runCli(['check', '--data', data, '--host', 'example.com', '--listen', '127.0.0.1:0']);
    assert.equal(check.code, 0, check.stdout);
  });

  it('refuses a key that is not the certificate\'s, leaving the served pair as it was', async () => {
    const dir = fresh();
    const data = join(dir, 'data');
    assert.equal((await runCli(['cert', 'generate', '--data', data])).code, 0);
    const before = readFileSync(join(data, 'tls', 'cert.pem'), 'utf8');
    const c = await makeCert({ cn: 'localhost', names: ['localhost'] });
    const other = await makeCert({ cn: 'other', names: ['localhost'] });
    const files = writePair(dir, c.cert, other.key);
    const r = await runCli(['cert', 'import', files.cert, files.key, '--data', data]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `pepkeys: not imported: ${files.key} is not the private key of ${files.cert}: give the key the certificate was issued for\n`);
    assert.equal(readFileSync(join(data, 'tls', 'cert.pem'), 'utf8'), before);
  });

  it('refuses an expired certificate, and imports one for other names with a warning', async () => {
    const dir = fresh();
    const data = join(dir, 'data');
    const old = await makeCert({ cn: 'localhost', names: ['localhost'], fromDays: -100, toDays: -10 });
    const oldFiles = writePair(dir, old.cert, old.key, 'old');
    const r = await runCli(['cert', 'import', oldFiles.cert, oldFiles.key, '--data', data]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^pepkeys: not imported: .*old\.crt expired on \d{4}-\d\d-\d\d: import a certificate\n$/);

    const elsewhere = await makeCert({ cn: 'example.net', names: ['example.net'] });
    const f = writePair(dir, elsewhere.cert, elsewhere.key, 'net');
    const w = await runCli(['cert', 'import', f.cert, f.key, '--data', data, '--host', 'example.com']);
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stderr, /^pepkeys: warning: .*net\.crt does not cover example\.com \(it names example\.net\), so clients refuse it for example\.com: import a certificate naming example\.com\n$/);
  });

  it('says what is wrong with a file that is not PEM, or an encrypted key', async () => {
    const dir = fresh();
    writeFileSync(join(dir, 'junk.crt'), 'hello\n');
    const c = await makeCert({ cn: 'localhost', names: ['localhost'] });
    const files = writePair(dir, c.cert, c.key);
    const junk = await runCli(['cert', 'import', join(dir, 'junk.crt'), files.key, '--data', join(dir, 'data')]);
    assert.equal(junk.stderr, `pepkeys: ${join(dir, 'junk.crt')}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)\n`);
    const { createPrivateKey } = await import('node:crypto');
    const encrypted = createPrivateKey(c.key).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }) as string;
    writeFileSync(join(dir, 'enc.key'), encrypted);
    const enc = await runCli(['cert', 'import', files.cert, join(dir, 'enc.key'), '--data', join(dir, 'data')]);
    assert.equal(enc.code, 1);
    assert.match(enc.stderr, /^pepkeys: .*enc\.key: the private key is encrypted; the server needs it unencrypted/);
  });
});

describe('pepkeys cert generate beside a running server', () => {
  it('names the server\'s pid and the SIGHUP that makes it present the new certificate, which then it does', async () => {
    const data = join(fresh(), 'data');
    const srv = await startServe(['--data', data, '--listen', '127.0.0.1:0', '--tls-listen', '127.0.0.1:0', '--log-level', 'warn'], 90_000);
    try {
      const tlsPort = Number(/127\.0\.0\.1:(\d+) \(direct TLS\)/.exec(srv.stderr())![1]);
      const presented = () =>
        new Promise<string>((resolve, reject) => {
          const s = connect({ host: '127.0.0.1', port: tlsPort, rejectUnauthorized: false, servername: 'localhost' }, () => {
            resolve(s.getPeerCertificate().fingerprint256);
            s.destroy();
          });
          s.once('error', reject);
        });
      const before = await presented();
      assert.equal(before, (await show(data)).sha256);

      const r = await runCli(['cert', 'generate', '--data', data, '--hosts', 'localhost,example.com']);
      assert.equal(r.code, 0, r.stderr);
      const pid = srv.child.pid!;
      assert.equal(lines(r.stdout)[1], `the running server (pid ${pid}) presents it to new connections after \`kill -HUP ${pid}\``);
      const fresh2 = (await show(data)).sha256;
      assert.equal(await presented(), before, 'no reload before SIGHUP');

      srv.child.kill('SIGHUP');
      await within((async () => {
        while ((await presented()) !== fresh2) await new Promise((res) => setTimeout(res, 50));
      })(), 15_000, 'the server to present the new certificate');
    } finally {
      srv.child.kill('SIGTERM');
      await within(srv.exited, 15_000, 'the server to stop');
    }
  });
});
