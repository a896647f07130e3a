// Key transparency benchmark (issue 14): at 10^6 leaves in SQLite, server-side inclusion and consistency
// proof generation, client verification, storage bytes per leaf, tree-head signing and audit rate; then
// publish throughput to a key node with transparency on and off, alternating, in the same run.
// Usage: node --import tsx bench/transparency.ts [--leaves 1000000] [--proofs 2000] [--seconds 5] [--runs 3] [--warmup 1]
//        [--db FILE: reuse (or keep) the log database instead of building one in a temp dir] [--no-publish]
//        [--only on|off: publish runs of one side only, e.g. under a profiler] [--workload real|legacy] [--keys N] [--tls]
// Prints one JSON line per figure, with wall time and this process's CPU time (process.cpuUsage): on a
// shared machine the CPU figure is the one that says what the code costs. Bounded: every loop has a count
// or a deadline.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PerformanceObserver, constants as perfConstants, type PerformanceEntry } from 'node:perf_hooks';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { openSqliteStorage } from '../src/storage/sqlite/index.ts';
import { createTransparencyStore } from '../src/storage/sqlite/transparency.ts';
import { ktFileOf } from '../src/storage/sqlite/kt-file.ts';
import { encodeLeaf } from '../src/transparency/leaf.ts';
import { leafHash } from '../src/transparency/hash.ts';
import { MemoryTree, rootHash, type NodeRef } from '../src/transparency/tree.ts';
import { inclusionProof, verifyInclusion } from '../src/transparency/inclusion.ts';
import { consistencyProof, verifyConsistency } from '../src/transparency/consistency.ts';
import { signTreeHead } from '../src/transparency/tree-head.ts';
import { parseConfig } from '../src/server/config.ts';
import { XmppServer, deriveCredentials } from '../src/server/index.ts';
import { createLogger } from '../src/server/core/logger.ts';
import { defaultModules } from '../src/server/modules/index.ts';
import { transparencyModule } from '../src/server/modules/transparency/index.ts';
import { loadTlsCredentials } from '../src/server/core/tls-credentials.ts';
import { Conn, openAll } from './load/conn.ts';
import { buildPubkey, createPubkey } from '../src/keys/pubkey.ts';
import { everyPublishOptions, keyNodeOptions, keyPayloads, prepareKeys, type Workload } from './scenarios/workload.ts';

const { values } = parseArgs({
  options: {
    leaves: { type: 'string', default: '1000000' },
    proofs: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '5' },
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    db: { type: 'string' },
    'no-publish': { type: 'boolean', default: false },
    /** Publish runs with transparency only on or only off (a profile of one side); the ratio needs both. */
    only: { type: 'string' },
    /**
     * real: the publish-options form on every publish (XEP-0222 §3, as key-publishing clients send it) and the
     * RSA-2048 and Ed25519 <pubkey/> payloads of bench/scenarios/workload.ts; legacy: no options, the 32
     * Ed25519 payloads of the earlier figures.
     */
    workload: { type: 'string', default: 'legacy' },
    /**
     * Distinct keys the legacy workload cycles through (default 32). The key log remembers the fingerprints of
     * the last 4,096 payloads it saw (transparency/key-events.ts FingerprintCache): more keys than that, e.g.
     * 100000, make every publish one it has not seen, the cost of a flood of new keys.
     */
    keys: { type: 'string', default: '32' },
    /** STARTTLS on the publishing connection, as every real client negotiates. */
    tls: { type: 'boolean', default: false },
  },
});
const LEAVES = Number(values.leaves);
const PROOFS = Number(values.proofs);
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const WARMUP = Number(values.warmup);
const DOMAIN = 'localhost';
/** Valid urn:xmpp:pubkey:1 payloads (Ed25519) of the publishing account, cycled through by the publishes. */
const WORKLOAD = values.workload as Workload;
if (WORKLOAD !== 'real' && WORKLOAD !== 'legacy') throw new Error('--workload real|legacy');
const LEGACY_KEYS = Array.from({ length: WORKLOAD === 'legacy' ? Number(values.keys) : 0 }, () =>
  buildPubkey(createPubkey({ publicKey: generateKeyPairSync('ed25519').publicKey, jid: `pub@${DOMAIN}`, begin: new Date('2026-01-01T00:00:00Z'), end: new Date('2027-01-01T00:00:00Z'), version: 1 })).toString());
if (WORKLOAD === 'real') await prepareKeys();
/** The payloads cycled through: the real workload's two keys (RSA, Ed25519), or the 32 legacy ones. */
const KEYS = WORKLOAD === 'real' ? keyPayloads(`pub@${DOMAIN}`) : LEGACY_KEYS;
/** Sent with every publish (real): it creates the node on the first and is checked as a precondition after. */
const OPTIONS = WORKLOAD === 'real' ? everyPublishOptions('real', keyNodeOptions('presence', 200)) : '';
const dir = mkdtempSync(join(tmpdir(), 'pepkeys-bench-kt-'));
const emit = (o: Record<string, unknown>) => console.log(JSON.stringify({ bench: 'transparency', ...o }));
const usPer = (ms: number, n: number) => Math.round((ms * 1000 * 100) / n) / 100;
/** Wall and CPU microseconds per operation of `n` operations since `start()`. */
function timer() {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return (n: number) => {
    const c = process.cpuUsage(cpu);
    return { usPerOpWall: usPer(performance.now() - wall, n), usPerOpCpu: usPer((c.user + c.system) / 1000, n) };
  };
}

async function logAtScale(): Promise<void> {
  const path = values.db ?? join(dir, 'kt.sqlite');
  if (!values.db || !existsSync(path)) await build(path);
  await measure(path);
}

async function build(path: string): Promise<void> {
  await openSqliteStorage({ path, synchronous: 'NORMAL' }).close();
  // Built with the adapters' own append (log-append.ts) but in large transactions: 10^6 PEP publishes
  // would measure the disk, not the log.
  // The logs live in the transparency file (storage/sqlite/kt-file.ts), which the key-log thread writes.
  const db = new Database(ktFileOf(path));
  db.pragma('synchronous = OFF');
  // The adapter's own append (the one a group-commit batch runs), in 20k-leaf transactions.
  const { appendAll } = createTransparencyStore(db, undefined);
  const t0 = performance.now();
  let leafBytes = 0;
  const batch = db.transaction((from: number, to: number) => {
    const events = [];
    for (let i = from; i < to; i++) {
      const event = {
        type: 'publish' as const, time: 1_760_000_000_000 + i, jid: `user${i % 10000}@${DOMAIN}`, node: 'urn:xmpp:pubkey:2', itemId: 'current',
        payloadHash: randomBytes(32), fingerprint: `sha-256:${randomBytes(32).toString('hex')}`,
      };
      leafBytes += encodeLeaf({ ...event, seq: i }).length;
      events.push({ domain: DOMAIN, event });
    }
    appendAll(events);
  });
  const N = LEAVES;
  for (let i = 0; i < N; i += 20000) batch(i, Math.min(N, i + 20000));
  emit({ figure: 'build', leaves: N, seconds: Math.round((performance.now() - t0) / 10) / 100 });
  // dbstat: the pages each table and index of the log takes.
  const tables = ['kt_blocks', 'kt_jids', 'kt_names', 'sqlite_autoindex_kt_names_1'];
  const pages = db.prepare(`SELECT name, sum(pgsize) AS bytes FROM dbstat WHERE name IN (${tables.map(() => '?').join(', ')}) GROUP BY name`).all(...tables) as { name: string; bytes: number }[];
  const total = pages.reduce((s, p) => s + p.bytes, 0);
  emit({ figure: 'bytes per leaf', leaves: N, total: Math.round(total / N), encodedLeaf: Math.round(leafBytes / N), ...Object.fromEntries(pages.map((p) => [p.name, Math.round((p.bytes / N) * 10) / 10])) });
  db.close();
}

async function measure(path: string): Promise<void> {
  const storage = openSqliteStorage({ path, synchronous: 'NORMAL' });
  // Proofs as the key-log thread makes them (storage/sqlite/kt-process.ts: this store, on the transparency
  // file); the round trip from the event loop is measured apart at the end.
  const ktDb = new Database(ktFileOf(path), { readonly: true });
  const kt = createTransparencyStore(ktDb, undefined).store;
  const read = (refs: NodeRef[]) => kt.nodes(DOMAIN, refs);
  const N = await kt.size(DOMAIN);
  const root = await rootHash(N, read);
  const rnd = (n: number) => Math.floor(Math.random() * n);

  // Inclusion: generation on the server (storage reads included), verification as a client does it.
  const cases = Array.from({ length: PROOFS }, () => rnd(N));
  const incl: Uint8Array[][] = [];
  let t = timer();
  for (const m of cases) incl.push(await inclusionProof(m, N, read));
  emit({ figure: 'inclusion proof, server', leaves: N, proofs: PROOFS, ...t(PROOFS), hashes: incl[0]!.length });
  const leafHashes = await kt.nodes(DOMAIN, cases.map((index) => ({ level: 0, index })));
  t = timer();
  let ok = 0;
  for (let i = 0; i < PROOFS; i++) if (verifyInclusion(cases[i]!, N, leafHashes[i]!, incl[i]!, root)) ok++;
  emit({ figure: 'inclusion proof, client verification', leaves: N, ...t(PROOFS), verified: ok });

  const pairs = Array.from({ length: PROOFS }, () => 1 + rnd(N - 1));
  const firstRoots = new Map<number, Uint8Array>();
  for (const m of pairs.slice(0, 200)) firstRoots.set(m, await rootHash(m, read));
  const cons: Uint8Array[][] = [];
  t = timer();
  for (const m of pairs) cons.push(await consistencyProof(m, N, read));
  emit({ figure: 'consistency proof, server', leaves: N, proofs: PROOFS, ...t(PROOFS), hashes: cons[0]!.length });
  t = timer();
  ok = 0;
  const checked = pairs.slice(0, 200);
  for (let i = 0; i < checked.length; i++) if (verifyConsistency(checked[i]!, N, cons[i]!, firstRoots.get(checked[i]!)!, root)) ok++;
  emit({ figure: 'consistency proof, client verification', leaves: N, ...t(checked.length), verified: ok });

  // Tree heads: root from the stored subtrees, then an Ed25519 signature, as the module issues them.
  const { privateKey } = generateKeyPairSync('ed25519');
  const heads = 2000;
  t = timer();
  for (let i = 0; i < heads; i++) signTreeHead({ domain: DOMAIN, size: N, time: Date.now(), root: await rootHash(N - rnd(1000), read) }, privateKey);
  const signed = t(heads);
  emit({ figure: 'tree heads signed', leaves: N, perSecondWall: Math.round(1e6 / signed.usPerOpWall), perSecondCpu: Math.round(1e6 / signed.usPerOpCpu) });

  // Audit: download every entry (1000 per request, the IQ's limit), rehash, rebuild, compare the root.
  t = timer();
  const audit = new MemoryTree();
  for (let s = 0; s < N; s += 1000) for (const e of await kt.entries(DOMAIN, s, s + 1000)) audit.append(leafHash(e.leaf));
  const same = Buffer.from(await rootHash(N, audit.read)).equals(Buffer.from(root));
  const audited = t(N);
  emit({ figure: 'audit', leaves: N, entriesPerSecondWall: Math.round(1e6 / audited.usPerOpWall), entriesPerSecondCpu: Math.round(1e6 / audited.usPerOpCpu), rootMatches: same });

  // The same inclusion proofs asked from the event loop: one message to the key-log thread and back per read.
  const viaThread = (refs: NodeRef[]) => storage.transparency.nodes(DOMAIN, refs);
  const n = Math.min(PROOFS, 2000);
  // The thread starts at the storage's first read of the log (and under tsx compiles its modules first).
  await storage.transparency.size(DOMAIN);
  t = timer();
  for (const m of cases.slice(0, n)) await inclusionProof(m, N, viaThread);
  emit({ figure: 'inclusion proof, from the event loop (key-log thread round trip)', leaves: N, proofs: n, ...t(n) });
  ktDb.close();
  await storage.close();
}

/**
 * CPU time of this process's main thread (the event loop: server and client), in µs, from Linux's
 * /proc/self/task/PID/stat (utime + stime, in clock ticks of 10 ms): what the event loop itself spent,
 * whichever other threads (the key-log thread, the VRF worker, other processes) shared the cores meanwhile.
 * Undefined elsewhere.
 */
function mainThreadCpuUs(): number | undefined {
  return mainThreadTimes()?.total;
}

/** The main thread's CPU µs in all and in the kernel (stime: its system calls, page faults, interrupts it took). */
function mainThreadTimes(): { total: number; system: number } | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { total: (Number(fields[11]) + Number(fields[12])) * 10_000, system: Number(fields[12]) * 10_000 };
  } catch {
    return undefined;
  }
}

/** CPU µs of each thread of this process (Linux /proc), by thread id: which threads a run's CPU went to. */
function threadCpuUs(): Map<string, { name: string; us: number }> {
  const out = new Map<string, { name: string; us: number }>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(tid, { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), us: (Number(fields[11]) + Number(fields[12])) * 10_000 });
      } catch {
        // The thread ended meanwhile.
      }
    }
  } catch {
    // Not Linux.
  }
  return out;
}

/**
 * CPU µs of each descendant process of this one (all its threads; Linux /proc), by pid: the key log runs in a
 * process of its own (runtime/background-process.ts), and the map's VRF process is a child of that one.
 */
function childCpuUs(): Map<string, number> {
  const out = new Map<string, number>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out; // Not Linux.
  }
  const parent = new Map<string, string>();
  const cpu = new Map<string, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Field 4 (the second after the command name): the parent's pid.
      parent.set(pid, fields[1]!);
      cpu.set(pid, (Number(fields[11]) + Number(fields[12])) * 10_000);
    } catch {
      // The process ended meanwhile.
    }
  }
  const descends = (pid: string): boolean => {
    for (let p = parent.get(pid), hops = 0; p !== undefined && hops < 8; p = parent.get(p), hops++) if (p === String(process.pid)) return true;
    return false;
  };
  for (const [pid, us] of cpu) if (descends(pid)) out.set(pid, us);
  return out;
}

/** The threads that used the most CPU between two threadCpuUs readings, in µs per publish. */
function busiestThreads(before: Map<string, { name: string; us: number }>, after: Map<string, { name: string; us: number }>, n: number): Record<string, number> {
  const rows = [...after].map(([tid, t]) => ({ key: `${tid === String(process.pid) ? 'main' : t.name}#${tid}`, us: t.us - (before.get(tid)?.us ?? 0) }));
  rows.sort((a, b) => b.us - a.us);
  return Object.fromEntries(rows.slice(0, 5).filter((r) => r.us > 0).map((r) => [r.key, Math.round((r.us / Math.max(1, n)) * 10) / 10]));
}

/**
 * The main thread's time waiting for a core while runnable, in µs (Linux schedstat: run delay): how long the
 * event loop could have run but another thread (or process) held the cores. Undefined elsewhere.
 */
function mainThreadWaitUs(): number | undefined {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[1]) / 1000;
  } catch {
    return undefined;
  }
}

/**
 * The main thread's context switches (voluntary: it waited for input; involuntary: a thread or process took its
 * core) and migrations to the other core (its caches left behind), from Linux's /proc sched file. Undefined
 * elsewhere, or where the kernel has no scheduler statistics.
 */
function mainThreadSwitches(): { voluntary: number; involuntary: number; migrations: number } | undefined {
  try {
    const sched = readFileSync(`/proc/self/task/${process.pid}/sched`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name.replace('.', '\\.')}\\s*:\\s*(\\d+)`, 'm').exec(sched)?.[1]);
    const out = { voluntary: field('nr_voluntary_switches'), involuntary: field('nr_involuntary_switches'), migrations: field('se.nr_migrations') };
    return Object.values(out).some(Number.isNaN) ? undefined : out;
  } catch {
    return undefined;
  }
}

/**
 * Interrupts taken by all cores, by kind (Linux /proc/interrupts: the local timer, rescheduling and function-call
 * IPIs, the disk's completions...): what the kernel did to the cores meanwhile, whoever caused it.
 */
function interruptCounts(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    const lines = readFileSync('/proc/interrupts', 'utf8').split('\n');
    const cpus = lines[0]!.trim().split(/\s+/).length;
    for (const line of lines.slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 2) continue;
      const counts = cols.slice(1, 1 + cpus).map(Number);
      if (counts.some((n) => Number.isNaN(n))) continue;
      const name = /^\d+:$/.test(cols[0]!) ? cols[cols.length - 1]! : cols[0]!.replace(/:$/, '');
      out.set(name, (out.get(name) ?? 0) + counts.reduce((a, b) => a + b, 0));
    }
  } catch {
    // Not Linux.
  }
  return out;
}

/** The interrupt kinds that rose most between two interruptCounts readings, per publish. */
function interruptsPer(before: Map<string, number>, after: Map<string, number>, n: number): Record<string, number> {
  const rows = [...after].map(([name, count]) => ({ name, per: (count - (before.get(name) ?? 0)) / Math.max(1, n) }));
  rows.sort((a, b) => b.per - a.per);
  return Object.fromEntries(rows.slice(0, 5).filter((r) => r.per >= 0.01).map((r) => [r.name, Math.round(r.per * 100) / 100]));
}

/**
 * The event loop's garbage collections while `start()`ed: count and pause time by kind (scavenges of the young
 * generation, mark-compacts, incremental marking steps), and the heap in use at the end: a run whose code
 * keeps more alive pays in collections and in the marking write barrier that slows every other line.
 */
function gcWatch() {
  const kinds: Record<number, string> = {
    [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
    [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'markCompact',
    [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak',
  };
  const totals: Record<string, { n: number; ms: number }> = {};
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = kinds[((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind) ?? -1] ?? 'other';
      const t = (totals[kind] ??= { n: 0, ms: 0 });
      t.n++;
      t.ms += e.duration;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return (n: number) => {
    obs.disconnect();
    const out: Record<string, unknown> = { heapUsedMB: Math.round(process.memoryUsage().heapUsed / 1e5) / 10 };
    for (const [k, t] of Object.entries(totals)) out[k] = { count: t.n, usPerPublish: Math.round(((t.ms * 1000) / Math.max(1, n)) * 100) / 100 };
    return out;
  };
}

/** The log size the domain's verifiable map covers (its latest map head's), undefined before its first epoch. */
async function mapLogSize(c: Conn): Promise<number | undefined> {
  const id = c.newId('m');
  const el = await c.iq(id, `<iq type='get' to='${DOMAIN}' id='${id}'><map-head xmlns='urn:pepkeys:kt:0'/></iq>`);
  return /type=['"]result['"]/.test(el) ? Number(/log-size=['"](\d+)['"]/.exec(el)?.[1]) : undefined;
}

async function publishThroughput(kt: boolean, run: number): Promise<{ rate: number; cpuUs: number; mainUs: number | undefined }> {
  const data = join(dir, `srv-${kt ? 'on' : 'off'}-${run}`);
  const config = parseConfig({ hosts: [DOMAIN], log_level: 'silent', data_dir: data, c2s: { listen: ['127.0.0.1:0'], tls_listen: [], require_tls: false, insecure_plain_auth: true }, limits: { stanzas_per_second: 0, bytes_per_second: 0 }, storage: { sync: 'normal' } });
  const storage = openSqliteStorage({ path: join(data, 'pepkeys.sqlite'), synchronous: 'NORMAL' });
  await storage.accounts.create(`pub@${DOMAIN}`, deriveCredentials('pw'));
  const modules = [...defaultModules(), ...(kt ? [transparencyModule({ dataDir: data, epochMs: 1000 })] : [])];
  const tls = await loadTlsCredentials({ dataDir: data, domains: [DOMAIN] });
  const server = new XmppServer({ config, storage, modules, tls, logger: createLogger('silent') });
  const addrs = await server.start();
  const c = new Conn({ port: addrs.c2s[0]!.port, domain: DOMAIN, user: 'pub', password: 'pw', resource: 'b', sasl: 'PLAIN', tls: values.tls });
  await openAll([c]);
  const window = 16;
  let sent = 0;
  // A key node and real keys: every publish is a key event when transparency is on, and its fingerprint is
  // computed from the key data as for any client's publish.
  const node = 'urn:xmpp:pubkey:1';
  /** Publishes with `window` in flight until `ms` have passed; resolves with the publishes acknowledged. */
  const publishFor = (ms: number) => new Promise<number>((resolve) => {
    const deadline = performance.now() + ms;
    let acked = 0;
    let inflight = 0;
    const pump = () => {
      while (inflight < window && performance.now() < deadline) {
        const seq = sent++;
        inflight++;
        c.iqCb(`p${seq}`, `<iq type='set' id='p${seq}'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='${node}'><item id='i${seq}'>${KEYS[seq % KEYS.length]}</item></publish>${OPTIONS}</pubsub></iq>`, (el) => {
          inflight--;
          if (el.includes("type='result'") || el.includes('type="result"')) acked++;
          pump();
        });
      }
      if (inflight === 0) resolve(acked);
    };
    pump();
    setTimeout(() => resolve(acked), ms + 30000).unref();
  });
  // Warm-up, not measured: the threads a run starts (key log, VRF) load and compile their code, and the
  // event loop's new server its own; the figures are the steady state that follows.
  await publishFor(WARMUP * 1000);
  // With transparency on, the warm-up lasts until the map has its first epoch: the key log and the map's VRF
  // process have started (loaded and compiled their code, ~1 s of CPU under tsx) and labelled, as on a server
  // that has been running. Before, part of that start-up fell in the measured window.
  if (kt) for (let i = 0; i < 240 && (await mapLogSize(c)) === undefined; i++) await publishFor(250);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuUs();
  const sys0 = mainThreadTimes()?.system;
  const threads0 = threadCpuUs();
  const wait0 = mainThreadWaitUs();
  const children0 = childCpuUs();
  const switches0 = mainThreadSwitches();
  const irq0 = interruptCounts();
  const gc = gcWatch();
  const acked = await publishFor(SECONDS * 1000);
  const rate = acked / ((performance.now() - t0) / 1000);
  // Server and client share this process: CPU per acknowledged publish, the figure a busy machine blurs least.
  const used = process.cpuUsage(cpu0);
  const cpuUs = Math.round((used.user + used.system) / Math.max(1, acked));
  const main1 = mainThreadCpuUs();
  const sys1 = mainThreadTimes()?.system;
  const mainSysUs = sys0 === undefined || sys1 === undefined ? undefined : Math.round(((sys1 - sys0) / Math.max(1, acked)) * 10) / 10;
  const threads = busiestThreads(threads0, threadCpuUs(), acked);
  const wait1 = mainThreadWaitUs();
  const irq = interruptsPer(irq0, interruptCounts(), acked);
  const gcs = gc(acked);
  const switches1 = mainThreadSwitches();
  const per = (a: number, b: number) => Math.round(((b - a) / Math.max(1, acked)) * 1000) / 1000;
  const mainSwitches = switches0 && switches1 ? { voluntary: per(switches0.voluntary, switches1.voluntary), involuntary: per(switches0.involuntary, switches1.involuntary), migrations: per(switches0.migrations, switches1.migrations) } : undefined;
  const children = Object.fromEntries([...childCpuUs()].map(([pid, us]) => [`child#${pid}`, Math.round(((us - (children0.get(pid) ?? 0)) / Math.max(1, acked)) * 10) / 10]));
  const waitUs = wait0 === undefined || wait1 === undefined ? undefined : Math.round(((wait1 - wait0) / Math.max(1, acked)) * 10) / 10;
  const mainUs = main0 === undefined || main1 === undefined ? undefined : Math.round(((main1 - main0) / Math.max(1, acked)) * 10) / 10;
  const leaves = await storage.transparency.size(DOMAIN);
  // How far the map is behind the log when the publishing stops: it must keep up, not fall behind for good.
  const mapLeaves = kt ? await mapLogSize(c) : undefined;
  c.destroy();
  await server.stop();
  await storage.close();
  emit({ figure: 'publish to a key node', transparency: kt ? 'on' : 'off', workload: WORKLOAD, tls: values.tls, run, window, itemsPerSecond: Math.round(rate), cpuUsPerPublish: cpuUs, mainThreadCpuUsPerPublish: mainUs, mainThreadSystemUsPerPublish: mainSysUs, mainThreadWaitUsPerPublish: waitUs, mainThreadSwitchesPerPublish: mainSwitches, gc: gcs, interruptsPerPublish: irq, threadCpuUsPerPublish: threads, childProcessCpuUsPerPublish: children, acked, leaves, mapLeaves });
  return { rate, cpuUs, mainUs };
}

try {
  await logAtScale();
  const on: { rate: number; cpuUs: number; mainUs: number | undefined }[] = [];
  const off: { rate: number; cpuUs: number; mainUs: number | undefined }[] = [];
  for (let run = 1; run <= (values['no-publish'] ? 0 : RUNS); run++) {
    // Alternating, so a slower minute of the shared machine hits both.
    if (values.only !== 'on') off.push(await publishThroughput(false, run));
    if (values.only !== 'off') on.push(await publishThroughput(true, run));
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  if (on.length && off.length) {
    const rateOn = median(on.map((r) => r.rate));
    const rateOff = median(off.map((r) => r.rate));
    const cpuOn = median(on.map((r) => r.cpuUs));
    const cpuOff = median(off.map((r) => r.cpuUs));
    // Ratios of medians: throughput on/off, and CPU per publish off/on (what throughput would be if CPU-bound).
    // The event loop's own CPU per publish, off/on: the throughput ratio of a machine whose other cores are
    // free (the event loop is what saturates first), however loaded this one was.
    const mainOn = on.every((r) => r.mainUs !== undefined) ? median(on.map((r) => r.mainUs!)) : undefined;
    const mainOff = off.every((r) => r.mainUs !== undefined) ? median(off.map((r) => r.mainUs!)) : undefined;
    const mainRatio = mainOn && mainOff ? Math.round((mainOff / mainOn) * 100) / 100 : undefined;
    emit({ figure: 'publish throughput, transparency on / off (medians)', on: Math.round(rateOn), off: Math.round(rateOff), ratio: Math.round((rateOn / rateOff) * 100) / 100, cpuUsOn: cpuOn, cpuUsOff: cpuOff, cpuRatio: Math.round((cpuOff / cpuOn) * 100) / 100, mainThreadUsOn: mainOn, mainThreadUsOff: mainOff, mainThreadRatio: mainRatio });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
