// `pepkeys status`: asks the server running on the data directory, over its admin socket.
import { Command } from 'commander';
import type { ServerStatus } from '../server/admin/status.ts';
import { adminRequest } from './admin-client.ts';
import { addConfigOptions, configFrom, type ConfigFlags } from './common.ts';
import type { CliContext } from './io.ts';

export function statusCommand(ctx: CliContext): Command {
  const { io } = ctx;
  return addConfigOptions(new Command('status').description('what the running server is doing: sessions per host, uptime, storage, queues'))
    .option('--json', 'machine-readable JSON on stdout')
    .action(async (flags: ConfigFlags & { json?: boolean }) => {
      const s = await adminRequest<ServerStatus>(configFrom(flags), 'status');
      io.stdout.write(flags.json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s));
    });
}

export function formatStatus(s: ServerStatus): string {
  const lines = [
    `pepkeys ${s.version}, pid ${s.pid}, up ${duration(s.uptimeSeconds)}`,
    `connections: ${s.connections}, output waiting: ${s.pendingOutputBytes} bytes, offline messages: ${s.offlineMessages}`,
    `storage: ${s.storage.driver}${s.storage.path ? ` ${s.storage.path}` : ''}${s.storage.bytes !== undefined ? ` (${mib(s.storage.bytes)})` : ''}`,
  ];
  const hosts = Object.entries(s.hosts);
  const w = Math.max(4, ...hosts.map(([h]) => h.length));
  lines.push(`${'HOST'.padEnd(w)}  SESSIONS  AVAILABLE  ACCOUNTS`);
  for (const [h, c] of hosts) lines.push(`${h.padEnd(w)}  ${String(c.sessions).padStart(8)}  ${String(c.available).padStart(9)}  ${String(c.accounts).padStart(8)}`);
  return `${lines.join('\n')}\n`;
}

function duration(sec: number): string {
  const d = Math.floor(sec / 86400);
  const h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  return d ? `${d}d ${h}h ${m}m` : h ? `${h}h ${m}m` : m ? `${m}m ${sec % 60}s` : `${sec}s`;
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}
