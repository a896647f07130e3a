// `pepkeys serve --http-listen` as a child process: it names the HTTP listener's address on stderr, and
// that listener answers /readyz and /metrics until SIGTERM.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killServe, startServe, within, type ServeProcess } from '../../cli/run-cli.ts';

describe('pepkeys serve --http-listen', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pepkeys-serve-http-'));
  let srv: ServeProcess | undefined;
  after(async () => {
    await killServe(srv);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves /readyz and /metrics on the address it prints', async () => {
    srv = await startServe(['--data', dir, '--listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--log-level', 'warn']);
    let m: RegExpExecArray | null = null;
    for (let i = 0; i < 200 && !(m = /^pepkeys HTTP \(health, metrics, WebSocket \/xmpp-websocket\) on 127\.0\.0\.1:(\d+)$/m.exec(srv.stderr())); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(m, `the HTTP line on stderr: ${srv.stderr()}`);
    const base = `http://127.0.0.1:${m[1]}`;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^pepkeys_sessions\{host="localhost"\} 0$/m);
    srv.child.kill('SIGTERM');
    assert.equal((await within(srv.exited, 15_000, 'the server to stop')).code, 0);
    await assert.rejects(fetch(`${base}/healthz`));
  });
});
