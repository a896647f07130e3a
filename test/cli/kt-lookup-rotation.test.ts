// `kt lookup` across a log key rotation (issue 14 Stage 2): a home that verified map epoch 1 under the old log
// key looks up again after `kt rotate-key` and a new key event. The new map head is signed by the new key: the
// client follows the domain's signed rotation statement (through its tree head), and proves the new epoch
// append-only from epoch 1, whose head the old key signed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killServe, runCli, startServe, within, type ServeProcess } from './run-cli.ts';
import { KT_HEADS_FILE } from '../../src/cli/kt-paths.ts';

describe('kt lookup across a log key rotation', () => {
  let dir: string;
  let config: string;
  let serve: ServeProcess | undefined;
  const home = () => join(dir, 'home-juliet');
  const conn = () => ['--jid', 'juliet@capulet.lit', '--password', 'pw', '--server', `127.0.0.1:${serve!.port}`, '--insecure', '--home', home()];
  const publish = async () => {
    const p = await runCli(['key', 'publish', ...conn()], { timeoutMs: 60_000 });
    assert.equal(p.code, 0, p.stderr);
  };
  /** Looks juliet's key node up until the map shows `version` as the latest (the map follows the log by an epoch). */
  const lookupUntil = async (version: number) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await runCli(['kt', 'lookup', 'juliet@capulet.lit', 'urn:xmpp:pubkey:1', '--json', ...conn()], { timeoutMs: 60_000 });
      const out = r.code === 0 ? JSON.parse(r.stdout) : undefined;
      if (out?.latest === version) return out;
      if (r.code === 5 || Date.now() > deadline) assert.fail(`no lookup showing version ${version}: ${r.stdout}${r.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-lookup-rotation-'));
    config = join(dir, 'capulet.toml');
    writeFileSync(config, [`hosts = ["capulet.lit"]`, `data_dir = "${join(dir, 'data')}"`, 'log_level = "warn"', '[c2s]', 'listen = ["127.0.0.1:0"]', 'tls_listen = []', '[kt]', 'enabled = true', 'epoch_ms = 100', ''].join('\n'));
    assert.equal((await runCli(['user', 'add', 'juliet@capulet.lit', '--password', 'pw', '--create', '--config', config], { timeoutMs: 60_000 })).code, 0);
    serve = await startServe(['--config', config], 60_000);
    assert.equal((await runCli(['key', 'generate', '--type', 'ed25519', '--no-passphrase', '--jid', 'juliet@capulet.lit', '--home', home()])).code, 0);
    await publish();
  });
  after(async () => {
    await killServe(serve);
    rmSync(dir, { recursive: true, force: true });
  });

  it('follows the rotation and proves the new epoch append-only from the one the old key signed', async () => {
    const first = await lookupUntil(1);
    const record = () => JSON.parse(readFileSync(join(home(), KT_HEADS_FILE), 'utf8'))['capulet.lit'];
    const before = record();
    assert.equal(before.mapHead.epoch, first.epoch);
    serve!.child.kill('SIGTERM');
    assert.equal((await within(serve!.exited, 30_000, 'the server to stop')).code, 0);
    assert.equal((await runCli(['kt', 'rotate-key', 'capulet.lit', '--config', config])).code, 0);
    serve = await startServe(['--config', config], 60_000);
    await publish();

    const next = await lookupUntil(2);
    assert.ok(next.epoch > first.epoch);
    assert.equal(next.previousEpoch, first.epoch);
    assert.ok(next.inserted >= 1);
    const after = record();
    assert.notEqual(after.key, before.key, 'the tree head followed the rotation');
    assert.equal(after.mapHead.key, after.key, 'the new map head is signed by the new key');
    assert.notEqual(before.mapHead.key, after.mapHead.key);
  });
});
