// Issue 6's story through the `pepkeys key` CLI against a real Prosody 0.12. Its PEP has no `roster` access
// model, so Juliet publishes with `presence` (Romeo is a contact, the Nurse is not), and the CLI's one-sentence
// explanation of the `roster` refusal is checked on its own.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, skipProsody, type ProsodyServer } from '../helpers/prosody.ts';
import { befriend } from '../helpers/roster-setup.ts';
import { keyStory, type StoryEnv } from '../helpers/key-story.ts';
import { runCli } from './run-cli.ts';

const users = { juliet: 'juliet@capulet.lit', romeo: 'romeo@montague.lit', nurse: 'nurse@capulet.lit' };
const passwords = { juliet: 'juliet-pw', romeo: 'romeo-pw', nurse: 'nurse-pw' };

describe('pepkeys key: the Juliet/Romeo story against Prosody', { skip: skipProsody() && 'prosody not installed and PEPKEYS_SKIP_PROSODY=1' }, () => {
  let p: ProsodyServer;
  let dir: string;
  let env: StoryEnv;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-key-prosody-'));
    p = await startProsody({
      hosts: ['capulet.lit', 'montague.lit'],
      users: { [users.juliet]: passwords.juliet, [users.romeo]: passwords.romeo, [users.nurse]: passwords.nurse, 'benvolio@montague.lit': 'benvolio-pw' },
    });
    writeFileSync(join(dir, 'prosody-ca.pem'), p.cert);
    const conn = { host: '127.0.0.1', port: p.port, tls: { ca: p.cert } };
    // Romeo is Juliet's contact; the Nurse is not, so the presence model keeps her out.
    await befriend(conn, { jid: users.juliet, password: passwords.juliet }, { jid: users.romeo, password: passwords.romeo }, ['Friends'], []);
    env = {
      server: `127.0.0.1:${p.port}`,
      homes: { juliet: join(dir, 'juliet'), romeo: join(dir, 'romeo'), nurse: join(dir, 'nurse') },
      users, passwords,
      access: ['--access', 'presence'],
      // The certificate is pinned rather than accepted blindly.
      connect: ['--ca', join(dir, 'prosody-ca.pem')],
    };
  });
  after(async () => {
    await p?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("explains Prosody's refusal of the roster access model in one sentence", async () => {
    const home = join(dir, 'benvolio');
    const base = ['--jid', 'benvolio@montague.lit', '--home', home];
    const g = await runCli(['key', 'generate', '--type', 'ed25519', ...base], { timeoutMs: 60_000 });
    assert.equal(g.code, 0, g.stderr);
    const r = await runCli(['key', 'publish', '--access', 'roster', '--group', 'Friends', ...base, '--password', 'benvolio-pw', '--server', `127.0.0.1:${p.port}`, '--ca', join(dir, 'prosody-ca.pem')], { timeoutMs: 60_000 });
    assert.equal(r.code, 3, `${r.stdout}${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^pepkeys: the server refused the 'roster' access model \(not-acceptable\): its PEP service does not support it; use --access presence/);
  });

  keyStory(() => env);
});
