// A cluster node as its own `pepkeys serve` process (kill -9 and SIGSTOP need a process of its own), on the
// PostgreSQL and NATS of a ClusterEnv. Its data directory gets `saslSecret` when given, as an operator copies
// it from the first node. kill() ends it (SIGKILL) and removes its directory; call it in after().
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './nats.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'src/cli/main.ts');

export interface ChildNode {
  readonly process: ChildProcess;
  /** Client port (plain, insecure PLAIN allowed as in tests). */
  readonly port: number;
  /** Server-to-server port, when `s2s` was asked for (0 otherwise). */
  readonly s2sPort: number;
  /** What it printed so far. */
  output(): string;
  /** SIGKILL (if still running), then removes its data directory. */
  kill(): Promise<void>;
}

export interface ChildNodeOptions {
  id: string;
  host: string;
  dbUrl: string;
  busUrl: string;
  cluster?: Record<string, number>;
  saslSecret?: Buffer;
  /** Listen for server-to-server streams, with these static routes (remote domain → host:port). */
  s2s?: { routes: Record<string, string> };
}

export async function startChildNode(o: ChildNodeOptions): Promise<ChildNode> {
  const dir = mkdtempSync(join(tmpdir(), `pepkeys-node-${o.id}-`));
  const data = join(dir, 'data');
  mkdirSync(data, { mode: 0o700 });
  if (o.saslSecret) writeFileSync(join(data, 'sasl-secret'), o.saslSecret, { mode: 0o600 });
  const port = await freePort();
  const s2sPort = o.s2s ? await freePort() : 0;
  const lines = [
    '[c2s]', 'tls_listen = []', '',
    '[limits]', 'stanzas_per_second = 0', 'bytes_per_second = 0', 'max_connections_per_ip = 0', '',
    '[storage]', 'driver = "postgres"', `url = "${o.dbUrl}"`, '',
    '[cluster]', 'enabled = true', `node_id = "${o.id}"`, `bus_url = "${o.busUrl}"`,
    ...Object.entries(o.cluster ?? {}).map(([k, v]) => `${k} = ${v}`), '',
  ];
  if (o.s2s) {
    lines.push('[s2s]', `listen = ["127.0.0.1:${s2sPort}"]`, '', '[s2s.routes]', ...Object.entries(o.s2s.routes).map(([d, hp]) => `"${d}" = "${hp}"`), '');
  }
  writeFileSync(join(dir, 'pepkeys.toml'), lines.join('\n'));
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--config', join(dir, 'pepkeys.toml'), '--data', data, '--host', o.host,
    '--listen', `127.0.0.1:${port}`, '--insecure-plain-auth', '--log-level', 'warn'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return {
    process: child,
    port,
    s2sPort,
    output: () => out,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
