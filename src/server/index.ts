// pepkeys/server: build and start an XMPP server from a configuration.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { Storage } from '../storage/types.ts';
import { openSqliteStorage } from '../storage/sqlite/index.ts';
import { openSqliteWorkerStorage } from '../storage/sqlite/worker-storage.ts';
import { openPostgresStorage } from '../storage/postgres/index.ts';
import { ConfigError, storagePath, type ServerConfig } from './config.ts';
import { XmppServer, type ListenAddresses } from './core/server.ts';
import { createLogOutput, type Logger } from './core/logger.ts';
import { HttpListener } from './http/listener.ts';
import { serveConsole } from './http/console-static.ts';
import { addOperatorEndpoints } from './http/operator-endpoints.ts';
import { addWebEndpoints } from './http/web-endpoints.ts';
import { ServerMetrics } from './metrics/server-metrics.ts';
import { loadTlsCredentials, tlsOptions, type TlsCredentials } from './core/tls-credentials.ts';
import { loadSaslSecret } from './core/sasl/secret.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { AdminSocketInUseError, listenAdminSocket } from './admin/socket.ts';
import { adminSocketPath } from './admin/protocol.ts';
import { transparencyModule } from './modules/transparency/index.ts';
import { defaultModules } from './modules/index.ts';
import type { ModuleDefinition } from './core/module-host.ts';

export { XmppServer, validateModuleOptions, type ListenAddresses, type ServerState } from './core/server.ts';
export { createLogOutput, type LogOutput, type LogOptions } from './core/logger.ts';
export { ServerMetrics } from './metrics/server-metrics.ts';
export { loadTlsCredentials } from './core/tls-credentials.ts';
export { defineModule, serviceKey, type ModuleApi, type ModuleDefinition, type ServiceKey } from './core/module-host.ts';
export type { IqContext, StanzaContext } from './core/stanza-context.ts';
export type { ServerEvents } from './core/events.ts';
export { createSessionKey, type ModuleSession, type SessionKey } from '../cluster/index.ts';
export { parseConfig, resolveConfig, ConfigError, type ServerConfig } from './config.ts';
export { defaultModules } from './modules/index.ts';
export { deriveCredentials, verifyPassword } from './core/sasl/index.ts';

export interface OpenStorageOptions {
  /** Run SQLite on this thread whatever storage.thread says (short-lived commands: no thread to start). */
  inThread?: boolean;
  /** The SQLite worker thread died: storage is gone for good. */
  onFatal?: (err: Error) => void;
  /** Start new transparency logs although the transparency file is missing (`serve --new-logs`; SQLite). */
  newLogs?: boolean;
}

/** Opens the configured storage: the SQLite file (created with its directory) or the PostgreSQL database. */
export async function openStorage(config: ServerConfig, opts: OpenStorageOptions = {}): Promise<Storage> {
  if (config.storage.driver === 'postgres') {
    // The schema guarantees url for this driver; migrations run (under an advisory lock) before this resolves.
    return openPostgresStorage({ connectionString: config.storage.url! });
  }
  const path = storagePath(config);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const options = { path, synchronous: config.storage.sync === 'normal' ? 'NORMAL' : 'FULL', newLogs: opts.newLogs } as const;
  if (config.storage.thread === 'main' || opts.inThread) return openSqliteStorage(options);
  return openSqliteWorkerStorage({ ...options, onFatal: opts.onFatal });
}

export interface StartOptions {
  storage?: Storage;
  logger?: Logger;
  modules?: ModuleDefinition[];
  /** After the server stopped because its SQLite storage thread died (it has been logged). */
  onStorageLost?: (err: Error) => void;
  /** Start new transparency logs although the transparency file is missing (`serve --new-logs`; SQLite). */
  newLogs?: boolean;
}

export interface StartedServer {
  server: XmppServer;
  addresses: ListenAddresses;
  /** Where the HTTP listener (health, metrics, WebSocket) listens; empty without http.listen. */
  http: AddressInfo[];
  /** Its HTTPS (wss) addresses, from http.tls_listen. */
  https: AddressInfo[];
}

/**
 * Opens storage and TLS credentials for the configuration, loads the default modules and listens. The HTTP
 * listener (http.listen) comes up first, so /readyz says 503 while storage opens, and goes once stopped.
 */
export async function startServer(config: ServerConfig, opts: StartOptions = {}): Promise<StartedServer> {
  const logger = opts.logger ?? createLogOutput({ level: config.log_level, format: config.log.format, file: config.log.file }).logger;
  const lock = lockDataDir(config.data_dir);
  let http: HttpListener | undefined;
  const state: Operated = { server: undefined, metrics: undefined };
  try {
    const httpAddresses: AddressInfo[] = [];
    const httpsAddresses: AddressInfo[] = [];
    // Loaded before the HTTP listener binds: HTTPS serves the same certificate as c2s.
    const tls = await loadTlsCredentials({ cert: config.tls.cert, key: config.tls.key, dataDir: config.data_dir, domains: config.hosts });
    if (tls.generated) logger.info({ dir: config.data_dir }, 'generated a self-signed TLS certificate');
    if (config.http.listen.length || config.http.tls_listen.length) {
      http = new HttpListener(logger);
      addOperatorEndpoints(http, { ready: () => state.server?.state === 'ready', metrics: config.http.metrics ? () => state.metrics : undefined });
      addWebEndpoints(http, config, logger, () => state.server);
      if (!serveConsole(http)) logger.info('the key console is not built (npm run build); / is not served');
      for (const hp of config.http.listen) httpAddresses.push(await http.listen(hp));
      for (const hp of config.http.tls_listen) httpsAddresses.push(await http.listenTls(hp, tlsOptions(tls)));
    }
    const stopHttp = http ? () => void http!.close() : undefined;
    const release = () => {
      state.metrics?.detach();
      lock.release();
      stopHttp?.();
    };
    const listener = http;
    const started = await startLocked(config, opts, logger, tls, release, (server) => {
      state.server = server;
      if (listener && config.http.metrics) state.metrics = new ServerMetrics(server);
      if (listener) server.onTlsReload((creds) => listener.reloadTls(tlsOptions(creds)));
    });
    return { ...started, http: httpAddresses, https: httpsAddresses };
  } catch (err) {
    lock.release();
    await http?.close();
    throw err;
  }
}

/** What the HTTP endpoints look at: the server and its metrics, once they exist. */
interface Operated {
  server: XmppServer | undefined;
  metrics: ServerMetrics | undefined;
}

async function startLocked(
  config: ServerConfig, opts: StartOptions, logger: Logger, tls: TlsCredentials, release: () => void, created: (server: XmppServer) => void,
): Promise<{ server: XmppServer; addresses: ListenAddresses }> {
  // The nodes of a cluster share their data through PostgreSQL; a SQLite file is one node's alone.
  if (config.cluster.enabled && config.storage.driver !== 'postgres' && !opts.storage) {
    throw new ConfigError('cluster.enabled needs storage.driver = "postgres": every node must see the same data (docs/cluster.md)');
  }
  if (config.c2s.insecure_plain_auth) logger.warn('insecure_plain_auth is on: passwords may cross the network unencrypted');
  // Without its storage the server could only refuse every request: it stops (a supervisor restarts it).
  let server: XmppServer | undefined;
  const onFatal = (err: Error) => {
    logger.fatal({ err }, 'the SQLite storage thread stopped; shutting down');
    void (server?.stop() ?? Promise.resolve()).catch(() => undefined).then(() => opts.onStorageLost?.(err));
  };
  const storage = opts.storage ?? (await openStorage(config, { onFatal, newLogs: opts.newLogs }));
  try {
    const modules = opts.modules ?? [
      ...defaultModules(),
      ...(config.kt.enabled ? [transparencyModule({ dataDir: config.data_dir, epochMs: config.kt.epoch_ms })] : []),
    ];
    server = new XmppServer({ config, storage, modules, tls, logger, saslSecret: loadSaslSecret(config.data_dir), onStopped: release });
    created(server);
  } catch (err) {
    await storage.close();
    throw err;
  }
  let addresses: ListenAddresses;
  try {
    addresses = await server.start();
  } catch (err) {
    await storage.close();
    throw err;
  }
  // `pepkeys status`, `roster`, `user del|passwd|unlock` reach the running server here (admin/socket.ts).
  const path = adminSocketPath(config.data_dir);
  try {
    const admin = await listenAdminSocket(path, server.admin, logger);
    server.onStop(() => admin.close());
  } catch (err) {
    if (err instanceof AdminSocketInUseError) {
      await server.stop();
      throw err;
    }
    // E.g. a data directory path beyond the ~107 bytes a Unix socket path may have: the server is still
    // worth running; the operator commands fall back to the database, or say that no server runs.
    logger.warn({ err, path }, 'no admin socket: pepkeys status, roster and user del|passwd|unlock cannot reach this server');
  }
  return { server, addresses };
}
