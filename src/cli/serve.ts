// `pepkeys serve`: resolve the configuration, start the server, stop it cleanly on SIGINT/SIGTERM.
import { Command, Option } from 'commander';
import type { AddressInfo } from 'node:net';
import { loadTlsCredentials, startServer, type ListenAddresses, type ServerConfig, type XmppServer } from '../server/index.ts';
import { addConfigOptions, collect, configFrom, type ConfigFlags } from './common.ts';
import { EXIT_FAILURE, EXIT_OK, describeError, fail, printError } from './errors.ts';

interface ServeFlags extends ConfigFlags {
  listen?: string[];
  tlsListen?: string[];
  insecurePlainAuth?: boolean;
  logLevel?: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function serveCommand(): Command {
  const cmd = new Command('serve').description('run the XMPP server (defaults: domain localhost, data in ./data, 127.0.0.1:5222 with STARTTLS)');
  addConfigOptions(cmd)
    .option('--listen <host:port>', 'c2s listener offering STARTTLS, overriding c2s.listen; repeatable (port 0 picks a free port)', collect)
    .option('--tls-listen <host:port>', 'direct TLS listener (XEP-0368), overriding c2s.tls_listen; repeatable', collect)
    .option('--insecure-plain-auth', 'allow SASL, PLAIN included, without TLS (loopback tests and benchmarks only)')
    .addOption(new Option('--log-level <level>', 'log level, overriding log_level').choices(LOG_LEVELS))
    .action(async (flags: ServeFlags) => {
      const config = configFrom(flags, {
        listen: flags.listen,
        tlsListen: flags.tlsListen,
        insecurePlainAuth: flags.insecurePlainAuth,
        logLevel: flags.logLevel,
      });
      let started: Awaited<ReturnType<typeof startServer>>;
      try {
        started = await startServer(config, { onStorageLost: () => process.exit(EXIT_FAILURE) });
      } catch (err) {
        // startServer does not undo a partial start (listeners already bound, storage, module timers), so
        // the event loop would stay alive: report and exit here instead of returning.
        fail(err);
        process.exit(process.exitCode ?? EXIT_FAILURE);
      }
      const { server, addresses } = started;
      // Printed besides the pino logs (which go to stdout) so an operator, or a test using port 0, sees
      // where the server actually listens.
      process.stderr.write(`${servingLine(config.hosts, addresses)}\n`);
      handleSignals(server);
      reloadTlsOnHup(server, config);
    });
  return cmd;
}

export function servingLine(hosts: readonly string[], a: ListenAddresses): string {
  const parts = [...a.c2s.map((x) => fmt(x)), ...a.tls.map((x) => `${fmt(x)} (direct TLS)`)];
  return `pepkeys serving ${hosts.join(', ')} on ${parts.join(', ') || 'no listener'}`;
}

function fmt(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** SIGHUP re-reads the certificate and key (renewals) without dropping established streams. */
function reloadTlsOnHup(server: XmppServer, config: ServerConfig): void {
  process.on('SIGHUP', () => {
    loadTlsCredentials({ cert: config.tls.cert, key: config.tls.key, dataDir: config.data_dir, domains: config.hosts }).then(
      (creds) => server.reloadTls(creds),
      (err: unknown) => printError(`SIGHUP: could not reload the TLS certificate, keeping the old one: ${describeError(err)}`),
    );
  });
}

function handleSignals(server: XmppServer): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal means the operator does not want to wait for a stuck shutdown.
      printError(`${signal} again: exiting without a clean shutdown`);
      process.exit(EXIT_FAILURE);
    }
    stopping = true;
    server.logger.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(EXIT_OK),
      (err: unknown) => {
        printError(`shutdown failed: ${describeError(err)}`);
        process.exit(EXIT_FAILURE);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
