// Summarises V8 .cpuprofile files (node --cpu-prof; one file per thread: the main thread and the storage
// worker) as text: wall time, busy time, self time per category and the top functions by self time. The
// categories say what bounds a figure (socket writes, TLS, XML parse, serialisation, storage, pubsub engine,
// GC, idle); the raw profiles are too big to keep, the summaries are what docs/benchmarks-profiles.md shows.
//
//   node --import tsx bench/profile-summary.ts DIR-or-FILE... [--top 15]
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Category of one frame by its function name and script. Order matters: the first match wins. */
export function category(f: CallFrame): string {
  const fn = f.functionName;
  const url = f.url;
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)') return 'V8/native other';
  // The native write of a StreamBase: write(2) for a TCP socket; for a TLS socket the encryption runs
  // inside the same call (TLSWrap), so with --tls this is "encrypt + write".
  if (/^(writeUtf8String|writeLatin1String|writeBuffer|writev|writeAsciiString|writeUcs2String|shutdown)$/.test(fn)) return 'socket write (syscall; +TLS encrypt with TLS)';
  if (/^(readStart|readStop|onStreamRead|onread)$/.test(fn) || url.includes('stream_base_commons')) return 'socket read/stream plumbing';
  if (url.includes('_tls_') || url === 'node:tls') return 'TLS (JS side)';
  if (/\/(src|dist)\/xml\/(parse|stream-parser|utf8-stream)/.test(url) || url.includes('/ltx/') || url.includes('/saxes/')) return 'XML parse';
  if (/\/(src|dist)\/xml\//.test(url)) return 'XML serialise/build';
  if (url.includes('better-sqlite3') || /\/(src|dist)\/storage\//.test(url) || fn === 'postMessage' || url.includes('node:internal/worker')) return 'storage (incl. worker messaging)';
  if (/\/(src|dist)\/server\/(pubsub|modules\/pep)\//.test(url)) return 'pubsub engine';
  if (/\/(src|dist)\/server\/core\//.test(url)) return 'core (streams, routing, sessions)';
  if (/\/(src|dist)\/server\/modules\//.test(url)) return 'other modules (roster, presence, caps...)';
  if (/\/(src|dist)\//.test(url)) return 'other pepkeys code';
  if (url.startsWith('node:') || url === '') return fn === '' || url === '' ? 'V8/native other' : 'Node internals (streams, timers, events)';
  return 'dependencies';
}

export interface Summary {
  file: string;
  wallMs: number;
  busyMs: number;
  categories: [string, number][];
  top: [string, number][];
}

/** Which thread a profile file is: node names them CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile,
 * thread 0 being the main thread (the storage worker is another). */
export function threadOf(file: string): string {
  const m = /\.(\d+)\.(\d+)\.(\d+)\.cpuprofile$/.exec(basename(file));
  return m ? (m[2] === '0' ? 'main thread' : `worker thread ${m[2]}`) : 'thread ?';
}

/** `window` [start, end] in µs of CLOCK_MONOTONIC (what V8 stamps samples with): only those samples count. */
export function summarise(file: string, topN = 15, window?: [number, number]): Summary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // A native function without a script (a better-sqlite3 statement's run, a Buffer method) belongs to the
  // category of the JS that called it.
  const catOf = (id: number): string => {
    const n = byId.get(id)!;
    const c = category(n.callFrame);
    const pid = parent.get(id);
    if (c === 'V8/native other' && n.callFrame.url === '' && !n.callFrame.functionName.startsWith('(') && pid !== undefined && byId.get(pid)!.callFrame.functionName !== '(root)') return catOf(pid);
    return c;
  };
  const self = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; attribute each delta to the sample it precedes (V8's own
  // convention in DevTools is the same up to one sample).
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (window && (t < window[0] || t > window[1])) continue;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const cats = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const c = catOf(id);
    total += us;
    if (c === 'idle') idle += us;
    cats.set(c, (cats.get(c) ?? 0) + us);
    const short = n.callFrame.url.replace(/^.*\/(src|dist|node_modules)\//, '$1/').replace(/^file:\/\//, '');
    const key = `${n.callFrame.functionName || '(anonymous)'} ${short ? `${short}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const sort = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    file,
    wallMs: total / 1000,
    busyMs: (total - idle) / 1000,
    categories: sort(cats).map(([k, v]) => [k, v / 1000]),
    top: sort(fns).filter(([k]) => !k.startsWith('(idle)')).slice(0, topN).map(([k, v]) => [k, v / 1000]),
  };
}

/** Markdown: categories as % of busy time (idle as % of wall), then the top functions. */
export function render(s: Summary): string {
  const pct = (v: number, of: number) => `${((100 * v) / of).toFixed(1)}%`;
  const lines = [
    `${threadOf(s.file)} (${basename(s.file)}): wall ${(s.wallMs / 1000).toFixed(1)} s, busy ${(s.busyMs / 1000).toFixed(2)} s (${pct(s.busyMs, s.wallMs)} of wall)`,
    '',
    '| category | self ms | % of busy |',
    '|---|---|---|',
    ...s.categories.filter(([k]) => k !== 'idle').map(([k, v]) => `| ${k} | ${v.toFixed(0)} | ${pct(v, s.busyMs)} |`),
    '',
    '| top functions (self) | ms | % of busy |',
    '|---|---|---|',
    ...s.top.map(([k, v]) => `| \`${k.replace(/\|/g, '\\|')}\` | ${v.toFixed(0)} | ${pct(v, s.busyMs)} |`),
  ];
  return lines.join('\n');
}

function files(arg: string): string[] {
  if (statSync(arg).isDirectory()) return readdirSync(arg).filter((f) => f.endsWith('.cpuprofile')).sort().map((f) => join(arg, f));
  return [arg];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const ti = args.indexOf('--top');
  const topN = ti >= 0 ? Number(args.splice(ti, 2)[1]) : 15;
  for (const a of args) for (const f of files(a)) process.stdout.write(`${render(summarise(f, topN))}\n\n`);
}

/** DIR/summary.md: for every result row, the profiles of the process that produced it (main thread and
 * storage worker), restricted to the row's measurement window. Returns the file written. */
export function profileReport(dir: string, rows: { r: import('./report.ts').Result; pid: number }[], topN = 12): string {
  const all = files(dir);
  const out: string[] = [`# CPU profiles by result row (${new Date().toISOString()})`, ''];
  for (const { r, pid } of rows) {
    const mine = all.filter((f) => basename(f).split('.')[3] === String(pid));
    out.push(`## ${r.target} ${r.scenario} ${r.variant} (run ${r.run}): ${Math.round(r.value)} ${r.metric}, server CPU ${r.serverCpuPct.toFixed(0)}%`, '');
    if (!mine.length || r.monoStartUs === undefined) {
      out.push('(no profile of this process)', '');
      continue;
    }
    for (const f of mine) out.push(render(summarise(f, topN, [r.monoStartUs, r.monoEndUs!])), '');
  }
  const file = join(dir, 'summary.md');
  writeFileSync(file, `${out.join('\n')}\n`);
  return file;
}
