// Issue 14: the Juliet/Romeo key story with transparency on, through the CLI, across two federated pepkeys
// servers (separate `pepkeys serve` processes with [kt] enabled): Romeo on montague.lit verifies Juliet's
// keys against the log of capulet.lit over s2s (`key fetch --verify-log`, `key watch --verify-log` seeing
// her rotation), audits that log, and gossips his head with Juliet; Juliet's monitor finds only her own
// events. Every kt request of Romeo's goes through montague.lit to capulet.lit.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/nats.ts';
import { befriendAcross } from '../helpers/roster-setup.ts';
import { startWatch } from '../helpers/key-story.ts';
import { killServe, runCli, startServe, within, type ServeProcess } from './run-cli.ts';

const users = { juliet: 'juliet@capulet.lit', romeo: 'romeo@montague.lit' } as const;
const domains = ['capulet.lit', 'montague.lit'] as const;
type Who = keyof typeof users;
type Domain = (typeof domains)[number];

describe('the key story with transparency across two federated pepkeys servers', () => {
  let dir: string;
  const serves = {} as Record<Domain, ServeProcess | undefined>;
  const domainOf = (who: Who) => users[who].split('@')[1] as Domain;
  const conn = (who: Who, resource = 'cli') => ['--jid', `${users[who]}/${resource}`, '--password', `${who}-pw`, '--server', `127.0.0.1:${serves[domainOf(who)]!.port}`, '--insecure', '--home', join(dir, `home-${who}`)];
  const cli = (who: Who, args: string[]) => runCli([...args, ...conn(who)], { timeoutMs: 60_000 });
  const offline = (who: Who, args: string[]) => runCli([...args, '--jid', users[who], '--home', join(dir, `home-${who}`)], { timeoutMs: 60_000 });
  const ok = (r: { code: number | null; stdout: string; stderr: string }, what: string) => assert.equal(r.code, 0, `${what} failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
  let firstPrint = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-federated-'));
    const s2s = {} as Record<Domain, number>;
    for (const d of domains) s2s[d] = await freePort();
    const configs = {} as Record<Domain, string>;
    for (const d of domains) {
      const other = domains.find((o) => o !== d)!;
      configs[d] = join(dir, `${d}.toml`);
      writeFileSync(configs[d], [
        `hosts = ["${d}"]`, `data_dir = "${join(dir, d)}"`, 'log_level = "warn"',
        '[c2s]', 'listen = ["127.0.0.1:0"]', 'tls_listen = []',
        '[s2s]', `listen = ["127.0.0.1:${s2s[d]}"]`, '[s2s.routes]', `"${other}" = "127.0.0.1:${s2s[other]}"`,
        '[kt]', 'enabled = true', 'epoch_ms = 3600000', '',
      ].join('\n'));
    }
    for (const who of ['juliet', 'romeo'] as const) {
      const r = await runCli(['user', 'add', users[who], '--password', `${who}-pw`, '--create', '--config', configs[domainOf(who)]], { timeoutMs: 60_000 });
      ok(r, 'user add');
    }
    for (const d of domains) serves[d] = await startServe(['--config', configs[d]], 60_000);
    const c = (d: Domain) => ({ host: '127.0.0.1', port: serves[d]!.port, tls: { rejectUnauthorized: false } });
    await befriendAcross(c('capulet.lit'), c('montague.lit'), { jid: users.juliet, password: 'juliet-pw' }, { jid: users.romeo, password: 'romeo-pw' }, [], [], 30_000);
  });
  after(async () => {
    for (const d of domains) await killServe(serves[d]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("Juliet publishes; Romeo's fetch proves her key is in capulet.lit's log, over s2s", async () => {
    const g = await offline('juliet', ['key', 'generate', '--type', 'ed25519', '--no-passphrase', '--json']);
    ok(g, 'generate');
    firstPrint = JSON.parse(g.stdout).fingerprint;
    ok(await cli('juliet', ['key', 'publish', '--access', 'presence']), 'publish');
    const f = await cli('romeo', ['key', 'fetch', users.juliet, '--verify-log', '--json']);
    ok(f, 'fetch --verify-log');
    const out = JSON.parse(f.stdout);
    assert.equal(out.keys[0].key.fingerprint, firstPrint);
    assert.equal(out.log.domain, 'capulet.lit');
    assert.deepEqual(out.log.verified.map((v: { node: string; item: string }) => [v.node, v.item]), [['urn:xmpp:pubkey:1', 'current']]); // Ed25519: the 0.13 form (docs/keys.md)
  });

  it("Romeo's verifying watch accepts Juliet's rotated key, proven in the log of capulet.lit", async () => {
    const watch = startWatch(['key', 'watch', '--verify-log', '--json', '--count', '1', ...conn('romeo', 'watch')]);
    try {
      await within(watch.ready, 30_000, "romeo's watch to come online");
      const g = await offline('juliet', ['key', 'generate', '--type', 'ed25519', '--no-passphrase', '--json']);
      ok(g, 'second generate');
      const second = JSON.parse(g.stdout).fingerprint;
      ok(await cli('juliet', ['key', 'publish']), 'republish');
      const { code, stdout, stderr } = await within(watch.exited, 60_000, 'the rotated key to reach the watch');
      assert.equal(code, 0, stderr);
      const ev = JSON.parse(stdout.trim());
      assert.equal(ev.event, 'key');
      assert.equal(ev.seen, 'changed');
      assert.equal(ev.key.fingerprint, second);
      assert.equal(ev.log.domain, 'capulet.lit');
      assert.equal(ev.log.seq, 1);
    } finally {
      await watch.stop().catch(() => {});
    }
  });

  it("Juliet's monitor sees only her own two publishes", async () => {
    const m = await cli('juliet', ['key', 'monitor', '--json']);
    ok(m, 'monitor');
    const out = JSON.parse(m.stdout);
    assert.deepEqual([out.checked, out.own, out.alerts.length], [2, 2, 0]);
  });

  it('Romeo audits the log of capulet.lit and gossips his head with Juliet: no split view', async () => {
    const a = await cli('romeo', ['kt', 'audit', 'capulet.lit', '--json']);
    ok(a, 'audit');
    assert.equal(JSON.parse(a.stdout).size, 2);
    assert.equal(JSON.parse(a.stdout).firstAudit, false, 'the head his fetch stored is the one the audit extends');
    ok(await cli('juliet', ['kt', 'head', 'capulet.lit']), 'juliet head');
    ok(await cli('juliet', ['kt', 'gossip']), 'juliet gossip');
    const r = await cli('romeo', ['kt', 'gossip', '--json']);
    ok(r, 'romeo gossip');
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.contacts, [{ jid: users.juliet, heads: 1 }]);
    assert.deepEqual(out.splitViews, []);
  });
});
