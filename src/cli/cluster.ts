// `pepkeys cluster status`: the running node's view of its cluster (nodes, sessions per node, bus state),
// over its admin socket.
import { Command } from 'commander';
import type { ClusterStatus } from '../cluster/index.ts';
import { adminRequest } from './admin-client.ts';
import { addConfigOptions, configFrom, type ConfigFlags } from './common.ts';
import type { CliContext } from './io.ts';

type Answer = ClusterStatus | { node: undefined; bus: 'off'; nodes: [] };

export function clusterCommand(ctx: CliContext): Command {
  const { io } = ctx;
  const status = addConfigOptions(new Command('status').description('nodes of the cluster, sessions per node, state of the bus'))
    .option('--json', 'machine-readable JSON on stdout')
    .action(async (flags: ConfigFlags & { json?: boolean }) => {
      const s = await adminRequest<Answer>(configFrom(flags), 'cluster.status');
      io.stdout.write(flags.json ? `${JSON.stringify(s, null, 2)}\n` : formatClusterStatus(s));
    });
  return new Command('cluster').description('several nodes as one service (docs/cluster.md)').addCommand(status);
}

export function formatClusterStatus(s: Answer): string {
  if (s.bus === 'off') return 'clustering is off ([cluster] enabled = false): this server is a single node\n';
  const w = Math.max(4, ...s.nodes.map((n) => n.id.length + 2));
  const lines = [`node ${s.node}, bus ${s.bus}`, `${'NODE'.padEnd(w)}  SESSIONS  LAST HEARD`];
  for (const n of s.nodes) {
    const name = n.self ? `${n.id} *` : n.id;
    lines.push(`${name.padEnd(w)}  ${String(n.sessions).padStart(8)}  ${n.self ? '(this node)' : `${(n.lastSeenMs / 1000).toFixed(1)} s ago`}`);
  }
  return `${lines.join('\n')}\n`;
}
