// Side-by-side benchmark harness (issue 4): starts each target on loopback with its own config and data dir,
// provisions accounts, runs the scenarios with the same raw-socket load generator, stops what it started (by
// pid), prints one JSON line per result and a table with ratios. Bounded in counts and time.
//
//   npm run bench -- --targets pepkeys,pepkeys-fsync,prosody,ejabberd [--scenario NAME[,NAME]] [--quick] [--runs N]
//   (pepkeys: storage.sync = "normal", the durability the others give; pepkeys-fsync: "full", see targets/pepkeys.ts)
//   npm run bench -- pep            (pepkeys only, publish + fanout)
//   options: --out FILE (append JSON lines), --cpu-prof DIR (profile pepkeys), --subscribers 10,100,500,
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

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    targets: { type: 'string' },
    scenario: { type: 'string' },
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    out: { type: 'string' },
    'cpu-prof': { type: 'string' },
    subscribers: { type: 'string' },
    windows: { type: 'string' },
    sessions: { type: 'string' },
  },
});

const ALL = ['publish', 'fanout', 'retrieve', 'login', 'idle', 'mixed', 'ws-login', 'ws-idle'];
const pepShortcut = positionals[0] === 'pep';
const targets = (values.targets ?? (pepShortcut ? 'pepkeys' : 'pepkeys')).split(',');
const scenarios = (values.scenario ?? (pepShortcut ? 'publish,fanout' : ALL.join(','))).split(',');
const quick = values.quick;
const runs = Number(values.runs ?? (quick ? 1 : 3));
const nums = (s: string | undefined, d: number[]) => (s ? s.split(',').map(Number) : d);
const subscribers = nums(values.subscribers, quick ? [10, 100] : [10, 100, 500]);
const windows = nums(values.windows, [1, 16]);
const sessions = nums(values.sessions, quick ? [1000] : [1000, 10000]);
for (const s of scenarios) if (!ALL.includes(s)) throw new Error(`unknown scenario ${s} (one of ${ALL.join(', ')})`);

function makeTarget(name: string): Target {
  switch (name) {
    case 'pepkeys':
      return new PepkeysTarget({ cpuProfDir: values['cpu-prof'] });
    case 'pepkeys-fsync':
      return new PepkeysTarget({ cpuProfDir: values['cpu-prof'], sync: 'full' });
    case 'prosody':
      return new ProsodyTarget();
    case 'ejabberd':
      return new EjabberdTarget();
    default:
      throw new Error(`unknown target ${name} (pepkeys, pepkeys-fsync, prosody, ejabberd)`);
  }
}

async function runScenario(name: string, ctx: ScenarioCtx): Promise<Result[]> {
  switch (name) {
    case 'publish':
      return publishScenario(ctx, windows);
    case 'fanout':
      return fanoutScenario(ctx, subscribers);
    case 'retrieve':
      return (await import('./scenarios/retrieve.ts')).retrieveScenario(ctx);
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
    default:
      return [];
  }
}

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const results: Result[] = [];
const tag = randomBytes(3).toString('hex');
const notes: string[] = [];
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
    notes.push(target.describe());
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
        const ctx: ScenarioCtx = { target, quick, run, log, tag };
        try {
          const rs = await runScenario(sc, ctx);
          for (const r of rs) {
            results.push(r);
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
// Sockets closed above may still hold timers; do not wait for them.
process.exit(0);
