// A server for the console's browser tests, started as `pepkeys serve` starts it: c2s without TLS (for the
// Node clients of a test), an HTTP listener serving the built console at / and RFC 7395 at /xmpp-websocket,
// and the given accounts, all with one password.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, parseConfig, deriveCredentials, type XmppServer } from '../../src/server/index.ts';
import { buildConsole } from '../../scripts/build-console.mjs';

export interface ConsoleServer {
  server: XmppServer;
  /** The console's URL. */
  url: string;
  c2sPort: number;
  stop(): Promise<void>;
}

export async function startConsoleServer(accounts: string[], password: string): Promise<ConsoleServer> {
  await buildConsole();
  const dir = await mkdtemp(join(tmpdir(), 'pepkeys-console-'));
  const config = parseConfig({
    hosts: ['localhost'],
    data_dir: dir,
    log_level: process.env.PEPKEYS_TEST_LOG ?? 'silent',
    c2s: { listen: ['127.0.0.1:0'], require_tls: false, insecure_plain_auth: true },
    http: { listen: ['127.0.0.1:0'] },
  });
  const started = await startServer(config);
  const server = started.server;
  for (const u of accounts) await server.storage.accounts.create(u, deriveCredentials(password, 4096));
  return {
    server,
    url: `http://127.0.0.1:${started.http[0]!.port}/`,
    c2sPort: started.addresses.c2s[0]!.port,
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
