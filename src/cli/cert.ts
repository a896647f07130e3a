// `pepkeys cert generate | import | show`: the certificate the server presents, managed in data_dir/tls with
// the server stopped or running (a running server picks a new pair up on SIGHUP, see serve.ts).
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { normalizeDomain } from '../jid/index.ts';
import type { ServerConfig } from '../server/config.ts';
import { generateSelfSigned, generatedTlsFiles, writeGeneratedTls } from '../server/core/tls-credentials.ts';
import { lockHolder } from '../server/data-dir-lock.ts';
import { addConfigOptions, configFrom, type ConfigFlags } from './common.ts';
import { CliError } from './errors.ts';
import type { CliContext, CliIo } from './io.ts';
import { covers, describe, judgePair, parseChain, readPair, readPem } from './ops/certificate.ts';
import { servedTls } from './ops/served-tls.ts';

export function certCommand(ctx: CliContext): Command {
  const { io } = ctx;
  const cert = new Command('cert').description('the TLS certificate the server presents: generate a self-signed one, import one, show it');

  addConfigOptions(cert.command('generate').description('generate a self-signed certificate for the served hosts into data_dir/tls, replacing the one there'))
    .option('--hosts <list>', 'comma-separated domains to cover instead of the configured hosts')
    .action(async (flags: ConfigFlags & { hosts?: string }) => {
      const config = configFrom(flags);
      const dataDir = writableDataDir(config);
      const hosts = flags.hosts === undefined ? config.hosts : parseHosts(flags.hosts);
      const creds = await generateSelfSigned(hosts);
      writeGeneratedTls(dataDir, creds);
      const leaf = parseChain(creds.cert, 'generated certificate')[0]!;
      io.stdout.write(`generated a self-signed certificate for ${hosts.join(', ')} in ${generatedTlsFiles(dataDir).dir} (SHA-256 ${leaf.fingerprint256})\n`);
      for (const host of config.hosts.filter((h) => !covers(leaf, h))) {
        io.stderr.write(`pepkeys: warning: the certificate does not cover ${host}, which the configuration serves: add it to --hosts\n`);
      }
      reloadNote(io, dataDir);
    });

  addConfigOptions(cert.command('import').description('install a PEM certificate chain and its private key into data_dir/tls').argument('<cert>', 'PEM certificate, then its intermediates').argument('<key>', 'PEM private key (unencrypted)'))
    .action(async (certPath: string, keyPath: string, flags: ConfigFlags) => {
      const config = configFrom(flags);
      const dataDir = writableDataDir(config);
      const pair = readPair(certPath, keyPath);
      const findings = judgePair(pair, config.hosts, { uncovered: 'warning', renew: 'import a certificate' });
      for (const f of findings.filter((f) => f.level === 'warning')) io.stderr.write(`pepkeys: warning: ${f.message}\n`);
      const errors = findings.filter((f) => f.level === 'error');
      if (errors.length) throw new CliError(`not imported: ${errors.map((f) => f.message).join('; ')}`);
      writeGeneratedTls(dataDir, { cert: readPem(certPath, certPath), key: readPem(keyPath, keyPath) });
      const d = describe(pair.chain[0]!, config.hosts);
      io.stdout.write(`imported the certificate for ${d.names.join(', ') || d.subject} (valid until ${d.notAfter.slice(0, 10)}, SHA-256 ${d.sha256}) into ${generatedTlsFiles(dataDir).dir}\n`);
      reloadNote(io, dataDir);
    });

  addConfigOptions(cert.command('show').description('print the served certificate: subject, names, issuer, validity, SHA-256 fingerprint'))
    .option('--json', 'as one JSON document')
    .option('--pem', 'print the certificate itself (PEM), e.g. for clients to pin with --ca')
    .action(async (flags: ConfigFlags & { json?: boolean; pem?: boolean }) => {
      const config = configFrom(flags);
      const tls = servedTls(config);
      if (!tls.configured && !existsSync(tls.cert)) {
        throw new CliError(`no certificate yet in ${generatedTlsFiles(resolve(config.data_dir)).dir}: the server generates one at its first start, or run \`pepkeys cert generate\``);
      }
      const certText = readPem(tls.cert, tls.certWhat);
      if (flags.pem) {
        io.stdout.write(certText.endsWith('\n') ? certText : `${certText}\n`);
        return;
      }
      const pair = readPair(tls.cert, tls.key, tls.certWhat, tls.keyWhat);
      const leaf = pair.chain[0]!;
      const d = { file: tls.cert, key: tls.key, keyMatches: leaf.checkPrivateKey(pair.key!), chain: pair.chain.length, ...describe(leaf, config.hosts) };
      if (flags.json) {
        io.stdout.write(`${JSON.stringify(d, null, 2)}\n`);
        return;
      }
      const rows: [string, string][] = [
        ['certificate', d.file + (tls.configured ? ' (tls.cert)' : '')],
        ['key', `${d.key}${d.keyMatches ? '' : ' (DOES NOT MATCH the certificate)'}`],
        ['subject', d.subject],
        ['names', d.names.join(', ') || '(none)'],
        ['issuer', d.issuer + (d.chain > 1 ? ` (chain of ${d.chain})` : '')],
        ['valid', `${d.notBefore} to ${d.notAfter}`],
        ['sha-256', d.sha256],
        ['covers', Object.entries(d.covers).map(([h, yes]) => `${h} ${yes ? 'yes' : 'NO'}`).join(', ')],
      ];
      io.stdout.write(rows.map(([k, v]) => `${k.padEnd(12)}${v}\n`).join(''));
    });

  return cert;
}

/** generate and import write data_dir/tls, which the server reads only when tls.cert and tls.key are unset. */
function writableDataDir(config: ServerConfig): string {
  const tls = servedTls(config);
  if (tls.configured) {
    throw new CliError(`the configuration serves ${tls.certWhat} and ${tls.keyWhat}, which pepkeys does not overwrite: replace those files, or remove both settings to serve data_dir/tls`);
  }
  return resolve(config.data_dir);
}

function parseHosts(list: string): string[] {
  const hosts = list.split(',').map((h) => h.trim()).filter(Boolean);
  if (hosts.length === 0) throw new CliError('--hosts: give at least one domain, e.g. --hosts example.com,example.org');
  return hosts.map((h) => {
    try {
      return normalizeDomain(h);
    } catch (err) {
      throw new CliError(`--hosts: invalid domain '${h}': ${(err as Error).message}`);
    }
  });
}

/** A running server keeps its certificate until SIGHUP (established streams keep theirs). */
function reloadNote(io: CliIo, dataDir: string): void {
  const pid = lockHolder(dataDir);
  if (pid !== undefined) io.stdout.write(`the running server (pid ${pid}) presents it to new connections after \`kill -HUP ${pid}\`\n`);
}
