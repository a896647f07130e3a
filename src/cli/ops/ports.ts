// The listeners a configuration asks for, and whether each can be bound now. Every `listen` or `*_listen`
// setting counts, wherever it sits (c2s today; HTTP, metrics or admin listeners as they are added), so a new
// listener is checked without touching this file.
import { createServer } from 'node:net';
import type { ServerConfig } from '../../server/config.ts';
import { parseHostPort } from '../../server/config.ts';
import { error, ok, type Finding } from './findings.ts';

export interface Listener {
  /** The setting, e.g. c2s.tls_listen[0]. */
  setting: string;
  address: string;
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/;

export function configuredListeners(config: ServerConfig): Listener[] {
  const out: Listener[] = [];
  const walk = (value: unknown, path: string, key: string) => {
    const isListen = key === 'listen' || key.endsWith('_listen');
    if (isListen && typeof value === 'string' && HOST_PORT.test(value)) out.push({ setting: path, address: value });
    else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`, key));
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, k);
    }
  };
  walk(config, '', '');
  return out;
}

/** Binds and releases the address; undefined when it is free. */
function tryBind(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err) => resolve(err as NodeJS.ErrnoException));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

function advice(l: Listener, port: number, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return `${l.setting} ${l.address}: the port is in use by another program: stop it (\`ss -ltnp 'sport = :${port}'\` names it), or listen elsewhere (${l.setting})`;
    case 'EACCES':
      return `${l.setting} ${l.address}: port ${port} needs privileges: use a port of 1024 or more, or give node CAP_NET_BIND_SERVICE`;
    case 'EADDRNOTAVAIL':
      return `${l.setting} ${l.address}: no such address on this machine: use one of its addresses, 127.0.0.1, or 0.0.0.0 for all`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${l.setting} ${l.address}: the host name does not resolve: use an IP address`;
    default:
      return `${l.setting} ${l.address}: cannot listen: ${err.message}`;
  }
}

/** One finding per listener; `busyServer` is the pid of a pepkeys server running on this data directory. */
export async function checkPorts(config: ServerConfig, busyServer?: number): Promise<Finding[]> {
  const listeners = configuredListeners(config);
  if (listeners.length === 0) return [ok('ports', 'no listener configured')];
  const out: Finding[] = [];
  const seen = new Map<string, string>();
  for (const l of listeners) {
    const { host, port } = parseHostPort(l.address);
    const first = seen.get(l.address);
    if (first !== undefined && port !== 0) {
      out.push(error('ports', `${l.setting} ${l.address} is also ${first}: give each listener its own port`));
      continue;
    }
    seen.set(l.address, l.setting);
    if (port === 0) {
      out.push(ok('ports', `${l.setting} ${l.address}: any free port`));
      continue;
    }
    const err = await tryBind(host, port);
    if (!err) out.push(ok('ports', `${l.setting} ${l.address} is free`));
    // Its own ports: checked when it is stopped, and a second server here is refused anyway.
    else if (err.code === 'EADDRINUSE' && busyServer !== undefined) out.push(ok('ports', `${l.setting} ${l.address} is in use, presumably by the running server (pid ${busyServer})`));
    else out.push(error('ports', advice(l, port, err)));
  }
  return out;
}
