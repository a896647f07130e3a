// Starts a real pepkeys server in-process on ephemeral loopback ports, for tests that talk to it over TCP.
import { XmppServer } from '../../src/server/core/server.ts';
import { parseConfig } from '../../src/server/config.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { createLogger, type Logger } from '../../src/server/core/logger.ts';
import { deriveCredentials } from '../../src/server/core/sasl/index.ts';
import { generateSelfSigned, type TlsCredentials } from '../../src/server/core/tls-credentials.ts';
import { createMemoryStorage } from '../../src/storage/memory/index.ts';
import type { Storage } from '../../src/storage/types.ts';
import type { ModuleDefinition } from '../../src/server/core/module-host.ts';
import { RawClient } from './raw-client.ts';

let tlsOnce: Promise<TlsCredentials> | undefined;
/** One self-signed certificate per test process (generation is the slow part). */
export function testTls(): Promise<TlsCredentials> {
  return (tlsOnce ??= generateSelfSigned(['localhost', 'capulet.lit', 'montague.lit', 'example.com']));
}

export interface TestServer {
  server: XmppServer;
  storage: Storage;
  port: number;
  tlsPort: number;
  /** The server-to-server port, when the config enables s2s (0 otherwise). */
  s2sPort: number;
  /** The direct-TLS server-to-server port (s2s.tls_listen), 0 without one. */
  s2sTlsPort: number;
  addUser(jid: string, password: string): Promise<void>;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  hosts?: string[];
  users?: Record<string, string>;
  config?: Record<string, unknown>;
  storage?: Storage;
  modules?: ModuleDefinition[];
  /** Offer SASL without TLS (most protocol tests); default true. */
  insecure?: boolean;
  /** Certificate and key (default: the process-wide self-signed testTls()). */
  tls?: TlsCredentials;
  /** The server's logger (default: one at PEPKEYS_TEST_LOG, silent); see log-capture.ts to read its lines. */
  logger?: Logger;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const insecure = opts.insecure ?? true;
  const config = parseConfig({
    hosts: opts.hosts ?? ['localhost'],
    log_level: process.env.PEPKEYS_TEST_LOG ?? 'silent',
    ...opts.config,
    c2s: { listen: ['127.0.0.1:0'], tls_listen: ['127.0.0.1:0'], require_tls: !insecure, insecure_plain_auth: insecure, ...((opts.config?.c2s as object) ?? {}) },
    limits: { auth_failure_delay_ms: 20, ...((opts.config?.limits as object) ?? {}) },
  });
  const storage = opts.storage ?? createMemoryStorage();
  // Test accounts use a low iteration count: the SCRAM exchange is what is tested, not PBKDF2's cost.
  const addUser = (jid: string, password: string) => storage.accounts.create(jid, deriveCredentials(password, 4096));
  for (const [jid, pw] of Object.entries(opts.users ?? {})) await addUser(jid, pw);
  const server = new XmppServer({
    config,
    storage,
    modules: opts.modules ?? defaultModules(),
    tls: opts.tls ?? (await testTls()),
    logger: opts.logger ?? createLogger(config.log_level),
  });
  const addrs = await server.start();
  return {
    server,
    storage,
    port: addrs.c2s[0]!.port,
    tlsPort: addrs.tls[0]!.port,
    s2sPort: addrs.s2s[0]?.port ?? 0,
    s2sTlsPort: addrs.s2sTls?.[0]?.port ?? 0,
    addUser,
    stop: () => server.stop(),
  };
}

/**
 * Raw client sessions on a test server (`server` is read when a session is opened, so it may be assigned in
 * `before`): `login` connects and binds one, `destroyAll` drops every one opened so far.
 */
export function rawSessions(server: () => TestServer) {
  const clients: RawClient[] = [];
  return {
    clients,
    async login(user: string, resource: string, password = 'pw', domain = 'localhost'): Promise<RawClient> {
      const c = await RawClient.connect(server().port);
      clients.push(c);
      await c.login(`${user}@${domain}`, password, resource);
      return c;
    },
    destroyAll(): void {
      for (const c of clients.splice(0)) c.destroy();
    },
  };
}
