// `pepkeys serve`: resolve the configuration, start the server, stop it cleanly on SIGINT/SIGTERM.
import { Command, Option } from 'commander';
import type { AddressInfo } from 'node:net';
import { createLogOutput, loadTlsCredentials, startServer, type ListenAddresses, type LogOutput, type ServerConfig, type XmppServer } from '../server/index.ts';
import { addConfigOptions, collect, configFrom, type ConfigFlags } from './common.ts';
import { EXIT_FAILURE, EXIT_OK, describeError, fail, printError } from './errors.ts';
import type { CliContext, CliIo } from './io.ts';

interface ServeFlags extends ConfigFlags {
  listen?: string[];
  tlsListen?: string[];
  insecurePlainAuth?: boolean;
  logLevel?: string;
  logFormat?: string;
  logFile?: string;
  httpListen?: string[];
  newLogs?: boolean;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function serveCommand(ctx: CliContext): Command {
  const { io } = ctx;
  const cmd = new Command('serve').description('run the XMPP server (defaults: domain localhost, data in ./data, 127.0.0.1:5222 with STARTTLS)');
  addConfigOptions(cmd)
    .option('--listen <host:port>', 'c2s listener offering STARTTLS, overriding c2s.listen; repeatable (port 0 picks a free port)', collect)
    .option('--tls-listen <host:port>', 'direct TLS listener (XEP-0368), overriding c2s.tls_listen; repeatable', collect)
    .option('--insecure-plain-auth', 'allow SASL, PLAIN included, without TLS (loopback tests and benchmarks only)')
    .addOption(new Option('--log-level <level>', 'log level, overriding log_level (trace: every stanza, secrets redacted)').choices(LOG_LEVELS))
    .addOption(new Option('--log-format <format>', 'json (one object per line) or pretty (for terminals), overriding log.format').choices(['json', 'pretty']))
    .option('--log-file <file>', 'append logs to this file instead of stdout (SIGHUP reopens it), overriding log.file')
    .option('--http-listen <host:port>', 'HTTP listener (health, metrics, WebSocket at /xmpp-websocket), overriding http.listen (default 127.0.0.1:5280); repeatable', collect)
    .option('--new-logs', 'start new key-transparency logs although the transparency file (DATA/pepkeys-kt.sqlite) is missing and the database had handed key events to it (refused otherwise: KT_FILE_MISSING)')
    .action(async (flags: ServeFlags) => {
      const config = configFrom(flags, {
        listen: flags.listen,
        tlsListen: flags.tlsListen,
        insecurePlainAuth: flags.insecurePlainAuth,
        logLevel: flags.logLevel,
        logFormat: flags.logFormat,
        logFile: flags.logFile,
        httpListen: flags.httpListen,
      });
      let log: LogOutput;
      try {
        log = createLogOutput({ level: config.log_level, format: config.log.format, file: config.log.file });
      } catch (err) {
        if (io.exit) io.exit(fail(err, io));
        throw err;
      }
      let lost: (code: number) => void = () => {};
      const storageLost = new Promise<number>((r) => (lost = r));
      let started: Awaited<ReturnType<typeof startServer>>;
      try {
        started = await startServer(config, { logger: log.logger, onStorageLost: () => lost(EXIT_FAILURE), newLogs: flags.newLogs });
      } catch (err) {
        // startServer does not undo a partial start (listeners already bound, storage, module timers), so
        // the event loop would stay alive: the real process leaves here instead of returning.
        if (io.exit) io.exit(fail(err, io));
        throw err;
      }
      const { server, addresses, http, https } = started;
      // Printed besides the pino logs (which go to stdout) so an operator, or a test using port 0, sees
      // where the server actually listens.
      io.stderr.write(`${servingLine(config.hosts, addresses)}\n`);
      if (http.length || https.length) {
        const what = ['health', ...(config.http.metrics ? ['metrics'] : []), ...(config.http.websocket ? ['WebSocket /xmpp-websocket'] : [])].join(', ');
        io.stderr.write(`pepkeys HTTP (${what}) on ${[...http.map(fmt), ...https.map((a) => `${fmt(a)} (HTTPS)`)].join(', ')}\n`);
      }
      const stopHup = reloadOnHup(server, config, log, io);
      const code = await Promise.race([untilStopped(server, io), storageLost]);
      stopHup();
      ctx.exitCode = code;
      io.exit?.(code);
    });
  return cmd;
}

export function servingLine(hosts: readonly string[], a: ListenAddresses): string {
  const parts = [...a.c2s.map((x) => fmt(x)), ...a.tls.map((x) => `${fmt(x)} (direct TLS)`), ...a.s2s.map((x) => `${fmt(x)} (server-to-server)`)];
  return `pepkeys serving ${hosts.join(', ')} on ${parts.join(', ') || 'no listener'}`;
}

function fmt(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/**
 * SIGHUP reopens the log file (after rotation) and re-reads the certificate and key (renewals) without
 * dropping established streams.
 */
function reloadOnHup(server: XmppServer, config: ServerConfig, log: LogOutput, io: CliIo): () => void {
  return io.onSignal('SIGHUP', () => {
    log.reopen();
    if (config.log.file !== undefined) server.logger.info({ file: config.log.file }, 'log file reopened');
    loadTlsCredentials({ cert: config.tls.cert, key: config.tls.key, dataDir: config.data_dir, domains: config.hosts }).then(
      (creds) => server.reloadTls(creds),
      (err: unknown) => printError(`SIGHUP: could not reload the TLS certificate, keeping the old one: ${describeError(err)}`, io.stderr),
    );
  });
}

/** Resolves with the exit code once SIGINT/SIGTERM has stopped the server. */
function untilStopped(server: XmppServer, io: CliIo): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: string) => {
      if (stopping) {
        // A second signal means the operator does not want to wait for a stuck shutdown.
        printError(`${signal} again: exiting without a clean shutdown`, io.stderr);
        io.exit?.(EXIT_FAILURE);
        return;
      }
      stopping = true;
      server.logger.info({ signal }, 'shutting down');
      server.stop().then(
        () => done(EXIT_OK),
        (err: unknown) => {
          printError(`shutdown failed: ${describeError(err)}`, io.stderr);
          done(EXIT_FAILURE);
        },
      );
    };
    const offs = [io.onSignal('SIGINT', onSignal), io.onSignal('SIGTERM', onSignal)];
    const done = (code: number) => {
      for (const off of offs) off();
      resolve(code);
    };
  });
}
