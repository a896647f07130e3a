// Runs the real `pepkeys` command as a child process, as an operator would, with hard timeouts so a hung
// child fails the test instead of the suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
  /** Node arguments selecting the entry point; defaults to `node --import tsx src/cli/main.ts`. */
  entry?: string[];
  timeoutMs?: number;
}

export function runCli(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [...(opts.entry ?? MAIN), ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => {}); // the CLI may close stdin after the first line
  child.stdin.end(opts.input ?? '');
  const timeoutMs = opts.timeoutMs ?? 30_000;
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

/** Starts `pepkeys serve ...` and waits for its "pepkeys serving ... on HOST:PORT" line. */
export function startServe(args: string[], timeoutMs = 30_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [...MAIN, 'serve', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
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
