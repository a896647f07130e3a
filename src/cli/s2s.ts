// `pepkeys s2s status` and `pepkeys check s2s DOMAIN`: federation as the running server sees it, over its
// admin socket (server/admin/s2s-commands.ts). The check runs in the server: it holds the dialback keys and
// is the server the remote one calls back to verify them.
import { Command } from 'commander';
import type { S2sStatusReport } from '../server/admin/s2s-commands.ts';
import type { ProbeResult } from '../server/s2s/probe.ts';
import { adminRequest } from './admin-client.ts';
import { addConfigOptions, configFrom, type ConfigFlags } from './common.ts';
import { EXIT_FAILURE, EXIT_OK } from './errors.ts';
import type { CliContext } from './io.ts';

export function s2sCommand(ctx: CliContext): Command {
  const { io } = ctx;
  const status = addConfigOptions(new Command('status').description('connected remote domains: direction, authentication, queue, age'))
    .option('--json', 'machine-readable JSON on stdout')
    .action(async (flags: ConfigFlags & { json?: boolean }) => {
      const r = await adminRequest<S2sStatusReport>(configFrom(flags), 's2s.status');
      io.stdout.write(flags.json ? `${JSON.stringify(r, null, 2)}\n` : formatS2sStatus(r));
    });
  return new Command('s2s').description('federation (server-to-server) of the running server').addCommand(status);
}

export function checkS2sCommand(ctx: CliContext): Command {
  const { io } = ctx;
  return addConfigOptions(new Command('s2s').description('resolve, connect to and authenticate with DOMAIN as the running server would, step by step'))
    .argument('<domain>', 'the remote domain, e.g. montague.lit')
    .option('--from <domain>', 'the local domain to authenticate as (default: the first of hosts)')
    .option('--json', 'machine-readable JSON on stdout')
    .action(async (domain: string, _opts: unknown, cmd: Command) => {
      // `check` has the same config options; commander gives them to it when they follow the subcommand.
      const flags = cmd.optsWithGlobals<ConfigFlags & { from?: string; json?: boolean }>();
      const r = await adminRequest<ProbeResult>(configFrom(flags), 's2s.check', { domain, ...(flags.from ? { from: flags.from } : {}) });
      io.stdout.write(flags.json ? `${JSON.stringify(r, null, 2)}\n` : formatProbe(domain, r));
      ctx.exitCode = r.ok ? EXIT_OK : EXIT_FAILURE;
    });
}

export function formatS2sStatus(r: S2sStatusReport): string {
  if (!r.enabled) return 'federation is off: [s2s] listen names no address\n';
  if (r.links.length === 0) return 'no server-to-server connections\n';
  const rows = r.links.map((l) => [
    l.remote || `(${l.address ?? '?'}, not authenticated)`,
    l.direction === 'outbound' ? `out (from ${l.local})` : 'in',
    l.authenticated ? (l.method ?? 'yes') : 'pending',
    String(l.queued),
    age(l.ageSeconds),
  ]);
  const head = ['DOMAIN', 'DIRECTION', 'AUTH', 'QUEUED', 'AGE'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd();
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}

export function formatProbe(domain: string, r: ProbeResult): string {
  const lines = r.steps.map((s) => `${s.ok ? (s.warning ? 'warn' : ' ok ') : 'FAIL'}  ${s.step.padEnd(11)} ${s.text}`);
  lines.push(r.ok ? `${domain}: federation works` : `${domain}: federation does not work (see the FAIL line)`);
  return `${lines.join('\n')}\n`;
}

function age(sec: number): string {
  return sec >= 3600 ? `${Math.floor(sec / 3600)}h ${Math.floor((sec % 3600) / 60)}m` : sec >= 60 ? `${Math.floor(sec / 60)}m ${sec % 60}s` : `${sec}s`;
}
