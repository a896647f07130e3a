// Issue 18: key tables were about 150 columns wide. They now show 16 hex digits of a fingerprint and dates, fit
// in 100 columns for realistic data, show everything with --long, and a shortened fingerprint pasted from a
// table works as an argument.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.ts';
import { KeyHome } from '../../src/cli/key/home.ts';
import { table } from '../../src/cli/key/output.ts';
import { TRUST_COLUMNS, trustRow } from '../../src/cli/key/presenter.ts';
import { createPubkey, observedFromPubkey } from '../../src/keys/index.ts';

const ME = 'juliet@capulet.lit';
// A long but ordinary contact address, and the longest state word.
const CONTACT = 'benvolio.montague@verona.example.org';
const env = { PEPKEYS_KEY_PASSPHRASE: '', PEPKEYS_JID: '' };
const DAY = 86_400_000;
const width = (text: string) => Math.max(...text.split('\n').map((l) => [...l].length));

describe('key tables', () => {
  let dir: string;
  let home: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-width-'));
    home = join(dir, 'home');
    for (const args of [['--type', 'rsa', '--bits', '2048'], ['--type', 'rsa', '--bits', '2048', '--key-version', '1'], ['--type', 'ed25519']]) {
      const g = await runCli(['key', 'generate', ...args, '--jid', ME, '--home', home], { env });
      assert.equal(g.code, 0, g.stderr);
    }
    const own = new KeyHome(home);
    await own.markRevoked(ME, (await own.keys(ME))[0]!.id);
    // The contact's keys as fetches would have stored them: one current, one not yet valid, one expired.
    const trust = await own.openTrust();
    const now = Date.now();
    for (const [begin, end] of [[now - DAY, now + 365 * DAY], [now + 30 * DAY, now + 400 * DAY], [now - 400 * DAY, now - DAY]] as const) {
      const pk = createPubkey({ publicKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, jid: CONTACT, begin: new Date(begin), end: new Date(end), version: 2 });
      await trust.observe(CONTACT, observedFromPubkey(pk));
    }
    await trust.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('key list of your own keys fits in 100 columns; --long shows whole fingerprints and timestamps', async () => {
    const r = await runCli(['key', 'list', '--home', home], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 4);
    assert.ok(width(r.stdout) <= 100, `${width(r.stdout)} columns:\n${r.stdout}`);
    assert.match(r.stdout, /^[0-9a-f]{16}… +rsa-2048 +pubkey:2 +revoked +\d{4}-\d\d-\d\d +\d{4}-\d\d-\d\d$/m);
    const long = await runCli(['key', 'list', '--home', home, '--long'], { env });
    assert.match(long.stdout, /^sha-256:[0-9a-f]{64} +ed25519 +pubkey:1 +current +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /m);
    assert.ok(width(long.stdout) > width(r.stdout));
  });

  it("key list JID and fetch's table fit in 100 columns with a long JID", async () => {
    const r = await runCli(['key', 'list', CONTACT, '--home', home], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(width(r.stdout) <= 100, `${width(r.stdout)} columns:\n${r.stdout}`);
    assert.match(r.stdout, /not-yet-valid/);
    assert.match(r.stdout, /expired/);
    // fetch prints the same rows with two more columns (what was seen, and where from).
    const trust = await new KeyHome(home).openTrust();
    const views = await trust.keys(CONTACT);
    await trust.close();
    const fetchTable = table(views.map((v) => ({ ...trustRow(v), seen: 'changed', source: 'direct' })), [...TRUST_COLUMNS, 'seen', 'source']);
    assert.ok(width(fetchTable) <= 100, `${width(fetchTable)} columns:\n${fetchTable}`);
  });

  it('a fingerprint copied from a table is accepted as it is', async () => {
    const r = await runCli(['key', 'list', CONTACT, '--home', home], { env });
    const cell = r.stdout.split('\n')[1]!.split(/ +/)[0]!;
    assert.match(cell, /^[0-9a-f]{16}…$/);
    const t = await runCli(['key', 'trust', CONTACT, cell, '--home', home], { env });
    assert.equal(t.code, 0, t.stderr);
    const mine = (await runCli(['key', 'list', '--home', home], { env })).stdout.split('\n')[3]!.split(/ +/)[0]!;
    const e = await runCli(['key', 'export', mine, '--home', home, '--format', 'xml'], { env });
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /^<pubkey xmlns="urn:xmpp:pubkey:1">/);
  });
});
