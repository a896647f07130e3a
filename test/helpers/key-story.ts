// The XEP-0189 story of issue 6 through the `pepkeys key` CLI (in-process, as test/cli/run-cli.ts runs it), written once and run against our server and
// against Prosody: Juliet generates and publishes (roster access for Friends, or presence where the server lacks
// roster access), Romeo fetches (unverified), Juliet rotates and revokes while Romeo watches, the old key becomes
// revoked, the Nurse cannot fetch.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, startCli, within, type CliResult } from '../cli/run-cli.ts';

export interface StoryEnv {
  server: string; // HOST:PORT
  /** Where each user connects instead of `server` (a cluster: each on another node). */
  servers?: Partial<Record<Who, string>>;
  homes: { juliet: string; romeo: string; nurse: string };
  users: { juliet: string; romeo: string; nurse: string };
  passwords: { juliet: string; romeo: string; nurse: string };
  /** Access flags for Juliet's publish. */
  access: string[];
  /** Extra connection flags (e.g. --insecure). */
  connect: string[];
}

type Who = 'juliet' | 'romeo' | 'nurse';

export function keyStory(env: () => StoryEnv): void {
  const conn = (who: Who, resource?: string) => {
    const e = env();
    return ['--jid', resource ? `${e.users[who]}/${resource}` : e.users[who], '--password', e.passwords[who], '--server', e.servers?.[who] ?? e.server, '--home', e.homes[who], ...e.connect];
  };
  // Offline commands get only --home, plus --jid for those about our own keys (generate, list without JID).
  const cli = (who: Who, args: string[], opts: { resource?: string; offline?: boolean } = {}) => {
    const ownKeys = args[0] === 'generate' || (args[0] === 'list' && (args[1] === undefined || args[1].startsWith('--')));
    const offline = ['--home', env().homes[who], ...(ownKeys ? ['--jid', env().users[who]] : [])];
    return runCli(['key', ...args, ...(opts.offline ? offline : conn(who, opts.resource))], { timeoutMs: 60_000 });
  };
  const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what} failed (exit ${r.code}): ${r.stderr}`);
  const json = (r: CliResult) => JSON.parse(r.stdout) as any;
  let firstPrint = '';
  let secondPrint = '';

  it('Juliet generates a key (progress on stderr) and publishes it with the chosen access model', async () => {
    const g = await cli('juliet', ['generate', '--type', 'rsa', '--bits', '2048', '--json'], { offline: true });
    ok(g, 'generate');
    assert.match(g.stderr, /generating RSA-2048 key/);
    const key = json(g);
    assert.equal(key.status, 'current');
    assert.equal(key.jid, env().users.juliet);
    firstPrint = key.fingerprint;
    const p = await cli('juliet', ['publish', ...env().access]);
    ok(p, 'publish');
    assert.match(p.stdout, /published key sha-256:[0-9a-f]{64} for /);
  });

  it('Romeo fetches it and it lands unverified in his trust store', async () => {
    const f = await cli('romeo', ['fetch', env().users.juliet, '--json']);
    ok(f, 'fetch');
    const out = json(f);
    assert.equal(out.source, 'pep');
    assert.equal(out.keys.length, 1);
    assert.equal(out.keys[0].key.fingerprint, firstPrint);
    assert.equal(out.keys[0].seen, 'new');
    const l = await cli('romeo', ['list', env().users.juliet, '--json'], { offline: true });
    ok(l, 'list');
    assert.deepEqual(json(l).map((k: any) => [k.fingerprint, k.state]), [[firstPrint, 'unverified']]);
    // Not verified yet: `verify` says so with its own exit code.
    const v = await cli('romeo', ['verify', env().users.juliet]);
    assert.equal(v.code, 5, v.stderr);
    assert.match(v.stdout, /no verified key/);
  });

  it("Juliet rotates and revokes the old key; Romeo's watch sees the change and the old key becomes revoked", async () => {
    const watch = startWatch(['key', 'watch', '--json', '--count', '2', ...conn('romeo', 'watch')]);
    try {
      await within(watch.ready, 30_000, "romeo's watch to come online");
      const g = await cli('juliet', ['generate', '--type', 'rsa', '--bits', '2048', '--json'], { offline: true });
      ok(g, 'second generate');
      secondPrint = json(g).fingerprint;
      assert.notEqual(secondPrint, firstPrint);
      ok(await cli('juliet', ['publish']), 'republish (access as last published)');
      const r = await cli('juliet', ['revoke', firstPrint.split(':')[1]!.slice(0, 12)]);
      ok(r, 'revoke');
      assert.match(r.stdout, /revoked key sha-256:/);
      const { code, stdout, stderr } = await within(watch.exited, 30_000, "romeo's watch to report two events");
      assert.equal(code, 0, stderr);
      const events = stdout.trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(events.map((e: any) => e.event), ['key', 'revocation'], stdout);
      assert.equal(events[0].seen, 'changed');
      assert.equal(events[0].key.fingerprint, secondPrint);
      assert.equal(events[0].key.state, 'unverified');
      assert.deepEqual(events[0].previous.map((p: any) => p.fingerprint), [firstPrint]);
      assert.equal(events[1].applied, true);
      assert.equal(events[1].key.fingerprint, firstPrint);
      assert.equal(events[1].key.state, 'revoked');
    } finally {
      await watch.stop();
    }
    const l = await cli('romeo', ['list', env().users.juliet, '--json'], { offline: true });
    const states = Object.fromEntries(json(l).map((k: any) => [k.fingerprint, k.state]));
    assert.deepEqual(states, { [firstPrint]: 'revoked', [secondPrint]: 'unverified' });
    // Juliet's own view.
    const own = json(await cli('juliet', ['list', '--json'], { offline: true }));
    assert.deepEqual(own.map((k: any) => [k.fingerprint, k.status]), [[firstPrint, 'revoked'], [secondPrint, 'current']]);
  });

  it('Romeo verifies the new fingerprint out of band, trusts it, and attests it', async () => {
    const t = await cli('romeo', ['trust', env().users.juliet, secondPrint], { offline: true });
    ok(t, 'trust');
    const v = await cli('romeo', ['verify', env().users.juliet, '--json']);
    ok(v, 'verify');
    assert.equal(json(v).verified, true);
    // A revoked key cannot be trusted again.
    const bad = await cli('romeo', ['trust', env().users.juliet, firstPrint], { offline: true });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /revoked/);
    ok(await cli('romeo', ['generate', '--type', 'ed25519', '--json'], { offline: true }), "romeo's own key");
    const a = await cli('romeo', ['attest', env().users.juliet, secondPrint, '--access', 'presence']);
    ok(a, 'attest');
    assert.match(a.stdout, /attested /);
  });

  it('the Nurse cannot fetch the key, and is told why in one sentence', async () => {
    const f = await cli('nurse', ['fetch', env().users.juliet]);
    assert.equal(f.code, 3, `${f.stdout}${f.stderr}`);
    const lines = f.stderr.trim().split('\n');
    assert.equal(lines.length, 1, f.stderr);
    assert.match(lines[0]!, /^pepkeys: .*juliet@capulet\.lit (shares|does not share)/);
    const l = await cli('nurse', ['list', env().users.juliet, '--json'], { offline: true });
    assert.deepEqual(json(l), []);
  });

  it("a direct request reaches Juliet's client: allowed for Romeo, service-unavailable for the Nurse", async () => {
    const watch = startWatch(['key', 'watch', '--json', ...conn('juliet', 'balcony')]);
    try {
      await within(watch.ready, 30_000, "juliet's watch to come online");
      const full = `${env().users.juliet}/balcony`;
      const r = await cli('romeo', ['fetch', full, '--json']);
      ok(r, 'direct fetch');
      assert.equal(json(r).source, 'direct');
      assert.equal(json(r).keys[0].key.fingerprint, secondPrint);
      assert.equal(json(r).keys[0].key.state, 'verified');
      const n = await cli('nurse', ['fetch', full]);
      assert.equal(n.code, 3, n.stderr);
      assert.match(n.stderr, /service-unavailable/);
    } finally {
      await watch.stop();
    }
  });

  it('Juliet sends her key in a message; Romeo receives it through watch', async () => {
    const watch = startWatch(['key', 'watch', '--json', '--count', '1', ...conn('romeo', 'desk')]);
    try {
      await within(watch.ready, 30_000, "romeo's watch to come online");
      const s = await cli('juliet', ['send', `${env().users.romeo}/desk`]);
      ok(s, 'send');
      const { stdout } = await within(watch.exited, 30_000, 'the key message');
      const ev = JSON.parse(stdout.trim().split('\n')[0]!);
      assert.equal(ev.event, 'key');
      assert.equal(ev.source, 'message');
      assert.equal(ev.seen, 'unchanged');
      assert.equal(ev.key.fingerprint, secondPrint);
    } finally {
      await watch.stop();
    }
  });
}

export interface WatchRun {
  ready: Promise<void>;
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Stops the watch (SIGTERM) and waits for it to end. */
  stop(): Promise<void>;
}

/** Starts a long-running CLI command in-process and resolves `ready` at its "watching as" line. */
export function startWatch(args: string[]): WatchRun {
  let onReady!: () => void;
  let onFail!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => ((onReady = res), (onFail = rej)));
  const r = startCli(args, { onStderr: (all) => { if (/watching as /.test(all)) onReady(); } });
  const exited = r.exited.then(({ code, stdout, stderr }) => {
    onFail(new Error(`watch exited early (code ${code}): ${stderr}`));
    return { code, stdout, stderr };
  });
  return {
    ready, exited,
    stop: async () => {
      r.stop();
      await within(exited, 10_000, 'watch to stop');
    },
  };
}
