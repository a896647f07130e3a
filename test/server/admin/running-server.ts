// A server started the way `pepkeys serve` starts it (startServer: data directory lock, SQLite, admin
// socket) on a temporary data directory, with the CLI run in-process against the same directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type XmppServer } from '../../../src/server/index.ts';
import { parseConfig } from '../../../src/server/config.ts';
import { deriveCredentials } from '../../../src/server/core/sasl/index.ts';
import { runCli, type CliResult } from '../../cli/run-cli.ts';

export interface RunningServer {
  server: XmppServer;
  data: string;
  port: number;
  /** `pepkeys ARGS --data DATA`, in-process. */
  cli(args: string[], input?: string): Promise<CliResult>;
  addUser(jid: string, password: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startRunningServer(hosts: string[], config: Record<string, unknown> = {}): Promise<RunningServer> {
  const root = mkdtempSync(join(tmpdir(), 'pepkeys-admin-'));
  const data = join(root, 'data');
  const { server, addresses } = await startServer(parseConfig({
    hosts, data_dir: data, log_level: process.env.PEPKEYS_TEST_LOG ?? 'silent',
    c2s: { listen: ['127.0.0.1:0'], tls_listen: [], require_tls: false, insecure_plain_auth: true },
    http: { listen: [] },
    ...config,
  }));
  let stopped = false;
  return {
    server, data, port: addresses.c2s[0]!.port,
    cli: (args, input) => runCli([...args, '--data', data], { input }),
    // Low iteration count: the tests are about the lifecycle, not PBKDF2's cost.
    addUser: (jid, password) => server.storage.accounts.create(jid, deriveCredentials(password, 4096)),
    async stop() {
      if (!stopped) {
        stopped = true;
        await server.stop();
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
