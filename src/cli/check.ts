// `pepkeys check`: what would stop `pepkeys serve` or hurt its clients, found before starting it. Each problem
// is one line saying what to do; exit 0 when there is no error (warnings are printed), 1 when there is one
// (or, with --strict, a warning too).
import { Command } from 'commander';
import { ConfigError, type ServerConfig } from '../server/config.ts';
import { addConfigOptions, collect, configFrom, type ConfigFlags } from './common.ts';
import { EXIT_FAILURE, EXIT_OK } from './errors.ts';
import type { CliContext } from './io.ts';
import { count, error, ok, problemLines, summaryLine, type Finding } from './ops/findings.ts';
import { checkServedCertificate } from './ops/served-tls.ts';
import { checkDataDir } from './ops/data-dir.ts';
import { checkPorts } from './ops/ports.ts';
import { checkDatabase } from './ops/database.ts';
import { checkS2sCommand } from './s2s.ts';

interface CheckFlags extends ConfigFlags {
  listen?: string[];
  tlsListen?: string[];
  json?: boolean;
  strict?: boolean;
}

export async function runChecks(config: ServerConfig): Promise<Finding[]> {
  const data = checkDataDir(config);
  return [
    ok('config', `configuration valid; serving ${config.hosts.join(', ')}`),
    ...checkServedCertificate(config),
    ...data.findings,
    ...(await checkPorts(config, data.runningServer)),
    ...(await checkDatabase(config)),
  ];
}

export function checkCommand(ctx: CliContext): Command {
  const { io } = ctx;
  return addConfigOptions(new Command('check').description('check the configuration, certificate, ports, data directory and database before serving'))
    .option('--listen <host:port>', 'as for serve: check this c2s listener instead of c2s.listen; repeatable', collect)
    .option('--tls-listen <host:port>', 'as for serve: check this direct TLS listener instead of c2s.tls_listen; repeatable', collect)
    .option('--json', 'print every finding (passed ones too) as one JSON document')
    .option('--strict', 'exit 1 on warnings too')
    .addCommand(checkS2sCommand(ctx))
    .action(async (flags: CheckFlags) => {
      let findings: Finding[];
      try {
        findings = await runChecks(configFrom(flags, { listen: flags.listen, tlsListen: flags.tlsListen }));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        // The loader lists one issue per line (file:line:column, "did you mean"); nothing else can be checked.
        findings = err.message.split('\n').filter(Boolean).map((line) => error('config', line));
      }
      const errors = count(findings, 'error');
      const warnings = count(findings, 'warning');
      if (flags.json) io.stdout.write(`${JSON.stringify({ ok: errors === 0, errors, warnings, findings }, null, 2)}\n`);
      else io.stdout.write(`${problemLines(findings)}${summaryLine(findings)}\n`);
      ctx.exitCode = errors > 0 || (flags.strict && warnings > 0) ? EXIT_FAILURE : EXIT_OK;
    });
}
