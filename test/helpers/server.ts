// Starts a real pepkeys server in-process on ephemeral loopback ports, for tests that talk to it over TCP.
import { XmppServer } from '../../src/server/core/server.ts';
import { parseConfig, type ServerConfig } from '../../src/server/config.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { createLogger, type Logger } from '../../src/server/core/logger.ts';
import { deriveCredentials } from '../../src/server/core/sasl/index.ts';
import { generateSelfSigned, type TlsCredentials } from '../../src/server/core/tls-credentials.ts';
import { createMemoryStorage } from '../../src/storage/memory/index.ts';
import type { Storage } from '../../src/storage/types.ts';
import type { ModuleDefinition } from '../../src/server/core/module-host.ts';
import { RawClient } from './raw-client.ts';
import { HttpListener } from '../../src/server/http/listener.ts';
import { addWebEndpoints } from '../../src/server/http/web-endpoints.ts';
import { tlsOptions } from '../../src/server/core/tls-credentials.ts';

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
  /** The HTTP listener with the WebSocket endpoint and host-meta, when started with `web: true`. */
  web?: TestWeb;
}

export interface TestWeb {
  http: HttpListener;
  httpPort: number;
  httpsPort: number;
  /** ws://127.0.0.1:PORT/xmpp-websocket */
  wsUrl: string;
  /** wss://127.0.0.1:PORT/xmpp-websocket (the test certificate: clients must not verify it) */
  wssUrl: string;
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
  /** Also serve HTTP and HTTPS on 127.0.0.1:0 with the WebSocket endpoint (RFC 7395) and host-meta; `config.http` applies. */
  web?: boolean;
  /** The SASL secret (data_dir/sasl-secret of a real node); cluster nodes share one (docs/cluster.md). */
  saslSecret?: Buffer;
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
    saslSecret: opts.saslSecret,
  });
  const addrs = await server.start();
  const web = opts.web ? await startTestWeb(server, config) : undefined;
  return {
    server,
    storage,
    port: addrs.c2s[0]!.port,
    tlsPort: addrs.tls[0]!.port,
    s2sPort: addrs.s2s[0]?.port ?? 0,
    s2sTlsPort: addrs.s2sTls?.[0]?.port ?? 0,
    addUser,
    stop: async () => {
      await server.stop();
      await web?.http.close();
    },
    web,
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

/** The HTTP side as `pepkeys serve` wires it (http/web-endpoints.ts), on ephemeral loopback ports. */
async function startTestWeb(server: XmppServer, config: ServerConfig): Promise<TestWeb> {
  const http = new HttpListener(server.logger);
  addWebEndpoints(http, config, server.logger, () => server);
  const httpPort = (await http.listen('127.0.0.1:0')).port;
  const httpsPort = (await http.listenTls('127.0.0.1:0', tlsOptions(await testTls()))).port;
  server.onTlsReload((creds) => http.reloadTls(tlsOptions(creds)));
  return { http, httpPort, httpsPort, wsUrl: `ws://127.0.0.1:${httpPort}/xmpp-websocket`, wssUrl: `wss://127.0.0.1:${httpsPort}/xmpp-websocket` };
}
