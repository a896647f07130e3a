// `pepkeys serve` as a real child process: it reports the address it bound (port 0), speaks XMPP over raw
// TCP, sees accounts added and changed by `pepkeys user` while it runs, and exits 0 on SIGTERM.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawClient, NS_HEADER } from '../helpers/raw-client.ts';
import { killServe, runCli, startCli, startServe, within, type ServeProcess } from './run-cli.ts';

const plain = (user: string, password: string) =>
  `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0${password}`).toString('base64')}</auth>`;

describe('pepkeys serve', () => {
  let dir: string;
  let srv: ServeProcess | undefined;
  const clients: RawClient[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-cli-serve-'));
    srv = await startServe(['--data', dir, '--listen', '127.0.0.1:0', '--insecure-plain-auth', '--host', 'example.com', '--log-level', 'warn']);
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await killServe(srv);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the bound address', () => {
    assert.equal(srv!.host, '127.0.0.1');
    assert.ok(srv!.port > 0);
    assert.match(srv!.stderr(), /^pepkeys serving example\.com on 127\.0\.0\.1:\d+$/m);
  });

  it('answers a stream header with stream features', async () => {
    const c = await RawClient.connect(srv!.port);
    clients.push(c);
    c.send(NS_HEADER('example.com'));
    await c.waitText(/<stream:features/, 10_000);
  });

  it('accepts a login for an account added while it runs', async () => {
    const c = await RawClient.connect(srv!.port);
    clients.push(c);
    c.send(NS_HEADER('example.com'));
    await c.waitStanza((e) => e.local === 'features', 10_000);
    c.send(plain('alice', 'wonderland'));
    assert.equal((await c.waitStanza((e) => e.local === 'success' || e.local === 'failure', 10_000)).local, 'failure');

    const add = await runCli(['user', 'add', 'alice@example.com', '--password', 'wonderland', '--data', dir, '--host', 'example.com']);
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stderr, '');

    c.send(plain('alice', 'wonderland'));
    assert.equal((await c.waitStanza((e) => e.local === 'success' || e.local === 'failure', 10_000)).local, 'success');
  });

  it('uses a password changed while it runs', async () => {
    const r = await runCli(['user', 'passwd', 'alice@example.com', '--data', dir], { input: 'looking-glass\n' });
    assert.equal(r.code, 0, r.stderr);
    const c = await RawClient.connect(srv!.port);
    clients.push(c);
    assert.equal(await c.login('alice@example.com', 'looking-glass', 'cli-test'), 'alice@example.com/cli-test');
  });

  it('stops on SIGTERM with exit code 0', async () => {
    srv!.child.kill('SIGTERM');
    const { code, signal } = await within(srv!.exited, 15_000, 'the server to exit after SIGTERM');
    assert.equal(signal, null);
    assert.equal(code, 0, srv!.stderr());
  });
});

describe('pepkeys serve in-process', () => {
  it('reports its address and returns exit code 0 when the run is stopped (SIGTERM)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pepkeys-cli-serve-inproc-'));
    try {
      let serving!: () => void;
      const up = new Promise<void>((r) => (serving = r));
      const r = startCli(['serve', '--data', dir, '--listen', '127.0.0.1:0', '--host', 'example.com', '--log-level', 'silent'], {
        onStderr: (all) => { if (/^pepkeys serving example\.com on 127\.0\.0\.1:\d+$/m.test(all)) serving(); },
      });
      await within(Promise.race([up, r.exited.then((x) => { throw new Error(`serve ended early: ${x.stderr}`); })]), 30_000, 'serve to start');
      const port = Number(/:(\d+)$/m.exec(r.stderr())![1]);
      const c = await RawClient.connect(port);
      c.send(NS_HEADER('example.com'));
      await c.waitText(/<stream:features/, 10_000);
      c.destroy();
      r.stop();
      const { code, stderr } = await within(r.exited, 15_000, 'serve to stop');
      assert.equal(code, 0, stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
