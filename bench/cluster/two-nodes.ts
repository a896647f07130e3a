// 1 pepkeys node against 2 on the same PostgreSQL and nats-server (issue 16), all started here on free
// loopback ports; each node is its own `pepkeys serve` process (src/cli/main.ts through tsx).
// - fan-out: one publisher on node A, S subscribers (mutual presence, caps +notify) split across A and B;
//   up to 16 items in flight for a fixed time; notifications/s and item latency (publish → last subscriber).
// - publish: P publishers with no contacts split across the nodes, 8 in flight each; publishes/s.
// - cross-node notification: publisher on A, one subscriber on B, sequential publishes; p50/p99 of
//   publish sent → notification received (and the same with both on A, for reference).
// CPU seconds of each node process are printed per run, to see where the time goes.
//   node --import tsx bench/cluster/two-nodes.ts [--subs 500] [--publishers 20] [--seconds 5] [--samples 1000]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { Conn, openAll } from '../load/conn.ts';
import { PASSWORD, freePort, killPid, sleep, spawnLogged, waitForPort } from '../targets/common.ts';
import { procCpuSeconds } from '../report.ts';
import { isResult, payload, publishIq, publishOptions, waitUntil } from '../scenarios/common.ts';
import { deriveCredentials } from '../../src/server/index.ts';
import { openPostgresStorage } from '../../src/storage/postgres/index.ts';
import { POSTGRES_MISSING, startPostgres } from '../../test/helpers/postgres.ts';
import { startNats } from '../../test/helpers/nats.ts';

const { values } = parseArgs({ options: {
  subs: { type: 'string', default: '500' }, publishers: { type: 'string', default: '20' },
  seconds: { type: 'string', default: '5' }, samples: { type: 'string', default: '1000' },
} });
const SUBS = Number(values.subs);
const PUBLISHERS = Number(values.publishers);
const SECONDS = Number(values.seconds);
const SAMPLES = Number(values.samples);
const ROOT = resolve(import.meta.dirname, '../..');
const DOMAIN = 'localhost';
const NODE = 'urn:pepkeys:bench:cluster';
const presenceNode = publishOptions({ 'pubsub#access_model': 'presence', 'pubsub#send_last_published_item': 'never' });

interface Node { id: string; port: number; child: ChildProcess; log: string[] }

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
}
const f1 = (x: number) => x.toFixed(1);

async function startNode(dir: string, id: string, dbUrl: string, busUrl: string): Promise<Node> {
  const port = await freePort();
  const cfg = join(dir, `${id}.toml`);
  writeFileSync(cfg, [
    `hosts = ["${DOMAIN}"]`, `log_level = "warn"`, `data_dir = "${join(dir, id)}"`,
    `[storage]`, `driver = "postgres"`, `url = "${dbUrl}"`,
    `[c2s]`, `listen = ["127.0.0.1:${port}"]`, `require_tls = false`, `insecure_plain_auth = true`, `idle_timeout_seconds = 0`,
    `[http]`, `listen = []`,
    `[limits]`, `auth_failure_delay_ms = 0`, `max_connections_per_ip = 0`, `max_sessions_per_account = 100000`,
    `stanzas_per_second = 0`, `bytes_per_second = 0`, `preauth_bytes_per_second = 0`, `preauth_bytes_per_second_per_ip = 0`, `max_failed_logins = 1000000`,
    `[cluster]`, `enabled = true`, `node_id = "${id}"`, `bus_url = "${busUrl}"`, '',
  ].join('\n'));
  const log: string[] = [];
  const child = spawnLogged(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve', '--config', cfg], { cwd: ROOT, log });
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    await waitForPort(port, 60000, () => !exited);
  } catch (e) {
    throw new Error(`node ${id} did not start: ${(e as Error).message}\n${log.join('').slice(-2000)}`);
  }
  return { id, port, child, log };
}

function conn(node: Node, user: string, resource: string, caps?: string[]): Conn {
  return new Conn({ port: node.port, domain: DOMAIN, user, password: PASSWORD, resource, capsFeatures: caps });
}

function cpu(nodes: Node[]): number[] {
  return nodes.map((n) => procCpuSeconds(n.child.pid!));
}

/** Publisher on nodes[0], subscribers round-robin over nodes; returns notifications/s and item latency. */
async function fanout(nodes: Node[], tag: string) {
  const pub = conn(nodes[0]!, 'fpub', tag);
  const subs = Array.from({ length: SUBS }, (_, i) => conn(nodes[i % nodes.length]!, `fsub${i}`, tag, [`${NODE}+notify`]));
  await openAll([pub, ...subs]);
  pub.write('<presence/>');
  for (const s of subs) s.write(`<presence>${s.capsElement()}</presence>`);
  const prefix = `${tag}x`;
  const maxItems = 20000;
  const remaining = new Int32Array(maxItems).fill(SUBS);
  const sentAt = new Float64Array(maxItems);
  const lat: number[] = [];
  let warm = 0;
  let received = 0;
  let inflight = 0;
  let wake: (() => void) | undefined;
  for (const s of subs) {
    s.onMessage = (el) => {
      if (el.includes(`${tag}warm`)) return void warm++;
      const k = el.indexOf(prefix);
      if (k < 0) return;
      const seq = parseInt(el.slice(k + prefix.length), 10);
      received++;
      if (--remaining[seq]! === 0) {
        lat.push(performance.now() - sentAt[seq]!);
        inflight--;
        wake?.();
      }
    };
  }
  // Warm-up until every subscriber's caps are known where the publisher is (replicated across nodes).
  for (let i = 0; warm < SUBS && i < 60; i++) {
    warm = 0;
    const r = await pub.iq(`w${i}`, publishIq(`w${i}`, NODE, `${tag}warm`, payload('warm'), presenceNode));
    if (!isResult(r)) throw new Error(`warm-up publish failed: ${r.slice(0, 300)}`);
    await waitUntil(() => warm >= SUBS, 1000);
  }
  if (warm < SUBS) throw new Error(`warm-up reached ${warm} of ${SUBS} subscribers`);
  const cpu0 = cpu(nodes);
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  let sent = 0;
  // Bounded: a lost notification would otherwise keep its item in flight for ever; it is counted instead.
  await new Promise<void>((done) => {
    const hard = setTimeout(done, SECONDS * 1000 + 15000);
    const pump = () => {
      while (inflight < 16 && sent < maxItems && performance.now() < deadline) {
        const seq = sent++;
        inflight++;
        sentAt[seq] = performance.now();
        pub.iqCb(`f${seq}`, publishIq(`f${seq}`, NODE, `${prefix}${seq}`, payload(seq), presenceNode), () => undefined);
      }
      if (inflight === 0) (clearTimeout(hard), done());
    };
    wake = pump;
    pump();
  });
  const secs = (performance.now() - t0) / 1000;
  const cpu1 = cpu(nodes);
  for (const c of [pub, ...subs]) c.close();
  const missing = sent * SUBS - received;
  return { missing, notificationsPerSec: received / secs, items: sent, p50: pct(lat, 50), p99: pct(lat, 99), cpu: cpu1.map((c, i) => c - cpu0[i]!), secs };
}

/** P publishers without contacts, round-robin over nodes, 8 in flight each. */
async function publishRate(nodes: Node[], tag: string) {
  const pubs = Array.from({ length: PUBLISHERS }, (_, i) => conn(nodes[i % nodes.length]!, `ppub${i}`, tag));
  await openAll(pubs);
  for (const p of pubs) {
    const r = await p.iq('init', publishIq('init', NODE, `${tag}init`, payload('init'), presenceNode));
    if (!isResult(r)) throw new Error(`publish failed: ${r.slice(0, 300)}`);
  }
  const cpu0 = cpu(nodes);
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  let acked = 0;
  let errors = 0;
  await Promise.all(pubs.map((p) => new Promise<void>((done) => {
    let inflight = 0;
    let n = 0;
    const pump = () => {
      while (inflight < 8 && performance.now() < deadline) {
        inflight++;
        const id = `p${n++}`;
        p.iqCb(id, publishIq(id, NODE, `${tag}${id}`, payload(id), presenceNode), (el) => {
          inflight--;
          if (isResult(el)) acked++;
          else errors++;
          pump();
        });
      }
      if (inflight === 0) done();
    };
    pump();
  })));
  const secs = (performance.now() - t0) / 1000;
  const cpu1 = cpu(nodes);
  for (const p of pubs) p.close();
  return { publishesPerSec: acked / secs, errors, cpu: cpu1.map((c, i) => c - cpu0[i]!), secs };
}

/** Sequential publishes from `from`, one subscriber on `to`: latency of each notification. */
async function oneToOne(from: Node, to: Node, tag: string) {
  const pub = conn(from, 'xpub', tag);
  const sub = conn(to, 'xsub', tag, [`${NODE}+notify`]);
  await openAll([pub, sub]);
  pub.write('<presence/>');
  sub.write(`<presence>${sub.capsElement()}</presence>`);
  let got: ((el: string) => void) | undefined;
  sub.onMessage = (el) => got?.(el);
  const lat: number[] = [];
  for (let i = -50; i < SAMPLES; i++) {
    const id = `${tag}s${i}`;
    const arrived = new Promise<void>((r, j) => {
      const t = setTimeout(() => j(new Error(`no notification for ${id}`)), i < 0 ? 1000 : 10000);
      got = (el) => el.includes(id) && (clearTimeout(t), r());
    });
    const t0 = performance.now();
    pub.iqCb(id, publishIq(id, NODE, id, payload(i), presenceNode), () => undefined);
    // The first samples may precede caps replication: warm-up, not counted.
    if (i < 0) { await arrived.catch(() => sleep(50)); continue; }
    await arrived;
    lat.push(performance.now() - t0);
  }
  pub.close();
  sub.close();
  return { p50: pct(lat, 50), p99: pct(lat, 99), max: pct(lat, 100) };
}

async function main() {
  const pg = await startPostgres();
  if (!pg) throw new Error(POSTGRES_MISSING);
  const nats = await startNats();
  const dir = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
  const nodes: Node[] = [];
  // Interrupted (Ctrl-C, timeout): stop what this script started before exiting, PostgreSQL above all.
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  const cleanup = async () => {
    for (const node of nodes.splice(0)) await killPid(node.child.pid!, 30000).catch(() => undefined);
    await nats.close();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    const users = [
      'fpub', ...Array.from({ length: SUBS }, (_, i) => `fsub${i}`),
      ...Array.from({ length: PUBLISHERS }, (_, i) => `ppub${i}`), 'xpub', 'xsub',
    ];
    const setup = async (url: string) => {
      const s = await openPostgresStorage({ connectionString: url });
      const creds = deriveCredentials(PASSWORD);
      for (let i = 0; i < users.length; i += 50) await Promise.all(users.slice(i, i + 50).map((u) => s.accounts.create(`${u}@${DOMAIN}`, creds)));
      const both = (jid: string) => ({ jid, subscription: 'both' as const, groups: [] });
      const pairs: [string, string][] = [...Array.from({ length: SUBS }, (_, i) => [`fsub${i}`, 'fpub'] as [string, string]), ['xsub', 'xpub']];
      for (let i = 0; i < pairs.length; i += 50) {
        await Promise.all(pairs.slice(i, i + 50).flatMap(([a, b]) => [s.roster.putItem(`${a}@${DOMAIN}`, both(`${b}@${DOMAIN}`)), s.roster.putItem(`${b}@${DOMAIN}`, both(`${a}@${DOMAIN}`))]));
      }
      await s.close();
    };
    console.log(`cluster bench: ${SUBS} subscribers, ${PUBLISHERS} publishers, ${SECONDS} s runs, ${SAMPLES} latency samples; node ${process.version}`);
    for (const n of [1, 2]) {
      const url = await pg.createDatabase(`bench${n}`);
      await setup(url);
      for (const id of ['a', 'b'].slice(0, n)) nodes.push(await startNode(dir, id, url, nats.url));
      await sleep(1500); // the nodes see each other (heartbeats)
      const tag = `n${n}`;
      const fo = await fanout(nodes, `${tag}f`);
      console.log(`${n} node(s) fan-out ${SUBS}: ${Math.round(fo.notificationsPerSec)} notifications/s, ${fo.items} items, item latency p50 ${f1(fo.p50)} ms p99 ${f1(fo.p99)} ms, CPU s per node ${fo.cpu.map(f1).join(' / ')} over ${f1(fo.secs)} s${fo.missing ? `, ${fo.missing} NOTIFICATIONS MISSING` : ''}`);
      const pr = await publishRate(nodes, `${tag}p`);
      console.log(`${n} node(s) publish: ${Math.round(pr.publishesPerSec)} publishes/s (${pr.errors} errors), CPU s per node ${pr.cpu.map(f1).join(' / ')} over ${f1(pr.secs)} s`);
      const one = await oneToOne(nodes[0]!, nodes[n - 1]!, `${tag}x`);
      console.log(`${n} node(s) ${n === 2 ? 'cross-node' : 'same-node'} notification: p50 ${f1(one.p50)} ms, p99 ${f1(one.p99)} ms, max ${f1(one.max)} ms (${SAMPLES} samples)`);
      for (const node of nodes.splice(0)) await killPid(node.child.pid!, 30000);
    }
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await cleanup();
  }
}

await main();
