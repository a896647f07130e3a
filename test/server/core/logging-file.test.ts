// Logging to a file as operators run it: `pepkeys serve --log-file F` in a child process; after the file is
// renamed (what logrotate does), SIGHUP makes new lines go to a new file at F. And `--log-format pretty`
// writes human-readable lines instead of JSON.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { RawClient, NS_HEADER } from '../../helpers/raw-client.ts';
import { killServe, startServe, within, type ServeProcess } from '../../cli/run-cli.ts';
import { createLogOutput } from '../../../src/server/core/logger.ts';

async function until(test: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');

describe('log file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pepkeys-logfile-'));
  let srv: ServeProcess | undefined;
  after(async () => {
    await killServe(srv);
    rmSync(dir, { recursive: true, force: true });
  });

  it('is reopened on SIGHUP after being renamed', async () => {
    const file = join(dir, 'logs', 'pepkeys.log');
    srv = await startServe(['--data', join(dir, 'data'), '--listen', '127.0.0.1:0', '--insecure-plain-auth', '--log-file', file]);
    await until(() => read(file).includes('pepkeys server listening'), 'the start in the log file');

    const connectFrom = async () => {
      const c = await RawClient.connect(srv!.port);
      c.send(NS_HEADER('localhost'));
      await c.waitStanza((e) => e.local === 'features');
      const port = (c as unknown as { socket: { localPort: number } }).socket.localPort;
      c.destroy();
      return `127.0.0.1:${port}`;
    };
    const first = await connectFrom();
    await until(() => read(file).includes(`"peer":"${first}"`), 'the first connection in the log file');

    renameSync(file, `${file}.1`);
    srv.child.kill('SIGHUP');
    await until(() => read(file).includes('log file reopened'), 'a new file after SIGHUP');
    const second = await connectFrom();
    await until(() => read(file).includes(`"peer":"${second}"`), 'the second connection in the new file');

    const rotated = read(`${file}.1`);
    assert.ok(rotated.includes(`"peer":"${first}"`));
    assert.ok(!rotated.includes(`"peer":"${second}"`), 'nothing new goes to the renamed file');
    for (const line of read(file).trim().split('\n')) JSON.parse(line);

    srv.child.kill('SIGTERM');
    assert.equal((await within(srv.exited, 15_000, 'the server to stop')).code, 0);
    assert.ok(read(file).includes('shutting down'));
  });

  it('refuses a log file that cannot be opened, naming it', async () => {
    await assert.rejects(startServe(['--data', join(dir, 'data2'), '--listen', '127.0.0.1:0', '--log-file', join(dir, 'logs', 'pepkeys.log', 'under-a-file.log')]), /cannot open the log file .*under-a-file\.log \(log\.file\)/);
  });
});

describe('log format', () => {
  it('pretty writes one human-readable line per entry, json one object', () => {
    const out = (format: 'json' | 'pretty') => {
      let text = '';
      const stream = new Writable({ write: (c: Buffer, _e, cb) => ((text += c.toString()), cb()) });
      const { logger } = createLogOutput({ level: 'info', format, stream });
      logger.child({ session: 'c2s1', peer: '127.0.0.1:4000' }).info({ jid: 'juliet@capulet.lit/balcony' }, 'connected');
      return text;
    };
    assert.deepEqual(JSON.parse(out('json')).peer, '127.0.0.1:4000');
    const pretty = out('pretty');
    assert.throws(() => JSON.parse(pretty));
    assert.match(pretty, /INFO.*connected/);
    assert.match(pretty, /peer: "127\.0\.0\.1:4000"/);
  });
});
