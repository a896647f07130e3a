// Revocations through `key fetch --verify-log` (issue 14): a revocation is checked against the transparency
// log like a key before it touches the trust store. One the server serves without a leaf (the server patched
// in the test: its pubsub engine stops logging key events while Juliet revokes) is refused with its
// KtVerifyError code and exit 5, and Juliet's key stays trusted in Romeo's store; once the revocation is
// logged, the same fetch applies it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { PepService } from '../../src/server/modules/pep/index.ts';
import { transparencyModule } from '../../src/server/modules/transparency/index.ts';
import { keyLogFor } from '../../src/server/modules/transparency/key-log.ts';
import { runCli } from './run-cli.ts';

describe('key fetch --verify-log with revocations', () => {
  let dir: string;
  let t: TestServer;
  const conn = (who: string) => ['--jid', `${who}@localhost`, '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, who)];
  const cli = (args: string[], who: string) => runCli([...args, ...conn(who)], { timeoutMs: 60_000 });
  const romeoSees = async () => {
    const l = await runCli(['key', 'list', 'juliet@localhost', '--json', '--home', join(dir, 'romeo')]);
    assert.equal(l.code, 0, l.stderr);
    return JSON.parse(l.stdout) as { fingerprint: string; state: string; revoked_at?: string }[];
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-revoke-log-'));
    t = await startTestServer({
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' },
      modules: [...defaultModules(), transparencyModule({ dataDir: join(dir, 'data'), epochMs: 3_600_000 })],
    });
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a revocation the log does not back (the key stays trusted) and applies a logged one', async () => {
    const g = await runCli(['key', 'generate', '--type', 'ed25519', '--no-passphrase', '--json', '--jid', 'juliet@localhost', '--home', join(dir, 'juliet')]);
    assert.equal(g.code, 0, g.stderr);
    const p = await cli(['key', 'publish', '--access', 'open'], 'juliet');
    assert.equal(p.code, 0, p.stderr);
    const f = await cli(['key', 'fetch', 'juliet@localhost', '--verify-log', '--json'], 'romeo');
    assert.equal(f.code, 0, f.stderr);
    const [seen] = JSON.parse(f.stdout).keys;
    const print = seen.key.fingerprint as string;
    assert.equal((await runCli(['key', 'trust', 'juliet@localhost', print, '--home', join(dir, 'romeo')])).code, 0);
    assert.equal((await romeoSees())[0]!.state, 'verified');

    // The server serves Juliet's revocation without logging it.
    const engine = t.server.service(PepService)!;
    engine.logKeyEvents(undefined);
    try {
      const r = await cli(['key', 'revoke', print, '--access', 'open'], 'juliet');
      assert.equal(r.code, 0, r.stderr);
    } finally {
      engine.logKeyEvents(keyLogFor((d) => d === 'localhost'));
    }
    const refused = await cli(['key', 'fetch', 'juliet@localhost', '--verify-log', '--json'], 'romeo');
    assert.equal(refused.code, 5, refused.stdout + refused.stderr);
    const out = JSON.parse(refused.stdout);
    assert.deepEqual(out.revocations, []);
    assert.equal(out.refused.length, 1);
    assert.equal(out.refused[0].kind, 'revocation');
    assert.equal(out.refused[0].code, 'not-logged');
    assert.match(refused.stderr, /REVOCATION REFUSED {2}juliet@localhost item [0-9a-f]+ \(via pep\): transparency log check failed \[not-logged\]: juliet@localhost's item [0-9a-f]+ on urn:xmpp:revoke:[12] is not in the log of localhost.*the revocation was not accepted/);
    const still = (await romeoSees())[0]!;
    assert.equal(still.state, 'verified');
    assert.equal(still.revoked_at, undefined);

    // Juliet revokes again with the log honest: the new revocation item is logged and applied.
    const again = await cli(['key', 'revoke', print, '--access', 'open'], 'juliet');
    assert.equal(again.code, 0, again.stderr);
    const applied = await cli(['key', 'fetch', 'juliet@localhost', '--verify-log', '--json'], 'romeo');
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const ok = JSON.parse(applied.stdout);
    assert.equal(ok.refused, undefined);
    assert.equal(ok.revocations.length, 1);
    assert.equal(ok.revocations[0].applied, true);
    const revoked = (await romeoSees())[0]!;
    assert.equal(revoked.state, 'revoked');
    assert.ok(revoked.revoked_at);
  });
});
