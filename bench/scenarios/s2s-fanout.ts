// s2s-fanout (issue 12): a publisher on one server (capulet.lit), 100 subscribers on another (montague.lit),
// each a mutual contact with XEP-0115 caps announcing NODE+notify; every notification crosses the one s2s
// link between the two. The same run for two pepkeys processes and for two Prosody processes (each pair on
// loopback with static routes, dialback over STARTTLS). The publisher keeps up to 4 items in flight; the
// figure is notifications received per second; checked: every subscriber got every item exactly once.
// This scenario starts and stops its own pair of servers (the harness's single targets have one domain).
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { Meter, latencyStats, type Result } from '../report.ts';
import { PASSWORD, freePort, killPid, spawnLogged, waitForPort, type Account, type Target } from '../targets/common.ts';
import { deriveCredentials, openStorage, resolveConfig } from '../../src/server/index.ts';
import { startProsody, type ProsodyServer } from '../../test/helpers/prosody.ts';
import { closeAll, connectUsers, ensureMutual, isResult, payload, publishIq, sendPresence, waitUntil, type ScenarioCtx, exactlyOnceProblems } from './common.ts';

const WINDOW = 4;
const ROOT = resolve(import.meta.dirname, '../..');

/** One server of a pair, shaped as a harness Target so the scenario helpers can drive it. */
interface Node extends Target {
  s2sPort: number;
}

class PepkeysNode implements Node {
  readonly name = 'pepkeys';
  port = 0;
  readonly mutual = new Set<string>();
  private child: ChildProcess | undefined;
  private readonly log: string[] = [];
  private creds = deriveCredentials(PASSWORD);
  constructor(readonly domain: string, readonly s2sPort: number, private readonly peer: { domain: string; s2sPort: number }, private readonly dir: string) {}
  pid(): number {
    return this.child?.pid ?? 0;
  }
  describe(): string {
    return `pepkeys ${process.version}, SQLite WAL (storage.sync = "normal"), s2s dialback over STARTTLS`;
  }
  private get config(): string {
    return join(this.dir, `${this.domain}.toml`);
  }
  async start(): Promise<void> {
    this.port = await freePort();
    mkdirSync(join(this.dir, this.domain), { recursive: true });
    writeFileSync(this.config, [
      `hosts = ["${this.domain}"]`, 'storage.sync = "normal"', `data_dir = "${join(this.dir, this.domain)}"`, 'log_level = "warn"',
      '[c2s]', `listen = ["127.0.0.1:${this.port}"]`, 'tls_listen = []', 'require_tls = false', 'insecure_plain_auth = true', 'idle_timeout_seconds = 0',
      '[limits]', 'auth_failure_delay_ms = 0', 'max_connections_per_ip = 0', 'max_sessions_per_account = 100000', 'stanzas_per_second = 0', 'bytes_per_second = 0',
      'preauth_bytes_per_second = 0', 'preauth_bytes_per_second_per_ip = 0',
      '[s2s]', `listen = ["127.0.0.1:${this.s2sPort}"]`,
      '[s2s.routes]', `"${this.peer.domain}" = "127.0.0.1:${this.peer.s2sPort}"`, '',
    ].join('\n'));
    this.child = spawnLogged(process.execPath, ['--max-old-space-size=8192', join(ROOT, 'dist/cli/main.js'), 'serve', '--config', this.config], { cwd: ROOT, log: this.log });
    let exited = false;
    this.child.once('exit', () => (exited = true));
    await waitForPort(this.port, 60000, () => !exited).catch((e) => {
      throw new Error(`pepkeys ${this.domain} did not start: ${(e as Error).message}\n${this.log.join('').slice(-2000)}`);
    });
  }
  async ensureAccounts(list: Account[]): Promise<void> {
    const storage = await openStorage(resolveConfig(this.config));
    try {
      await Promise.all(list.map((a) => storage.accounts.create(`${a.user}@${this.domain}`, this.creds).catch(() => undefined)));
    } finally {
      await storage.close();
    }
  }
  async stop(): Promise<void> {
    if (this.child?.pid) await killPid(this.child.pid, 30000);
    this.child = undefined;
  }
}

class ProsodyNode implements Node {
  readonly name = 'prosody';
  port = 0;
  readonly mutual = new Set<string>();
  private p: ProsodyServer | undefined;
  private pidValue = 0;
  constructor(readonly domain: string, readonly s2sPort: number, private readonly peer: { domain: string; s2sPort: number }, private readonly users: string[]) {}
  pid(): number {
    return this.pidValue;
  }
  describe(): string {
    return 'Prosody (Debian) 0.12, storage = "internal", s2s dialback over STARTTLS';
  }
  async start(): Promise<void> {
    const users = Object.fromEntries(this.users.map((u) => [`${u}@${this.domain}`, PASSWORD]));
    this.p = await startProsody({ hosts: [this.domain], users, timeoutMs: 120_000, s2s: { port: this.s2sPort, routes: { [this.peer.domain]: `127.0.0.1:${this.peer.s2sPort}` } } });
    this.port = this.p.port;
    try {
      this.pidValue = Number(execFileSync('cat', [join(this.p.dir, 'prosody.pid')], { encoding: 'utf8' }).trim()) || 0;
    } catch {
      this.pidValue = 0;
    }
  }
  async ensureAccounts(): Promise<void> {
    // Registered with prosodyctl at start.
  }
  async stop(): Promise<void> {
    await this.p?.stop();
  }
}

export async function s2sFanoutScenario(ctx: ScenarioCtx, kind: 'pepkeys' | 'prosody', subs = 100): Promise<Result[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-s2s-'));
  const [capS2s, monS2s] = [await freePort(), await freePort()];
  const subUsers = Array.from({ length: subs }, (_, i) => `ssub${i}`);
  const cap: Node = kind === 'pepkeys'
    ? new PepkeysNode('capulet.lit', capS2s, { domain: 'montague.lit', s2sPort: monS2s }, dir)
    : new ProsodyNode('capulet.lit', capS2s, { domain: 'montague.lit', s2sPort: monS2s }, ['spub']);
  const mon: Node = kind === 'pepkeys'
    ? new PepkeysNode('montague.lit', monS2s, { domain: 'capulet.lit', s2sPort: capS2s }, dir)
    : new ProsodyNode('montague.lit', monS2s, { domain: 'capulet.lit', s2sPort: capS2s }, subUsers);
  // pepkeys runs from dist/, which the harness's pepkeys target has just built (it runs first).
  try {
    await cap.start();
    await mon.start();
    ctx.log(`s2s-fanout: ${kind} pair up (capulet.lit c2s ${cap.port}, montague.lit c2s ${mon.port})`);
    return [await measure({ ...ctx, target: cap }, { ...ctx, target: mon }, kind, subs)];
  } finally {
    await cap.stop().catch(() => {});
    await mon.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(capCtx: ScenarioCtx, monCtx: ScenarioCtx, kind: string, subs: number): Promise<Result> {
  const ctx = capCtx;
  const seconds = ctx.quick ? 3 : 10;
  const maxItems = ctx.quick ? 300 : 3000;
  const node = 'urn:pepkeys:bench:s2s';
  const problems: string[] = [];
  const [p] = await connectUsers(capCtx, [{ user: 'spub', resource: 'pub' }]);
  sendPresence(p!);
  const subConns = await connectUsers(monCtx, Array.from({ length: subs }, (_, i) => ({ user: `ssub${i}`, resource: 'sub', caps: [`${node}+notify`] })));
  for (const s of subConns) sendPresence(s);
  await ensureMutual(ctx, subConns.map((s) => [s, p!]), 300_000);
  // Presence again now that every subscription exists: it carries the caps to the publisher's server.
  for (const s of subConns) sendPresence(s, '<status>ready</status>');

  const prefix = `s${ctx.tag}x${ctx.run}x`;
  const warmId = `swarm${ctx.tag}x${ctx.run}`;
  const counts = new Uint8Array(maxItems * subs);
  const remaining = new Int32Array(maxItems).fill(subs);
  const sentAt = new Float64Array(maxItems);
  const lat: number[] = [];
  let warm = 0;
  let received = 0;
  let inflight = 0;
  let wake: (() => void) | undefined;
  subConns.forEach((s, i) => {
    s.onMessage = (el) => {
      const k = el.indexOf(prefix);
      if (k < 0) {
        if (el.includes(warmId)) warm++;
        return;
      }
      let j = k + prefix.length;
      let seq = 0;
      for (let c = el.charCodeAt(j); c >= 48 && c <= 57; c = el.charCodeAt(++j)) seq = seq * 10 + (c - 48);
      if (seq >= maxItems) return;
      received++;
      if (counts[seq * subs + i]!++ === 0 && --remaining[seq] === 0) {
        lat.push(performance.now() - sentAt[seq]!);
        inflight--;
        wake?.();
      }
    };
  });
  // Warm-up: every subscriber's caps known across the link (retried: caps discovery runs in the background).
  for (let attempt = 0; attempt < 10 && warm < subs; attempt++) {
    warm = 0;
    const w = await p!.iq(`s-warm${attempt}`, publishIq(`s-warm${attempt}`, node, warmId, payload('warm')));
    if (!isResult(w)) throw new Error(`${kind}: warm-up publish failed: ${w.slice(0, 300)}`);
    await waitUntil(() => warm >= subs, 5000);
  }
  if (warm < subs) problems.push(`warm-up reached ${warm} of ${subs} subscribers`);
  await waitUntil(() => false, 500);

  const body = payload('S');
  let sent = 0;
  let ackErrors = 0;
  const meter = new Meter(ctx.target.pid());
  meter.start();
  const deadline = performance.now() + seconds * 1000;
  await new Promise<void>((resolveRun) => {
    const hard = setTimeout(() => resolveRun(), seconds * 1000 + 30000);
    const pump = () => {
      while (inflight < WINDOW && sent < maxItems && performance.now() < deadline) {
        const seq = sent++;
        inflight++;
        sentAt[seq] = performance.now();
        p!.iqCb(`s${seq}`, publishIq(`s${seq}`, node, `${prefix}${seq}`, body), (el) => {
          if (!isResult(el) && ackErrors++ < 3) problems.push(`publish error: ${el.slice(0, 200)}`);
        });
      }
      if (inflight === 0) {
        clearTimeout(hard);
        resolveRun();
      }
    };
    wake = pump;
    pump();
  });
  const m = meter.stop();
  await waitUntil(() => false, 300);
  problems.push(...exactlyOnceProblems(counts, sent, subs));
  closeAll([p!, ...subConns]);
  return {
    target: kind,
    scenario: 's2s-fanout',
    variant: `subscribers=${subs}`,
    metric: 'notifications/s',
    value: received / m.seconds,
    ...latencyStats(lat),
    extra: { items: sent, itemsPerSecond: Math.round(lat.length / m.seconds), window: WINDOW },
    valid: problems.length === 0,
    problems,
    run: ctx.run,
    ...m,
  };
}
