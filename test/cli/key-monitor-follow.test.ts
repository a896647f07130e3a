// `key monitor --follow` (issue 14): Juliet's monitor runs as a real child process, subscribed to her domain's
// tree heads. Her own publish is checked when its head comes and raises nothing; a key her server then writes
// into her node (the server patched in the test: its pubsub engine publishes directly, which logs the event
// like any write) raises an alert line while the process runs; SIGINT ends it with exit code 5 (pending).
// A domain that refuses the subscription (the server's pubsub service patched in the test) is polled instead.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { PepService } from '../../src/server/modules/pep/index.ts';
import { transparencyModule } from '../../src/server/modules/transparency/index.ts';
import { buildPubkey, createPubkey } from '../../src/keys/pubkey.ts';
import { parseJid } from '../../src/jid/index.ts';
import { PubsubService } from '../../src/server/pubsub/service.ts';
import { errors } from '../../src/server/pubsub/errors.ts';
import { KT_HEADS_NODE } from '../../src/transparency/protocol.ts';
import { MAIN, ROOT, runCli, within } from './run-cli.ts';

describe('key monitor --follow', () => {
  let dir: string;
  let t: TestServer;
  let child: ChildProcess | undefined;
  const conn = () => ['--jid', 'juliet@localhost', '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, 'juliet')];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-monitor-follow-'));
    // Heads are signed soon after the log grows, as a production epoch would, only faster.
    t = await startTestServer({
      users: { 'juliet@localhost': 'pw' },
      modules: [...defaultModules(), transparencyModule({ dataDir: join(dir, 'data'), epochMs: 200 })],
    });
    const g = await runCli(['key', 'generate', '--type', 'ed25519', '--no-passphrase', '--jid', 'juliet@localhost', '--home', join(dir, 'juliet')]);
    assert.equal(g.code, 0, g.stderr);
  });
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts `key monitor --follow --json` as a child process; `waitFor` resolves once `pick` finds something. */
  const follow = (...extra: string[]) => {
    const proc = spawn(process.execPath, [...MAIN, 'key', 'monitor', '--follow', '--json', ...extra, ...conn()], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((r) => proc.once('close', (code) => r(code)));
    const waiters: (() => void)[] = [];
    const lines = () => stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
    const waitFor = <T>(what: string, pick: () => T | undefined): Promise<T> => within(new Promise<T>((resolve) => {
      const check = () => {
        const v = pick();
        if (v === undefined) return false;
        resolve(v);
        return true;
      };
      if (!check()) waiters.push(() => void check());
    }), 60_000, `${what}; stdout: ${stdout}; stderr: ${stderr}`);
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d, waiters.forEach((w) => w())));
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d, waiters.forEach((w) => w())));
    return { proc, exited, lines, waitFor, stderr: () => stderr };
  };
  /** The server writes a key into Juliet's node (logged like any write); returns its log entry number. */
  const rogueKey = async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const rogue = createPubkey({ publicKey, jid: 'juliet@localhost', begin: new Date('2026-01-01T00:00:00Z'), end: new Date('2036-01-01T00:00:00Z') });
    const juliet = parseJid('juliet@localhost');
    await t.server.service(PepService)!.service(juliet).publish('urn:xmpp:pubkey:2', juliet, { id: 'current', payload: buildPubkey(rogue).toString() });
    return (await t.storage.transparency.size('localhost')) - 1;
  };

  it('checks each published head, alerts on a key the server wrote while running, and exits 5 on SIGINT', async () => {
    const { proc, exited, lines, waitFor, stderr } = follow();
    await waitFor('the monitor to follow', () => (/following the transparency log of localhost/.test(stderr()) ? true : undefined));
    await waitFor('the first pass', () => lines().find((l) => l.event === 'head'));
    assert.doesNotMatch(stderr(), /refused a subscription/, 'the heads node takes the subscription: no polling');

    const p = await runCli(['key', 'publish', '--access', 'open', ...conn()], { timeoutMs: 60_000 });
    assert.equal(p.code, 0, p.stderr);
    const afterOwn = await t.storage.transparency.size('localhost');
    const ownHead = await waitFor('the head with Juliet\'s publish', () => lines().find((l) => l.event === 'head' && Number(l.size) >= afterOwn));
    assert.equal(ownHead.pending, 0);
    assert.deepEqual(lines().filter((l) => l.event === 'alert'), [], 'her own publish is no alert');

    const rogueSeq = await rogueKey();

    const alert = await waitFor('the alert', () => lines().find((l) => l.event === 'alert'));
    assert.equal(alert.seq, rogueSeq);
    assert.equal(alert.type, 'publish');
    assert.equal(alert.node, 'urn:xmpp:pubkey:2');
    assert.equal(alert.item, 'current');
    assert.match(String(alert.fingerprint), /^sha-256:/);
    assert.equal(proc.exitCode, null, 'the monitor is still running');

    proc.kill('SIGINT');
    assert.equal(await within(exited, 30_000, 'the monitor to end on SIGINT'), 5, stderr());
    assert.equal(lines().filter((l) => l.event === 'alert').length, 1);
  });

  it('polls when the domain refuses the subscription to its heads node', async () => {
    const subscribe = PubsubService.prototype.subscribe;
    PubsubService.prototype.subscribe = function (node, actor, jid) {
      if (node === KT_HEADS_NODE) throw errors.forbidden();
      return subscribe.call(this, node, actor, jid);
    };
    try {
      const { proc, exited, lines, waitFor, stderr } = follow('--poll', '0.3');
      await waitFor('the polling warning', () => (/localhost refused a subscription to its tree heads .*; checking every 0.3 s instead/.test(stderr()) ? true : undefined));
      // The alert of the first test is still pending: the first pass shows it again; the new one comes from a poll.
      const pending = await waitFor('the pending alert shown again', () => lines().find((l) => l.event === 'alert'));
      const seq = await rogueKey();
      assert.notEqual(pending.seq, seq);
      const alert = await waitFor('the alert from polling', () => lines().find((l) => l.event === 'alert' && l.seq === seq));
      assert.equal(alert.node, 'urn:xmpp:pubkey:2');
      proc.kill('SIGINT');
      assert.equal(await within(exited, 30_000, 'the monitor to end on SIGINT'), 5, stderr());
    } finally {
      PubsubService.prototype.subscribe = subscribe;
    }
  });
});
