// Runs the walkthroughs of README.md and docs/keys.md as a reader would: the fenced `sh` blocks of a section,
// in order and unchanged, in bash. `pepkeys` and `npm` on PATH are small shims (bin/) that hand each command
// to this process, which runs the CLI in-process (test/cli/run-cli.ts) and sends back its output and exit
// code. What stands in for the reader:
// - `npm start` (a server in its own terminal) runs `pepkeys serve` here and returns once it serves; it is
//   stopped at the end. It listens on a free port, and the docs' 127.0.0.1:5222 is rewritten to it.
// - a reader waits for a background command (`key watch ... &`) to say it is ready before typing the next
//   one: a new command starts only once every running one has written its first line on stderr.
// - a password prompt is answered with the account's password (`answers`), as a reader types it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startCli, within, type CliRun } from '../cli/run-cli.ts';

export const DOCS_DEFAULT_SERVER = '127.0.0.1:5222';
const BIN = fileURLToPath(new URL('./bin/', import.meta.url));

/** The `sh` fenced blocks of the section of `file` that starts with `heading`, up to the next heading of its level. */
export function shBlocks(file: string, heading: string): string[] {
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`${file}: no section ${heading}`);
  const level = heading.slice(0, heading.indexOf(' ') + 1);
  const rest = text.slice(at + heading.length + 2);
  const next = rest.search(new RegExp(`^${level}`, 'm'));
  const section = next < 0 ? rest : rest.slice(0, next);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

export interface RunRecord {
  argv: string[];
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Active {
  run: CliRun;
  ready: Promise<void>;
  done: boolean;
}

export class DocsShell {
  readonly runs: RunRecord[] = [];
  private readonly active: Active[] = [];
  private server: Server | undefined;
  private port: number | undefined;

  constructor(private readonly dir: string, private readonly answers: Record<string, string>) {}

  /** Runs `script` in bash in `dir`; resolves with bash's exit code and output. */
  async bash(script: string, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const socketPath = `${this.dir}/.docs-runner.sock`;
    this.server = createServer((s) => this.serve(s));
    await new Promise<void>((r) => this.server!.listen(socketPath, r));
    const child = spawn('bash', ['-e', '-O', 'expand_aliases', '-c', script], {
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: `${BIN}:${process.env.PATH}`, HOME: this.dir, PEPKEYS_DOCS_RUNNER: socketPath },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await within(new Promise<number | null>((r) => child.once('close', (c) => r(c))), timeoutMs, `the walkthrough to finish; so far: ${stdout}${stderr}`)
      .catch((err: Error) => {
        child.kill('SIGKILL');
        throw err;
      });
    return { code, stdout, stderr };
  }

  /** Stops what still runs (the server) and the runner. */
  async close(): Promise<void> {
    for (const a of this.active) if (!a.done) a.run.stop();
    await Promise.all(this.active.map((a) => within(a.run.exited, 30_000, 'a run to stop')));
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private serve(socket: Socket): void {
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    socket.on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, i)) as { argv?: string[]; env?: Record<string, string>; cwd?: string; stdin?: string | null; stop?: string };
        buf = buf.slice(i + 1);
        if (msg.stop) current?.run.stop();
        else if (msg.argv) void this.start(msg as Required<typeof msg>, socket).then((a) => (current = a), (err: Error) => this.reply(socket, { stderr: `docs runner: ${err.message}\n`, exit: 98 }));
      }
    });
    let current: Active | undefined;
  }

  private reply(socket: Socket, m: Record<string, unknown>): void {
    if (!socket.destroyed) socket.write(`${JSON.stringify(m)}\n`);
  }

  private async start(msg: { argv: string[]; env: Record<string, string>; cwd: string; stdin: string | null }, socket: Socket): Promise<Active> {
    if (msg.cwd !== this.dir) throw new Error(`the walkthrough changed directory (${msg.cwd}); the in-process CLI runs in ${this.dir}`);
    // The reader waits for a background command's first line before typing the next one.
    await within(Promise.all(this.active.filter((a) => !a.done).map((a) => a.ready)), 30_000, `a background command to be ready before ${msg.argv.join(' ')}`);
    let argv = msg.argv.map((a) => (this.port !== undefined ? a.replaceAll(DOCS_DEFAULT_SERVER, `127.0.0.1:${this.port}`) : a));
    const serving = argv[0] === 'serve';
    if (serving && !argv.includes('--listen')) argv = [...argv, '--listen', '127.0.0.1:0'];
    const input = msg.stdin ?? this.answerFor(argv);
    let onReady!: () => void;
    const ready = new Promise<void>((r) => (onReady = r));
    const run = startCli(argv, {
      input,
      // The reader's ~/.pepkeys is the test directory's (bash runs with HOME there); in-process, os.homedir()
      // would be this process's.
      env: { PEPKEYS_HOME: `${this.dir}/.pepkeys`, ...msg.env },
      onStderr: (all) => {
        if (all.includes('\n')) onReady();
        const m = /^pepkeys serving .+ on (\S+):(\d+)/m.exec(all);
        if (serving && m && this.port === undefined) {
          this.port = Number(m[2]);
          // The server goes on "in its own terminal": the shell gets its prompt back.
          this.reply(socket, { stderr: all, exit: 0 });
        }
      },
    });
    const active: Active = { run, ready, done: false };
    this.active.push(active);
    void run.exited.then((r) => {
      active.done = true;
      onReady();
      this.runs.push({ argv, code: r.code, stdout: r.stdout, stderr: r.stderr });
      if (!serving) this.reply(socket, { stdout: r.stdout, stderr: r.stderr, exit: r.code ?? 1 });
    });
    return active;
  }

  /** What the reader types at a password prompt: the password of the account the command names. */
  private answerFor(argv: string[]): string | undefined {
    for (const a of argv) if (this.answers[a] !== undefined) return `${this.answers[a]}\n`;
    return undefined;
  }
}
