// Side-by-side benchmark harness (issue 4): starts each target on loopback with its own config and data dir,
// provisions accounts, runs the scenarios with the same raw-socket load generator, stops what it started (by
// pid), prints one JSON line per result and a table with ratios. Bounded in counts and time.
//
//   npm run bench -- --targets pepkeys,pepkeys-fsync,prosody,ejabberd [--scenario NAME[,NAME]] [--quick] [--runs N]
//   (pepkeys: storage.sync = "normal", the durability the others give; pepkeys-fsync: "full", see targets/pepkeys.ts)
//   npm run bench -- pep            (pepkeys only, publish + fanout)
//   options: --out FILE (append JSON lines), --cpu-prof DIR (profile pepkeys), --profile DIR (the same, then
//            DIR/summary.md: per result row, each pepkeys thread's self time by category within the
//            measurement window, see profile-summary.ts), --subscribers 10,100,500,
//            --windows 1,16, --sessions 1000,10000
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { table, type Result } from './report.ts';
import type { Target } from './targets/common.ts';
import { PepkeysTarget } from './targets/pepkeys.ts';
import { ProsodyTarget } from './targets/prosody.ts';
import { EjabberdTarget } from './targets/ejabberd.ts';
import { publishScenario } from './scenarios/publish.ts';
import { fanoutScenario } from './scenarios/fanout.ts';
import type { ScenarioCtx } from './scenarios/common.ts';
import { prepareKeys, type Workload } from './scenarios/workload.ts';
import { connDefaults } from './load/conn.ts';
import { readFileSync } from 'node:fs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    targets: { type: 'string' },
    scenario: { type: 'string' },
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    out: { type: 'string' },
    'cpu-prof': { type: 'string' },
    profile: { type: 'string' },
    help: { type: 'boolean', default: false },
    subscribers: { type: 'string' },
    windows: { type: 'string' },
    sessions: { type: 'string' },
    // issue 20: the workload real clients send is the default; `legacy` runs the earlier scenarios.
    workload: { type: 'string' },
    tls: { type: 'boolean', default: false },
    'fanout-windows': { type: 'string' },
    fetchers: { type: 'string' },
    // Prints the table of JSON lines collected with --out (e.g. a plain and a --tls run side by side).
    report: { type: 'string' },
  },
});

if (values.help) {
  process.stdout.write(`npm run bench -- [pep] [--targets pepkeys,pepkeys-fsync,ejabberd,prosody] [--scenario publish,fanout,retrieve,idle,...]
  [--runs N] [--quick] [--tls] [--workload real|legacy] [--windows 1,16] [--subscribers 100,500] [--fanout-windows 1,16]
  [--fetchers 10,100] [--sessions 1000,10000] [--out FILE.jsonl] [--report FILE.jsonl]
  [--cpu-prof DIR] [--profile DIR]   (--profile: pepkeys under --cpu-prof, then DIR/summary.md per result row)
See docs/benchmarks.md.
`);
  process.exit(0);
}
const profileDir = values.profile ?? values['cpu-prof'];

const ALL = ['publish', 'fanout', 'retrieve', 'login', 'idle', 'mixed', 'ws-login', 'ws-idle', 's2s-fanout'];
const pepShortcut = positionals[0] === 'pep';
const targets = (values.targets ?? (pepShortcut ? 'pepkeys' : 'pepkeys')).split(',');
const scenarios = (values.scenario ?? (pepShortcut ? 'publish,fanout' : ALL.join(','))).split(',');
const quick = values.quick;
const runs = Number(values.runs ?? (quick ? 1 : 3));
const nums = (s: string | undefined, d: number[]) => (s ? s.split(',').map(Number) : d);
const workload = (values.workload ?? 'real') as Workload;
if (workload !== 'real' && workload !== 'legacy') throw new Error('--workload real|legacy');
const tls = values.tls;
connDefaults.tls = tls;
const subscribers = nums(values.subscribers, workload === 'legacy' ? (quick ? [10, 100] : [10, 100, 500]) : [100, 500]);
const fanoutWindows = nums(values['fanout-windows'], [1, 16]);
const fetchers = values.fetchers ? nums(values.fetchers, []) : undefined;
if (values.report) {
  const rs = readFileSync(values.report, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Result);
  process.stdout.write(`${table(rs)}\n`);
  process.exit(0);
}
if (workload === 'real') await prepareKeys();
const windows = nums(values.windows, [1, 16]);
const sessions = nums(values.sessions, quick ? [1000] : [1000, 10000]);
for (const s of scenarios) if (!ALL.includes(s)) throw new Error(`unknown scenario ${s} (one of ${ALL.join(', ')})`);

function makeTarget(name: string): Target {
  switch (name) {
    case 'pepkeys':
      return new PepkeysTarget({ cpuProfDir: profileDir, tls });
    case 'pepkeys-fsync':
      return new PepkeysTarget({ cpuProfDir: profileDir, sync: 'full', tls });
    case 'prosody':
      return new ProsodyTarget(tls);
    case 'ejabberd':
      return new EjabberdTarget(tls);
    default:
      throw new Error(`unknown target ${name} (pepkeys, pepkeys-fsync, prosody, ejabberd)`);
  }
}

async function runScenario(name: string, ctx: ScenarioCtx): Promise<Result[]> {
  switch (name) {
    case 'publish':
      return publishScenario(ctx, windows);
    case 'fanout':
      return fanoutScenario(ctx, subscribers, fanoutWindows);
    case 'retrieve':
      return (await import('./scenarios/retrieve.ts')).retrieveScenario(ctx, fetchers);
    case 'login':
      return (await import('./scenarios/login.ts')).loginScenario(ctx);
    case 'idle':
      return (await import('./scenarios/idle.ts')).idleScenario(ctx, sessions);
    case 'mixed':
      return (await import('./scenarios/mixed.ts')).mixedScenario(ctx);
    case 'ws-login':
      return (await import('./scenarios/websocket.ts')).wsLoginScenario(ctx);
    case 'ws-idle':
      return (await import('./scenarios/websocket.ts')).wsIdleScenario(ctx, sessions);
    case 's2s-fanout':
      // Starts its own pair of servers of the target's kind (capulet.lit → montague.lit).
      return (await import('./scenarios/s2s-fanout.ts')).s2sFanoutScenario(ctx, ctx.target.name === 'prosody' ? 'prosody' : 'pepkeys');
    default:
      return [];
  }
}

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const results: Result[] = [];
const tag = randomBytes(3).toString('hex');
const notes: string[] = [];
/** Results with the pid of the server process that produced them (for --profile). */
const profiled: { r: Result; pid: number }[] = [];
const hardStop = setTimeout(() => {
  log('global time limit (60 min) reached; exiting');
  process.exit(2);
}, 60 * 60 * 1000);
hardStop.unref();

for (const name of targets) {
  let target = makeTarget(name);
  const t0 = Date.now();
  try {
    log(`starting ${name}`);
    await target.start();
    log(`${name} up on 127.0.0.1:${target.port} (pid ${target.pid()}) in ${Date.now() - t0} ms: ${target.describe()}`);
    notes.push(`${target.describe()}${tls ? ' [STARTTLS]' : ''}, workload ${workload}`);
    // idle last: it leaves the server's heap large.
    const isIdle = (s: string) => s === 'idle' || s === 'ws-idle';
    const order = [...scenarios].sort((a, b) => (isIdle(a) ? 1 : 0) - (isIdle(b) ? 1 : 0));
    let fresh = true;
    for (const sc of order) {
      for (let run = 1; run <= runs; run++) {
        if (isIdle(sc) && !fresh) {
          // KB per session is RSS growth, which only means something on a fresh process: a server that has
          // already grown (earlier runs, other scenarios) reuses its memory and reports next to nothing.
          await target.stop();
          target = makeTarget(name);
          await target.start();
          log(`${name} restarted for a fresh idle run (pid ${target.pid()})`);
        }
        fresh = false;
        const ctx: ScenarioCtx = { target, quick, run, log, tag, workload };
        try {
          const rs = await runScenario(sc, ctx);
          for (const r of rs) {
            // TLS rows sit beside the plain ones in a combined --report table.
            if (tls) r.variant += ' tls';
            results.push(r);
            profiled.push({ r, pid: target.pid() });
            const line = JSON.stringify({ ...r, when: new Date().toISOString(), quick });
            process.stdout.write(`${line}\n`);
            if (values.out) appendFileSync(values.out, `${line}\n`);
            if (!r.valid) log(`INVALID ${name} ${r.scenario} ${r.variant}: ${r.problems.join('; ')}`);
          }
        } catch (e) {
          log(`${name} ${sc} run ${run} failed: ${(e as Error).stack ?? e}`);
        }
      }
    }
  } catch (e) {
    log(`${name} could not be benchmarked: ${(e as Error).message}`);
  } finally {
    await target.stop().catch((e) => log(`stopping ${name}: ${(e as Error).message}`));
    log(`${name} stopped`);
  }
}

process.stdout.write(`\n${table(results)}\n`);
for (const n of notes) process.stdout.write(`- ${n}\n`);
if (values.profile) {
  const { profileReport } = await import('./profile-summary.ts');
  const file = profileReport(values.profile, profiled.filter((x) => x.r.target.startsWith('pepkeys')));
  log(`profile summaries: ${file}`);
}
// Sockets closed above may still hold timers; do not wait for them.
process.exit(0);
