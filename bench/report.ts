// Measurements around a scenario (server CPU from /proc/PID/stat, RSS from /proc/PID/status, the generator's
// own CPU from process.cpuUsage) and the output: one JSON line per result, then a table with ratios.
import { readFileSync } from 'node:fs';

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux x86-64

export function procCpuSeconds(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields 14 and 15 (utime, stime) → indexes 11, 12 after the command
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

export function procRssKB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

export interface Result {
  target: string;
  scenario: string;
  variant: string;
  /** Headline metric name and value (e.g. items/s). */
  metric: string;
  value: number;
  p50Ms?: number;
  p99Ms?: number;
  extra: Record<string, number | string>;
  valid: boolean;
  problems: string[];
  seconds: number;
  serverCpuPct: number;
  generatorCpuPct: number;
  serverRssMB: number;
  run: number;
  /** The measurement window on CLOCK_MONOTONIC in µs (the clock of V8's profile timestamps), so `--profile`
   * can summarise just that window of the server's profile. */
  monoStartUs?: number;
  monoEndUs?: number;
}

const monoUs = () => Number(process.hrtime.bigint() / 1000n);

export class Meter {
  private t0 = 0;
  private m0 = 0;
  private s0 = 0;
  private g0 = process.cpuUsage();
  constructor(private readonly pid: number) {}
  start(): void {
    this.t0 = performance.now();
    this.m0 = monoUs();
    this.s0 = procCpuSeconds(this.pid);
    this.g0 = process.cpuUsage();
  }
  stop(): { seconds: number; serverCpuPct: number; generatorCpuPct: number; serverRssMB: number; monoStartUs: number; monoEndUs: number } {
    const monoEndUs = monoUs();
    const seconds = (performance.now() - this.t0) / 1000;
    const s = procCpuSeconds(this.pid) - this.s0;
    const g = process.cpuUsage(this.g0);
    return {
      seconds,
      serverCpuPct: (100 * s) / seconds,
      generatorCpuPct: (100 * (g.user + g.system)) / 1e6 / seconds,
      serverRssMB: procRssKB(this.pid) / 1024,
      monoStartUs: this.m0,
      monoEndUs,
    };
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function latencyStats(samples: number[]): { p50Ms: number; p99Ms: number } {
  const s = Float64Array.from(samples).sort();
  return { p50Ms: percentile(Array.from(s), 50), p99Ms: percentile(Array.from(s), 99) };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n) ? '-' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(n < 10 ? Math.max(digits, 2) : 1);

/**
 * Groups results by scenario+variant, takes medians over runs, prints a table with ratios: `pepkeys ×` against
 * the `pepkeys` target (the others' durability), `fsync ×` against `pepkeys-fsync` when it ran (power-loss
 * durability, which the others do not offer). A ratio says how many times better pepkeys is than that row.
 */
export function table(results: Result[]): string {
  const groups = new Map<string, Map<string, Result[]>>();
  for (const r of results) {
    const key = `${r.scenario} ${r.variant}`;
    if (!groups.has(key)) groups.set(key, new Map());
    const g = groups.get(key)!;
    if (!g.has(r.target)) g.set(r.target, []);
    g.get(r.target)!.push(r);
  }
  const withFsync = results.some((r) => r.target === 'pepkeys-fsync');
  // srv CPU µs/op: the server's CPU time per operation (CPU% / throughput). On a shared, loaded machine this
  // moves far less than the throughput does (waiting for a core costs no CPU time), so it is the figure to
  // compare servers by when the machine is busy.
  const head = ['scenario', 'target', 'runs', 'metric', 'median', 'p50 ms', 'p99 ms', 'srv CPU%', 'srv CPU µs/op', 'gen CPU%', 'srv RSS MB', 'valid', 'pepkeys ×'];
  const rows: string[][] = [withFsync ? [...head, 'fsync ×'] : head];
  const ours = ['pepkeys', ...(withFsync ? ['pepkeys-fsync'] : [])];
  for (const [key, byTarget] of groups) {
    const medians = ours.map((t) => {
      const rs = byTarget.get(t);
      return rs ? median(rs.map((r) => r.value)) : NaN;
    });
    for (const [target, rs] of byTarget) {
      const m = median(rs.map((r) => r.value));
      const lowerIsBetter = rs[0]!.metric.startsWith('KB');
      const ratios = medians.map((o) => (ours.includes(target) || Number.isNaN(o) ? '' : lowerIsBetter ? (m / o).toFixed(2) : (o / m).toFixed(2)));
      rows.push([
        key,
        target,
        String(rs.length),
        rs[0]!.metric,
        fmt(m),
        fmt(median(rs.map((r) => r.p50Ms ?? NaN))),
        fmt(median(rs.map((r) => r.p99Ms ?? NaN))),
        fmt(median(rs.map((r) => r.serverCpuPct))),
        lowerIsBetter ? '-' : fmt(median(rs.map((r) => (r.serverCpuPct / 100 / r.value) * 1e6))),
        fmt(median(rs.map((r) => r.generatorCpuPct))),
        fmt(median(rs.map((r) => r.serverRssMB))),
        rs.every((r) => r.valid) ? 'yes' : 'NO',
        ...ratios,
      ]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r, n) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |${n === 0 ? `\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|` : ''}`).join('\n');
}
