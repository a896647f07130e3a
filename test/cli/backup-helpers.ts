// Shared by the ops tests (backup, restore, check, cert): scratch directories, and `pepkeys serve` in this
// process on a data directory (its lock file then names this process's pid).
import { after, before } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, within, type CliRun } from './run-cli.ts';
import { XmppClient } from '../../src/client/index.ts';

/** Registers a temp root for the file (removed after it) and returns a maker of fresh 0700 directories in it. */
export function scratchDirs(prefix: string): () => string {
  let root: string | undefined;
  let n = 0;
  before(() => {
    root = mkdtempSync(join(tmpdir(), prefix));
  });
  after(() => rmSync(root!, { recursive: true, force: true }));
  return () => {
    const d = join(root!, `case-${++n}`);
    mkdirSync(d, { mode: 0o700 });
    return d;
  };
}

export interface InProcessServer {
  run: CliRun;
  port: number;
  stop(): Promise<void>;
}

export async function serveInProcess(dir: string, host = 'localhost', extra: string[] = []): Promise<InProcessServer> {
  let serving!: () => void;
  const up = new Promise<void>((r) => (serving = r));
  const run = startCli(['serve', '--data', dir, '--listen', '127.0.0.1:0', '--host', host, '--insecure-plain-auth', '--log-level', 'silent', ...extra], {
    onStderr: (all) => {
      if (/^pepkeys serving .+ on 127\.0\.0\.1:\d+/m.test(all)) serving();
    },
  });
  await within(Promise.race([up, run.exited.then((x) => { throw new Error(`serve ended early: ${x.stderr}`); })]), 30_000, 'serve to start');
  const port = Number(/^pepkeys serving .+ on 127\.0\.0\.1:(\d+)/m.exec(run.stderr())![1]);
  return {
    run,
    port,
    async stop() {
      run.stop();
      const { code, stderr } = await within(run.exited, 15_000, 'serve to stop');
      if (code !== 0) throw new Error(`serve exited ${code}: ${stderr}`);
    },
  };
}

/** Starts `pepkeys serve` on `dir` with `config`, logs juliet@localhost (password pw) in, runs `ask`, stops. */
export async function askServed<T>(dir: string, config: string, ask: (c: XmppClient) => Promise<T>): Promise<T> {
  const srv = await serveInProcess(dir, 'localhost', ['--config', config]);
  try {
    const c = await XmppClient.connect({ host: '127.0.0.1', port: srv.port, tls: { rejectUnauthorized: false }, jid: 'juliet@localhost', password: 'pw', resource: 'kt' });
    try {
      return await ask(c);
    } finally {
      await c.close();
    }
  } finally {
    await srv.stop();
  }
}
