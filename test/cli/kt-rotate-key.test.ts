// Log key rotation (issue 14, docs/transparency.md "Log key and rotation"): `pepkeys kt rotate-key` (server
// stopped) replaces capulet.lit's log key with one the old key signed over; a client that pinned the old key
// follows the statement to the new one and its head stays consistent across the rotation. A key replaced
// without a statement (the key file simply removed) is refused as key-changed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killServe, runCli, startServe, within, type ServeProcess } from './run-cli.ts';

describe('kt rotate-key', () => {
  let dir: string;
  let config: string;
  let serve: ServeProcess | undefined;
  const home = () => join(dir, 'home-juliet');
  const conn = () => ['--jid', 'juliet@capulet.lit', '--password', 'pw', '--server', `127.0.0.1:${serve!.port}`, '--insecure', '--home', home()];
  const restart = async (between: () => Promise<void> | void) => {
    serve!.child.kill('SIGTERM');
    assert.equal((await within(serve!.exited, 30_000, 'the server to stop')).code, 0);
    await between();
    serve = await startServe(['--config', config], 60_000);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-rotate-'));
    config = join(dir, 'capulet.toml');
    writeFileSync(config, [`hosts = ["capulet.lit"]`, `data_dir = "${join(dir, 'data')}"`, 'log_level = "warn"', '[c2s]', 'listen = ["127.0.0.1:0"]', 'tls_listen = []', '[kt]', 'enabled = true', 'epoch_ms = 3600000', ''].join('\n'));
    const added = await runCli(['user', 'add', 'juliet@capulet.lit', '--password', 'pw', '--create', '--config', config], { timeoutMs: 60_000 });
    assert.equal(added.code, 0);
    serve = await startServe(['--config', config], 60_000);
    assert.equal((await runCli(['key', 'generate', '--type', 'ed25519', '--no-passphrase', '--jid', 'juliet@capulet.lit', '--home', home()])).code, 0);
    const p = await runCli(['key', 'publish', ...conn()], { timeoutMs: 60_000 });
    assert.equal(p.code, 0, p.stderr);
  });
  after(async () => {
    await killServe(serve);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a client that pinned the old key follows the signed rotation, and refuses a key swapped without one', async () => {
    const first = await runCli(['kt', 'head', 'capulet.lit', '--json', ...conn()], { timeoutMs: 60_000 });
    assert.equal(first.code, 0, first.stderr);
    const oldKey = JSON.parse(first.stdout).logKey;

    let rotated = '';
    await restart(async () => {
      const r = await runCli(['kt', 'rotate-key', 'capulet.lit', '--config', config]);
      assert.equal(r.code, 0, r.stderr);
      rotated = r.stdout;
      assert.equal(statSync(join(dir, 'data', 'kt', 'capulet.lit.ed25519.pem')).mode & 0o777, 0o600);
    });
    assert.match(rotated, new RegExp(`rotated the log key of capulet.lit: ${oldKey} -> [0-9a-f]{64}`));

    const next = await runCli(['kt', 'head', 'capulet.lit', '--json', ...conn()], { timeoutMs: 60_000 });
    assert.equal(next.code, 0, next.stdout + next.stderr);
    const out = JSON.parse(next.stdout);
    assert.notEqual(out.logKey, oldKey);
    assert.deepEqual(out.rotations.map((r: { from: string; to: string }) => [r.from, r.to]), [[oldKey, out.logKey]]);
    assert.equal(out.previousSize, 1, 'the log is the same one, proven consistent across the rotation');

    // The operator swaps the key without a statement: the client must not follow.
    await restart(() => unlinkSync(join(dir, 'data', 'kt', 'capulet.lit.ed25519.pem')));
    const swapped = await runCli(['kt', 'head', 'capulet.lit', ...conn()], { timeoutMs: 60_000 });
    assert.equal(swapped.code, 5, swapped.stdout + swapped.stderr);
    assert.match(swapped.stderr, /the head of capulet\.lit failed verification: .*not by [0-9a-f]{64} pinned on first use, and capulet\.lit shows no rotation to it signed by the pinned key/);
  });
});
