// `key monitor` (issue 14): Juliet's own publishes (recorded in her home by `key publish`) never alert; a key
// her server publishes in her name (the server patched in the test: its pubsub engine writes to her key node
// directly, which logs the event like any write) is served to Romeo, backed by the log, and Juliet's monitor
// alerts on it (exit 5, JSON) until she acknowledges it; the alert survives a run in between.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { PepService } from '../../src/server/modules/pep/index.ts';
import { transparencyModule } from '../../src/server/modules/transparency/index.ts';
import { buildPubkey, createPubkey } from '../../src/keys/pubkey.ts';
import { parseJid } from '../../src/jid/index.ts';
import { runCli } from './run-cli.ts';

describe('key monitor', () => {
  let dir: string;
  let t: TestServer;
  const conn = (who: string) => ['--jid', `${who}@localhost`, '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, who)];
  const key = (args: string[], who: string) => runCli(['key', ...args, ...conn(who)], { timeoutMs: 60_000 });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-monitor-'));
    t = await startTestServer({
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' },
      modules: [...defaultModules(), transparencyModule({ dataDir: join(dir, 'data'), epochMs: 3_600_000 })],
    });
    const g = await runCli(['key', 'generate', '--type', 'ed25519', '--no-passphrase', '--jid', 'juliet@localhost', '--home', join(dir, 'juliet')]);
    assert.equal(g.code, 0, g.stderr);
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("Juliet's own publish does not alert", async () => {
    const p = await key(['publish', '--access', 'open'], 'juliet');
    assert.equal(p.code, 0, p.stderr);
    assert.equal(statSync(join(dir, 'juliet', 'kt-monitor.json')).mode & 0o777, 0o600);
    const m = await key(['monitor', '--json'], 'juliet');
    assert.equal(m.code, 0, m.stdout + m.stderr);
    const out = JSON.parse(m.stdout);
    assert.equal(out.ok, true);
    assert.equal(out.checked, 1);
    assert.equal(out.own, 1);
    assert.deepEqual(out.alerts, []);
  });

  it("a key the server publishes in Juliet's name reaches Romeo through the log, and Juliet's monitor alerts", async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const rogue = createPubkey({ publicKey, jid: 'juliet@localhost', begin: new Date('2026-01-01T00:00:00Z'), end: new Date('2036-01-01T00:00:00Z') });
    const juliet = parseJid('juliet@localhost');
    await t.server.service(PepService)!.service(juliet).publish('urn:xmpp:pubkey:2', juliet, { id: 'current', payload: buildPubkey(rogue).toString() });

    // The log backs the rogue key, so Romeo's verified fetch accepts it: only Juliet can tell it is not hers.
    const f = await key(['fetch', 'juliet@localhost', '--verify-log', '--json'], 'romeo');
    assert.equal(f.code, 0, f.stderr);
    assert.equal(JSON.parse(f.stdout).log.verified.length, 1);

    const m = await key(['monitor', '--json'], 'juliet');
    assert.equal(m.code, 5, m.stdout + m.stderr);
    const out = JSON.parse(m.stdout);
    assert.equal(out.ok, false);
    assert.equal(out.checked, 1);
    assert.equal(out.own, 0);
    assert.equal(out.alerts.length, 1);
    const [a] = out.alerts;
    assert.equal(a.type, 'publish');
    assert.equal(a.node, 'urn:xmpp:pubkey:2');
    assert.equal(a.item, 'current');
    assert.match(a.fingerprint, /^sha-256:/);

    // Still pending on the next run (nothing new read), in words this time.
    const again = await key(['monitor'], 'juliet');
    assert.equal(again.code, 5);
    assert.match(again.stdout, new RegExp(`ALERT  entry ${a.seq}: publish of item current on urn:xmpp:pubkey:2, key sha-256:[0-9a-f]+, at .* was not made by this pepkeys home`));

    const ack = await key(['monitor', '--accept', String(a.seq), '--json'], 'juliet');
    assert.equal(ack.code, 0, ack.stdout + ack.stderr);
    assert.deepEqual(JSON.parse(ack.stdout).accepted, [a.seq]);
    const quiet = await key(['monitor', '--json'], 'juliet');
    assert.equal(quiet.code, 0);
    assert.deepEqual(JSON.parse(quiet.stdout).alerts, []);
  });

  it("Juliet's publish after that is hers again", async () => {
    const p = await key(['publish'], 'juliet');
    assert.equal(p.code, 0, p.stderr);
    const m = await key(['monitor', '--json'], 'juliet');
    assert.equal(m.code, 0, m.stdout + m.stderr);
    assert.deepEqual([JSON.parse(m.stdout).checked, JSON.parse(m.stdout).own], [1, 1]);
  });
});
