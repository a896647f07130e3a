// pepkeys as a benchmark target: our own CLI (`pepkeys serve`, the compiled build) in a child process with its own data dir in a
// temp dir, SQLite storage (WAL), no rate limits, STARTTLS offered but not required, SASL allowed on the plain
// loopback stream. Accounts are written straight into its storage.
//
// Two durability levels, two target names:
// - `pepkeys`: storage.sync = "normal". A publish is acknowledged once it is in the write-ahead log, which
//   survives a crash of the server but not of the machine. That is what Prosody and ejabberd give: traced
//   with strace during their publish runs, Prosody writes a file and renames it per publish and ejabberd
//   appends to mnesia's log, neither calls fsync or fdatasync per publish (ejabberd 9 in 8 s, Prosody none).
//   So this is the comparable configuration, and the ratios are computed against it.
// - `pepkeys-fsync`: storage.sync = "full", the default of a fresh install: every acknowledged write is
//   fdatasynced first and survives power loss, which neither of the others offers.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { deriveCredentials, openStorage, resolveConfig } from '../../src/server/index.ts';
import type { AccountCredentials } from '../../src/storage/types.ts';
import { benchCert } from './tls-cert.ts';
import { PASSWORD, freePort, killPid, spawnLogged, waitForPort, type Account, type Target } from './common.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let built = false;

export interface PepkeysOptions {
  /** Directory for --cpu-prof output; profiling is off without it. */
  cpuProfDir?: string;
  /** storage.sync: "normal" (the others' durability, target `pepkeys`) or "full" (fsync, `pepkeys-fsync`). */
  sync?: 'normal' | 'full';
  /** `--tls`: the shared bench certificate (STARTTLS is offered either way; the generator decides). */
  tls?: boolean;
}

export class PepkeysTarget implements Target {
  readonly name: string;
  readonly domain = 'localhost';
  port = 0;
  wsUrl: string | undefined;
  readonly mutual = new Set<string>();
  private dir = '';
  private child: ChildProcess | undefined;
  private log: string[] = [];
  private accounts = new Set<string>();
  private creds: AccountCredentials | undefined;

  private readonly sync: 'normal' | 'full';

  constructor(private readonly opts: PepkeysOptions = {}) {
    this.sync = opts.sync ?? 'normal';
    this.name = this.sync === 'full' ? 'pepkeys-fsync' : 'pepkeys';
  }

  pid(): number {
    return this.child?.pid ?? 0;
  }

  describe(): string {
    const durability = this.sync === 'full'
      ? 'fdatasync of every group commit before acknowledging (survives power loss)'
      : 'acknowledged once in the WAL, no fsync per write (survives a server crash, like the others)';
    const extra = process.env.PEPKEYS_BENCH_CONFIG ? `, extra config: ${process.env.PEPKEYS_BENCH_CONFIG.replace(/\s+/g, ' ')}` : '';
    const args = process.env.PEPKEYS_BENCH_NODE_ARGS ? `, node ${process.env.PEPKEYS_BENCH_NODE_ARGS.trim()}` : '';
    return `${this.name}: pepkeys ${process.version}, SQLite WAL, ${durability}${extra}${args}`;
  }

  private configPath(): string {
    return join(this.dir, 'pepkeys.toml');
  }

  async start(): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), 'bench-pepkeys-'));
    this.port = await freePort();
    const httpPort = await freePort();
    this.wsUrl = `ws://127.0.0.1:${httpPort}/xmpp-websocket`;
    writeFileSync(
      this.configPath(),
      [
        // A/B runs of a setting: extra top-level TOML, before the tables below, so dotted keys work
        // (e.g. 'storage.thread = "worker"').
        process.env.PEPKEYS_BENCH_CONFIG ?? '',
        `hosts = ["${this.domain}"]`,
        `storage.sync = "${this.sync}"`,
        `data_dir = "${join(this.dir, 'data')}"`,
        `log_level = "warn"`,
        ...(this.opts.tls ? [`tls.cert = "${benchCert().certPath}"`, `tls.key = "${benchCert().keyPath}"`] : []),
        `[c2s]`,
        `listen = ["127.0.0.1:${this.port}"]`,
        `require_tls = false`,
        `insecure_plain_auth = true`,
        `idle_timeout_seconds = 0`,
        `preauth_timeout_seconds = 600`,
        `[http]`,
        `listen = ["127.0.0.1:${httpPort}"]`,
        `[limits]`,
        `auth_failure_delay_ms = 0`,
        // No rate limits, like the other targets.
        `max_connections_per_ip = 0`,
        `max_sessions_per_account = 100000`,
        `stanzas_per_second = 0`,
        `bytes_per_second = 0`,
        `preauth_bytes_per_second = 0`,
        `preauth_bytes_per_second_per_ip = 0`,
        `max_failed_logins = 1000000`,
        '',
      ].join('\n'),
    );
    mkdirSync(join(this.dir, 'data'), { recursive: true });
    const nodeArgs = ['--max-old-space-size=8192'];
    // A/B runs of a V8 flag, or diagnostics (--trace-gc, --heap-prof, --import a probe): extra node arguments.
    if (process.env.PEPKEYS_BENCH_NODE_ARGS) nodeArgs.push(...process.env.PEPKEYS_BENCH_NODE_ARGS.trim().split(/\s+/));
    if (this.opts.cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${this.opts.cpuProfDir}`);
    // What `npm start` runs: the compiled build, brought up to date once per harness run (idle restarts
    // the target for every run).
    if (!built) {
      execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: ['ignore', 2, 2] });
      built = true;
    }
    this.child = spawnLogged(process.execPath, [...nodeArgs, join(ROOT, 'dist/cli/main.js'), 'serve', '--config', this.configPath()], { cwd: ROOT, log: this.log });
    let exited = false;
    this.child.once('exit', () => (exited = true));
    try {
      await waitForPort(this.port, 120000, () => !exited);
    } catch (e) {
      throw new Error(`pepkeys did not start: ${(e as Error).message}\n${this.log.join('').slice(-2000)}`);
    }
  }

  async ensureAccounts(list: Account[]): Promise<void> {
    const todo = list.filter((a) => !this.accounts.has(a.user));
    if (todo.length === 0) return;
    // One derivation for every account (same password): the bench measures the server, not PBKDF2 here.
    this.creds ??= deriveCredentials(PASSWORD);
    const config = resolveConfig(this.configPath());
    const storage = await openStorage(config);
    try {
      await Promise.all(todo.map((a) => storage.accounts.create(`${a.user}@${this.domain}`, a.password === PASSWORD ? this.creds! : deriveCredentials(a.password)).catch(() => undefined)));
    } finally {
      await storage.close();
    }
    for (const a of todo) this.accounts.add(a.user);
  }

  async stop(): Promise<void> {
    // SIGTERM: the CLI stops cleanly (and writes the CPU profile when profiling).
    if (this.child?.pid) await killPid(this.child.pid, 30000);
    this.child = undefined;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
