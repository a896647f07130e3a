// Issue 18 (keys as gpg users expect): a contact's key can be removed from the trust store, and a fingerprint
// pasted as the docs shorten it ("sha-256:6c1f2a3b…") is taken as the prefix it is.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.ts';
import { KeyHome } from '../../src/cli/key/home.ts';
import { observedFromPubkey } from '../../src/keys/index.ts';

describe('key forget', () => {
  let dir: string;
  let print = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-forget-'));
    const g = await runCli(['key', 'generate', '--type', 'ed25519', '--jid', 'alice@localhost', '--home', join(dir, 'alice'), '--json']);
    assert.equal(g.code, 0, g.stderr);
    print = JSON.parse(g.stdout).fingerprint;
    // Bob has seen Alice's key (as a fetch would have stored it).
    const pubkey = (await new KeyHome(join(dir, 'alice')).current('alice@localhost'))!.pubkey;
    const trust = await new KeyHome(join(dir, 'bob')).openTrust();
    await trust.observe('alice@localhost', observedFromPubkey(pubkey));
    await trust.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('removes the key named by a shortened fingerprint, and says so', async () => {
    const shortened = `${print.slice(0, 'sha-256:'.length + 12)}…`;
    const r = await runCli(['key', 'forget', 'alice@localhost', shortened, '--home', join(dir, 'bob')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^forgot alice@localhost's key sha-256:/);
    const l = await runCli(['key', 'list', 'alice@localhost', '--json', '--home', join(dir, 'bob')]);
    assert.deepEqual(JSON.parse(l.stdout), []);
    const again = await runCli(['key', 'forget', 'alice@localhost', print, '--home', join(dir, 'bob')]);
    assert.equal(again.code, 4, again.stderr);
  });
});
