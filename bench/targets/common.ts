// What every benchmark target provides, and process helpers shared by the three of them.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';

export interface Account {
  user: string;
  password: string;
}

export interface Target {
  readonly name: string;
  readonly domain: string;
  /** c2s port on 127.0.0.1. */
  port: number;
  /** The WebSocket endpoint (RFC 7395), for the ws-* scenarios. */
  wsUrl?: string;
  /** Operating-system pid of the server process itself (for /proc CPU and RSS). */
  pid(): number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Creates accounts that do not exist yet (idempotent per target instance). */
  ensureAccounts(accounts: Account[]): Promise<void>;
  /** Mutual presence subscriptions already established on this instance ("a|b", bare JIDs sorted). */
  readonly mutual: Set<string>;
  /**
   * Optional fast path for setup: mutual subscriptions between `hub` and `contacts` (user names) made
   * without the handshake, before those accounts first log in; false when it cannot (then the handshake).
   */
  provisionMutual?(hub: string, contacts: string[]): Promise<boolean>;
  /** One line on versions and durability settings, for the report. */
  describe(): string;
}

export const PASSWORD = 'bench-password';

export function account(user: string): Account {
  return { user, password: PASSWORD };
}

/** A free TCP port on 127.0.0.1 (bind to 0 and release). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once 127.0.0.1:port accepts connections; bounded by timeoutMs. */
export async function waitForPort(port: number, timeoutMs: number, alive?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (alive && !alive()) throw new Error('server process exited during start-up');
    const ok = await new Promise<boolean>((resolve) => {
      const c = createConnection({ host: '127.0.0.1', port });
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function spawnLogged(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; log: string[] }): ChildProcess {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer) => {
    opts.log.push(d.toString());
    if (opts.log.length > 200) opts.log.splice(0, opts.log.length - 200);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return child;
}

/** Kills one process by pid and waits (bounded) for it to go away. */
export async function killPid(pid: number, timeoutMs = 10000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return;
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}
