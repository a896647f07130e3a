// Runs the `pepkeys` program as the tests use it: in-process by default (the commander program with captured
// stdout/stderr, a string as stdin, an AbortSignal as SIGTERM; see src/cli/io.ts), and as a real child process
// for the few smoke tests of bin/ and of signal handling. Hard timeouts make a hung run fail its test instead
// of the suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/cli/program.ts';
import type { CliIo } from '../../src/cli/io.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MAIN = ['--import', 'tsx', 'src/cli/main.ts'];
export const BIN = ['bin/pepkeys.js'];

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to stdin, which is then closed; stdin is closed empty when absent. */
  input?: string;
  /** Run as a child process with these node arguments (e.g. BIN or MAIN) instead of in-process. */
  entry?: string[];
  /** Extra environment variables (on top of this process's). */
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** A run in progress: output so far, a way to stop it (SIGTERM), and its end. */
export interface CliRun {
  stdout(): string;
  stderr(): string;
  /** Delivers SIGTERM (in-process: aborts the run's signal). */
  stop(): void;
  exited: Promise<CliResult>;
}

/** Starts the program in-process; `onStderr` sees the stderr written so far after each write. */
/**
 * `serve` listens for HTTP on 127.0.0.1:5280 by default: test servers take a free port instead, so that
 * parallel tests (and a server the developer runs) never collide.
 */
export function freeHttpPort(args: string[]): string[] {
  return args[0] === 'serve' && !args.includes('--http-listen') ? [...args, '--http-listen', '127.0.0.1:0'] : args;
}

export function startCli(args: string[], opts: { input?: string; env?: Record<string, string>; onStderr?: (all: string) => void } = {}): CliRun {
  args = freeHttpPort(args);
  let stdout = '';
  let stderr = '';
  const stop = new AbortController();
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s, true) },
    stderr: {
      write: (s: string) => {
        stderr += s;
        opts.onStderr?.(stderr);
        return true;
      },
    },
    stdin: Readable.from(opts.input ? [Buffer.from(opts.input)] : []),
    env: { ...process.env, ...opts.env },
    // Aborting stands for SIGTERM only: one stop request, as a supervisor sends it.
    onSignal(signal, handler) {
      if (signal !== 'SIGTERM') return () => {};
      const h = () => handler(signal);
      stop.signal.addEventListener('abort', h, { once: true });
      return () => stop.signal.removeEventListener('abort', h);
    },
  };
  const exited = run(['node', 'pepkeys', ...args], io).then((code) => ({ code, signal: null, stdout, stderr }));
  return { stdout: () => stdout, stderr: () => stderr, stop: () => stop.abort(), exited };
}

export function runCli(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  if (opts.entry) return spawnCli(args, opts.entry, opts, timeoutMs);
  const r = startCli(args, opts);
  return within(r.exited, timeoutMs, `pepkeys ${args.join(' ')} to finish`);
}

function spawnCli(args: string[], entry: string[], opts: RunOptions, timeoutMs: number): Promise<CliResult> {
  const child = spawn(process.execPath, [...entry, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => {}); // the CLI may close stdin after the first line
  child.stdin.end(opts.input ?? '');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pepkeys ${args.join(' ')} did not finish within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', (e) => (clearTimeout(timer), reject(e)));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Stderr lines, without the trailing empty one. */
export function lines(s: string): string[] {
  return s.split('\n').filter((l) => l.length > 0);
}

export interface ServeProcess {
  child: ChildProcess;
  host: string;
  port: number;
  stderr: () => string;
  /** Resolves with the exit code and signal once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `pepkeys serve ...` as a child process and waits for its "pepkeys serving ... on HOST:PORT" line. */
export function startServe(args: string[], timeoutMs = 90_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [...MAIN, ...freeHttpPort(['serve', ...args])], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not report its address within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const m = /^pepkeys serving .+ on (\S+):(\d+)/m.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve({ child, host: m[1]!, port: Number(m[2]), stderr: () => stderr, exited });
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`serve exited early (code ${code}, signal ${signal}); stderr: ${stderr}`));
    });
  });
}

/** Kills a `serve` child that a test left running (after a failure) and waits for it to go. */
export async function killServe(srv: ServeProcess | undefined): Promise<void> {
  if (!srv || srv.child.exitCode !== null || srv.child.signalCode !== null) return;
  srv.child.kill('SIGKILL');
  await within(srv.exited, 10_000, 'the killed server to exit').catch(() => {});
}

/** Bounds a promise so a missing event fails the test with a message instead of hanging it. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}
