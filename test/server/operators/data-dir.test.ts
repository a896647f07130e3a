// Issue 18, "data dir": two servers on one data directory served different access rules side by side (an
// access-control bypass), and a new data directory and database were readable by every local user. A second
// server on the same data directory is refused in one sentence naming the first one's pid; the directory is
// made 0700 and the database files 0600.
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type XmppServer } from '../../../src/server/index.ts';
import { parseConfig } from '../../../src/server/config.ts';

const posix = process.platform !== 'win32';

describe('the data directory', () => {
  const dirs: string[] = [];
  const servers: XmppServer[] = [];
  const config = (dataDir: string) => parseConfig({
    hosts: ['localhost'], data_dir: dataDir, log_level: 'silent',
    c2s: { listen: ['127.0.0.1:0'], tls_listen: [], require_tls: false, insecure_plain_auth: true },
    http: { listen: [] },
  });
  const fresh = () => {
    const root = mkdtempSync(join(tmpdir(), 'pepkeys-datadir-'));
    dirs.push(root);
    return join(root, 'data');
  };
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('refuses a second server on the same data directory, naming the first one', async () => {
    const data = fresh();
    const first = await startServer(config(data));
    servers.push(first.server);
    await assert.rejects(startServer(config(data)), (err: Error) => {
      assert.match(err.message, new RegExp(`data directory ${data.replace(/[/.]/g, '\\$&')} is in use by another pepkeys server \\(pid ${process.pid}\\)`));
      return true;
    });
    // Once the first one stops, the directory is free again.
    await servers.pop()!.stop();
    servers.push((await startServer(config(data))).server);
  });

  it('takes over the lock of a server that died without releasing it', async () => {
    const data = fresh();
    servers.push((await startServer(config(data))).server);
    await servers.pop()!.stop();
    // A pid that is not running (the lock a kill -9 leaves behind).
    writeFileSync(join(data, 'pepkeys.pid'), '2147483646\n');
    const s = (await startServer(config(data))).server;
    servers.push(s);
    assert.equal(readFileSync(join(data, 'pepkeys.pid'), 'utf8').trim(), String(process.pid));
  });

  it('creates the directory 0700 and the database files 0600', { skip: !posix }, async () => {
    const data = fresh();
    servers.push((await startServer(config(data))).server);
    assert.equal(statSync(data).mode & 0o777, 0o700);
    for (const f of ['pepkeys.sqlite', 'pepkeys.sqlite-wal']) assert.equal(statSync(join(data, f)).mode & 0o777, 0o600, f);
  });
});
