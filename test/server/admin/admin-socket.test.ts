// The local admin socket (issue 18): a Unix socket in the data directory, 0600, JSON lines, answered by a
// running server and gone once it stops; `pepkeys status` reads it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { RawClient } from '../../helpers/raw-client.ts';
import { listenAdminSocket, AdminSocketInUseError } from '../../../src/server/admin/socket.ts';
import { lines, runCli } from '../../cli/run-cli.ts';
import { startRunningServer, type RunningServer } from './running-server.ts';

/** Sends raw lines to the socket and collects `n` answer lines. */
function exchange(path: string, text: string, n: number): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let buf = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(text));
    s.on('data', (d: string) => {
      buf += d;
      const got = buf.split('\n').filter(Boolean);
      if (got.length >= n) {
        s.destroy();
        resolve(got.map((l) => JSON.parse(l)));
      }
    });
    s.on('error', reject);
  });
}

describe('the admin socket', () => {
  let t: RunningServer;
  const clients: RawClient[] = [];
  before(async () => {
    t = await startRunningServer(['capulet.lit', 'montague.lit']);
    await t.addUser('juliet@capulet.lit', 'jpw');
    await t.addUser('romeo@montague.lit', 'rpw');
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t.stop();
  });

  it('is a socket in the data directory that only the server account may use (0600)', () => {
    const st = statSync(join(t.data, 'admin.sock'));
    assert.equal(st.isSocket(), true);
    assert.equal(st.mode & 0o777, 0o600);
  });

  it('answers `pepkeys status` with sessions per host, uptime, storage size and queues', async () => {
    for (const [jid, pw, res] of [['juliet@capulet.lit', 'jpw', 'a'], ['juliet@capulet.lit', 'jpw', 'b'], ['romeo@montague.lit', 'rpw', 'c']] as const) {
      const c = await RawClient.connect(t.port);
      clients.push(c);
      await c.login(jid, pw, res);
    }
    clients[0]!.send('<presence/>');
    // RFC 6121 §4.2.2: the broadcast reaches the sender's own resources too, once the presence is processed.
    await clients[0]!.waitStanza((e) => e.name === 'presence');
    const r = await t.cli(['status', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(s.hosts, { 'capulet.lit': { sessions: 2, available: 1, accounts: 1 }, 'montague.lit': { sessions: 1, available: 0, accounts: 1 } });
    assert.equal(s.pid, process.pid);
    assert.equal(s.connections, 3);
    assert.equal(s.storage.driver, 'sqlite');
    assert.ok(s.storage.bytes > 0);
    assert.equal(s.offlineMessages, 0);
    assert.match(s.version, /^\d+\.\d+\.\d+/);
    const table = await t.cli(['status']);
    assert.match(table.stdout, /^pepkeys \S+, pid \d+, up \d+s\n/);
    assert.match(table.stdout, /\ncapulet\.lit\s+2\s+1\s+1\n/);
  });

  it('answers malformed, unknown and other-version requests with an error and the request id, and keeps the connection', async () => {
    const path = join(t.data, 'admin.sock');
    const answers = await exchange(path, [
      'not json',
      JSON.stringify({ v: 1, id: 7, command: 'no.such' }),
      JSON.stringify({ v: 2, id: 8, command: 'status' }),
      JSON.stringify({ v: 1, id: 9, command: 'roster.list', args: { owner: 'not a jid@@' } }),
      JSON.stringify({ v: 1, id: 10, command: 'status', args: {} }),
    ].join('\n') + '\n', 5);
    assert.deepEqual(answers.map((a) => [a.id, a.ok, a.error?.code]), [[null, false, 'bad-request'], [7, false, 'unknown-command'], [8, false, 'version'], [9, false, 'bad-args'], [10, true, undefined]]);
    assert.match(answers[1].error.message, /no admin command no\.such \(it has: .*roster\.add.*status/);
  });

  it('refuses to take over a socket another live server answers on', async () => {
    await assert.rejects(listenAdminSocket(join(t.data, 'admin.sock'), t.server.admin, t.server.logger), AdminSocketInUseError);
  });

  it('takes over a socket file that no server answers on (left by a server that died)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pepkeys-admin-stale-'));
    try {
      const path = join(dir, 'admin.sock');
      writeFileSync(path, '');
      const s = await listenAdminSocket(path, t.server.admin, t.server.logger);
      assert.equal(statSync(path).isSocket(), true);
      await s.close();
      assert.equal(existsSync(path), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is removed when the server stops, and the CLI then says that no server runs', async () => {
    await t.server.stop();
    const path = join(t.data, 'admin.sock');
    assert.equal(existsSync(path), false);
    const r = await runCli(['status', '--data', t.data]);
    assert.equal(r.code, 1);
    assert.deepEqual(lines(r.stderr), [`pepkeys: no server is running on ${t.data} (no admin socket at ${path}): start it with \`npm start\` (or \`pepkeys serve\`), with the same --data or --config`]);
  });
});
