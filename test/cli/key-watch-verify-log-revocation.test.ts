// `key watch --verify-log` and revocations (issue 14): a revocation notification is checked against the log
// before it is applied. One the server delivers without a leaf (the server patched in the test: its pubsub
// engine stops logging key events while Juliet revokes) is printed as REVOCATION REFUSED with its code, the
// watch exits 5, and Juliet's key is not revoked in Romeo's store; a logged one is applied as it comes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { befriend } from '../helpers/roster-setup.ts';
import { startWatch } from '../helpers/key-story.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { PepService } from '../../src/server/modules/pep/index.ts';
import { transparencyModule } from '../../src/server/modules/transparency/index.ts';
import { keyLogFor } from '../../src/server/modules/transparency/key-log.ts';
import { runCli, within } from './run-cli.ts';

describe('key watch --verify-log with revocations', () => {
  let dir: string;
  let t: TestServer;
  const conn = (who: string, resource = '') => ['--jid', `${who}@localhost${resource}`, '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, who)];
  const cli = (args: string[], who: string) => runCli([...args, ...conn(who)], { timeoutMs: 60_000 });
  const julietsKey = async () => {
    const l = await runCli(['key', 'list', 'juliet@localhost', '--json', '--home', join(dir, 'romeo')]);
    return (JSON.parse(l.stdout) as { state: string }[])[0]!;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-watch-revoke-'));
    t = await startTestServer({
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' },
      modules: [...defaultModules(), transparencyModule({ dataDir: join(dir, 'data'), epochMs: 3_600_000 })],
    });
    await befriend({ host: '127.0.0.1', port: t.port, tls: { rejectUnauthorized: false } }, { jid: 'juliet@localhost', password: 'pw' }, { jid: 'romeo@localhost', password: 'pw' }, [], []);
    assert.equal((await runCli(['key', 'generate', '--type', 'ed25519', '--no-passphrase', '--jid', 'juliet@localhost', '--home', join(dir, 'juliet')])).code, 0);
    const p = await cli(['key', 'publish'], 'juliet');
    assert.equal(p.code, 0, p.stderr);
    const f = await cli(['key', 'fetch', 'juliet@localhost', '--verify-log'], 'romeo');
    assert.equal(f.code, 0, f.stderr);
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an unlogged revocation notification and applies a logged one', async () => {
    const print = (JSON.parse((await runCli(['key', 'list', '--json', '--home', join(dir, 'juliet'), '--jid', 'juliet@localhost'])).stdout) as { fingerprint: string }[])[0]!.fingerprint;
    const revoke = () => cli(['key', 'revoke', print], 'juliet');

    const first = startWatch(['key', 'watch', '--verify-log', '--json', '--count', '1', ...conn('romeo', '/watch')]);
    try {
      await within(first.ready, 30_000, "romeo's watch to come online");
      const engine = t.server.service(PepService)!;
      engine.logKeyEvents(undefined);
      try {
        assert.equal((await revoke()).code, 0);
      } finally {
        engine.logKeyEvents(keyLogFor((d) => d === 'localhost'));
      }
      const { code, stdout, stderr } = await within(first.exited, 30_000, 'the watch to refuse the revocation');
      assert.equal(code, 5, stderr);
      const ev = JSON.parse(stdout.trim());
      assert.deepEqual([ev.event, ev.kind, ev.code, ev.source], ['refused', 'revocation', 'not-logged', 'notification']);
    } finally {
      await first.stop().catch(() => {});
    }
    assert.notEqual((await julietsKey()).state, 'revoked');

    const second = startWatch(['key', 'watch', '--verify-log', '--json', '--count', '1', ...conn('romeo', '/watch')]);
    try {
      await within(second.ready, 30_000, "romeo's second watch to come online");
      assert.equal((await revoke()).code, 0);
      const { code, stdout, stderr } = await within(second.exited, 30_000, 'the watch to apply the revocation');
      assert.equal(code, 0, stderr);
      const ev = JSON.parse(stdout.trim());
      assert.deepEqual([ev.event, ev.applied], ['revocation', true]);
    } finally {
      await second.stop().catch(() => {});
    }
    assert.equal((await julietsKey()).state, 'revoked');
  });
});
