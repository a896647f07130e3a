// Issue 12: the Juliet/Romeo key story across three pepkeys servers, each a separate `pepkeys serve` process
// with its own data directory and configuration file, federating on loopback with static routes: Juliet on
// capulet.lit publishes with roster access for Friends, Romeo on montague.lit fetches and watches (the
// rotation and the revocation reach him through federation, filtered by his client's caps), the Nurse on
// verona.lit is refused. Then montague.lit is stopped and started again: a message sent meanwhile bounces
// with remote-server-not-found (nothing is silently lost), and one sent after the restart is delivered.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { befriendAcross } from '../helpers/roster-setup.ts';
import { keyStory, type StoryEnv } from '../helpers/key-story.ts';
import { XmppClient } from '../../src/client/index.ts';
import { x } from '../../src/xml/index.ts';
import { killServe, runCli, startServe, type ServeProcess } from './run-cli.ts';
import type { Element } from '../../src/xml/index.ts';

const users = { juliet: 'juliet@capulet.lit', romeo: 'romeo@montague.lit', nurse: 'nurse@verona.lit' };
const passwords = { juliet: 'juliet-pw', romeo: 'romeo-pw', nurse: 'nurse-pw' };
const domains = ['capulet.lit', 'montague.lit', 'verona.lit'] as const;
type Domain = (typeof domains)[number];

async function until(test: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('the key story across three pepkeys processes (federation)', () => {
  let dir: string;
  let env: StoryEnv;
  const s2sPorts = {} as Record<Domain, number>;
  const serves = {} as Record<Domain, ServeProcess | undefined>;
  const configs = {} as Record<Domain, string>;
  const clients: XmppClient[] = [];

  const serve = async (d: Domain) => (serves[d] = await startServe(['--config', configs[d]], 60_000));
  const c2s = (d: Domain) => `127.0.0.1:${serves[d]!.port}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-federated-story-'));
    for (const d of domains) s2sPorts[d] = await freePort();
    for (const d of domains) {
      const routes = domains.filter((o) => o !== d).map((o) => `"${o}" = "127.0.0.1:${s2sPorts[o]}"`).join('\n');
      configs[d] = join(dir, `${d}.toml`);
      writeFileSync(configs[d], [
        `hosts = ["${d}"]`,
        `data_dir = "${join(dir, d)}"`,
        'log_level = "warn"',
        '[c2s]',
        'listen = ["127.0.0.1:0"]',
        'tls_listen = []',
        '[s2s]',
        `listen = ["127.0.0.1:${s2sPorts[d]}"]`,
        '[s2s.routes]',
        routes,
        '',
      ].join('\n'));
    }
    for (const [who, jid] of Object.entries(users)) {
      const d = jid.split('@')[1] as Domain;
      const r = await runCli(['user', 'add', jid, '--password', passwords[who as keyof typeof passwords], '--create', '--config', configs[d]], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
    }
    for (const d of domains) await serve(d);
    const conn = (d: Domain) => ({ host: '127.0.0.1', port: serves[d]!.port, tls: { rejectUnauthorized: false } });
    await befriendAcross(conn('capulet.lit'), conn('montague.lit'), { jid: users.juliet, password: passwords.juliet }, { jid: users.romeo, password: passwords.romeo }, ['Friends'], [], 30_000);
    await befriendAcross(conn('capulet.lit'), conn('verona.lit'), { jid: users.juliet, password: passwords.juliet }, { jid: users.nurse, password: passwords.nurse }, ['Servants'], [], 30_000);
    env = {
      server: c2s('capulet.lit'),
      servers: { juliet: c2s('capulet.lit'), romeo: c2s('montague.lit'), nurse: c2s('verona.lit') },
      homes: { juliet: join(dir, 'home-juliet'), romeo: join(dir, 'home-romeo'), nurse: join(dir, 'home-nurse') },
      users, passwords,
      access: ['--access', 'roster', '--group', 'Friends'],
      connect: ['--insecure'],
    };
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    for (const d of domains) await killServe(serves[d]);
    rmSync(dir, { recursive: true, force: true });
  });

  keyStory(() => env);

  it('restarting montague.lit: a message sent while it is down bounces (not lost), one sent after it is back arrives', async () => {
    const conn = (d: Domain) => ({ host: '127.0.0.1', port: serves[d]!.port, tls: { rejectUnauthorized: false } });
    const juliet = await XmppClient.connect({ ...conn('capulet.lit'), jid: users.juliet, password: passwords.juliet, resource: 'balcony' });
    clients.push(juliet);
    const got: Element[] = [];
    juliet.on('message', (m) => got.push(m));
    const mon = serves['montague.lit']!;
    mon.child.kill('SIGTERM');
    const { code } = await mon.exited;
    assert.equal(code, 0, 'montague.lit stopped cleanly');
    juliet.send(x('message', { to: users.romeo, type: 'chat', id: 'while-down' }, x('body', null, 'are you there?')));
    await until(() => got.some((m) => m.attrs.id === 'while-down'), 60_000, 'the bounce');
    const bounce = got.find((m) => m.attrs.id === 'while-down')!;
    assert.equal(bounce.attrs.type, 'error');
    assert.equal(bounce.getChild('error')?.elements.find((e) => e.local !== 'text')?.local, 'remote-server-not-found');
    await serve('montague.lit');
    const romeo = await XmppClient.connect({ ...conn('montague.lit'), jid: users.romeo, password: passwords.romeo, resource: 'orchard' });
    clients.push(romeo);
    const romeoGot: Element[] = [];
    romeo.on('message', (m) => romeoGot.push(m));
    romeo.sendPresence();
    juliet.send(x('message', { to: users.romeo, type: 'chat', id: 'after' }, x('body', null, 'welcome back')));
    await until(() => romeoGot.some((m) => m.attrs.id === 'after') || got.some((m) => m.attrs.id === 'after'), 60_000, 'the message after the restart');
    assert.ok(!got.some((m) => m.attrs.id === 'after'), 'not bounced');
    assert.equal(romeoGot.find((m) => m.attrs.id === 'after')!.attrs.from, `${users.juliet}/balcony`);
  });
});
