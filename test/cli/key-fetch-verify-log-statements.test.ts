// Revocations and attestations through `key fetch --verify-log` (issue 14): each is checked against the
// transparency log like a key before it touches the trust store. One the server serves without a leaf (the
// server patched in the test: its pubsub engine stops logging key events while it is published) is refused
// with its KtVerifyError code and exit 5 — a revoked key stays trusted in Romeo's store; once the statement
// is logged, the same fetch applies it.
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

describe('key fetch --verify-log with revocations and attestations', () => {
  let dir: string;
  let t: TestServer;
  const conn = (who: string) => ['--jid', `${who}@localhost`, '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, who)];
  const cli = (args: string[], who: string) => runCli([...args, ...conn(who)], { timeoutMs: 60_000 });
  const romeoSees = async () => {
    const l = await runCli(['key', 'list', 'juliet@localhost', '--json', '--home', join(dir, 'romeo')]);
    assert.equal(l.code, 0, l.stderr);
    return JSON.parse(l.stdout) as { fingerprint: string; state: string; revoked_at?: string }[];
  };

  /** Runs `fn` while the server writes key nodes without logging them. */
  const unlogged = async (fn: () => Promise<void>) => {
    const engine = t.server.service(PepService)!;
    engine.logKeyEvents(undefined);
    try {
      await fn();
    } finally {
      engine.logKeyEvents(keyLogFor((d) => d === 'localhost'));
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-revoke-log-'));
    t = await startTestServer({
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw', 'nurse@localhost': 'pw' },
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
    await unlogged(async () => {
      const r = await cli(['key', 'revoke', print, '--access', 'open'], 'juliet');
      assert.equal(r.code, 0, r.stderr);
    });
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

  it('refuses an attestation the log does not back, and reports a logged one', async () => {
    for (const who of ['romeo', 'nurse']) {
      assert.equal((await runCli(['key', 'generate', '--type', 'ed25519', '--no-passphrase', '--jid', `${who}@localhost`, '--home', join(dir, who)])).code, 0);
      const p = await cli(['key', 'publish', '--access', 'open'], who);
      assert.equal(p.code, 0, p.stderr);
    }
    const n = await cli(['key', 'fetch', 'nurse@localhost', '--json'], 'romeo');
    assert.equal(n.code, 0, n.stderr);
    const nursePrint = JSON.parse(n.stdout).keys[0].key.fingerprint as string;
    const attest = () => cli(['key', 'attest', 'nurse@localhost', nursePrint, '--access', 'open'], 'romeo');

    await unlogged(async () => assert.equal((await attest()).code, 0));
    const refused = await cli(['key', 'fetch', 'romeo@localhost', '--verify-log', '--json'], 'juliet');
    assert.equal(refused.code, 5, refused.stdout + refused.stderr);
    const out = JSON.parse(refused.stdout);
    assert.equal(out.keys.length, 1, "Romeo's key itself is logged");
    assert.deepEqual(out.attestations, []);
    assert.deepEqual(out.refused.map((r: { kind: string; code: string }) => [r.kind, r.code]), [['attestation', 'not-logged']]);
    assert.match(refused.stderr, /ATTESTATION REFUSED {2}romeo@localhost item nurse@localhost [0-9a-f]+ \(via pep\): transparency log check failed \[not-logged\]/);

    assert.equal((await attest()).code, 0);
    const ok = await cli(['key', 'fetch', 'romeo@localhost', '--verify-log', '--json'], 'juliet');
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const good = JSON.parse(ok.stdout);
    assert.equal(good.refused, undefined);
    assert.equal(good.attestations.length, 1);
    assert.equal(good.attestations[0].signer, 'romeo@localhost');
  });
});
