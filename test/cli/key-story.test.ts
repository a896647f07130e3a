// Issue 6's end-to-end story through the `pepkeys key` CLI against our own server (roster access for Friends).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { befriend } from '../helpers/roster-setup.ts';
import { keyStory, type StoryEnv } from '../helpers/key-story.ts';
import { runCli } from './run-cli.ts';

const users = { juliet: 'juliet@capulet.lit', romeo: 'romeo@montague.lit', nurse: 'nurse@capulet.lit' };
const passwords = { juliet: 'juliet-pw', romeo: 'romeo-pw', nurse: 'nurse-pw' };

describe('pepkeys key: the Juliet/Romeo story against our server', () => {
  let t: TestServer;
  let dir: string;
  let env: StoryEnv;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-key-story-'));
    t = await startTestServer({ hosts: ['capulet.lit', 'montague.lit'], insecure: false, users: { [users.juliet]: passwords.juliet, [users.romeo]: passwords.romeo, [users.nurse]: passwords.nurse } });
    const conn = { host: '127.0.0.1', port: t.port, tls: { rejectUnauthorized: false } };
    await befriend(conn, { jid: users.juliet, password: passwords.juliet }, { jid: users.romeo, password: passwords.romeo }, ['Friends'], []);
    await befriend(conn, { jid: users.juliet, password: passwords.juliet }, { jid: users.nurse, password: passwords.nurse }, ['Servants'], []);
    env = {
      server: `127.0.0.1:${t.port}`,
      homes: { juliet: join(dir, 'juliet'), romeo: join(dir, 'romeo'), nurse: join(dir, 'nurse') },
      users, passwords,
      access: ['--access', 'roster', '--group', 'Friends'],
      connect: ['--insecure'],
    };
  });
  after(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  keyStory(() => env);

  it('explains a precondition conflict and fixes it with --reconfigure', async () => {
    const args = ['key', 'publish', '--access', 'open', '--jid', users.juliet, '--password', passwords.juliet, '--server', env.server, '--insecure', '--home', env.homes.juliet];
    const r = await runCli(args, { timeoutMs: 60_000 });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^pepkeys: the node urn:xmpp:pubkey:2 already exists with a different configuration than requested \(access model open\); publish again with --reconfigure/);
    const again = await runCli([...args, '--reconfigure'], { timeoutMs: 60_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /readable by anyone/);
  });

  it('refuses to connect to a self-signed server without --insecure or --ca, with exit code 2', async () => {
    const r = await runCli(['key', 'fetch', users.juliet, '--jid', users.romeo, '--password', passwords.romeo, '--server', env.server, '--home', env.homes.romeo], { timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^pepkeys: TLS handshake failed: .*pin the server certificate/);
  });

  it('reports a wrong password with exit code 2', async () => {
    const r = await runCli(['key', 'fetch', users.juliet, '--jid', users.romeo, '--password', 'wrong', '--server', env.server, '--insecure', '--home', env.homes.romeo], { timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /wrong user name or password/);
  });
});
