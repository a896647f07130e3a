// Issue 18: `key list` needed --jid even when the home holds keys of one account only. It now takes that
// account, and asks which one only when the home holds several.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.ts';

describe('key list without --jid', () => {
  let home: string;
  const env = { PEPKEYS_JID: '' };
  before(() => {
    home = mkdtempSync(join(tmpdir(), 'pepkeys-list-'));
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  it("lists the home's one account's keys, and asks which account once there are two", async () => {
    const g = await runCli(['key', 'generate', '--type', 'ed25519', '--jid', 'alice@localhost', '--home', home, '--json'], { env });
    assert.equal(g.code, 0, g.stderr);
    const print = JSON.parse(g.stdout).fingerprint;
    const one = await runCli(['key', 'list', '--home', home, '--json'], { env });
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(JSON.parse(one.stdout).map((k: { fingerprint: string }) => k.fingerprint), [print]);

    assert.equal((await runCli(['key', 'generate', '--type', 'ed25519', '--jid', 'bob@localhost', '--home', home], { env })).code, 0);
    const two = await runCli(['key', 'list', '--home', home], { env });
    assert.equal(two.code, 1, two.stderr);
    assert.match(two.stderr, /which account\? this home holds keys for alice@localhost, bob@localhost; give --jid/);
  });
});
