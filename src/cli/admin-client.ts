// The CLI side of the admin socket (server/admin/protocol.ts): one request, one answer, then the
// connection closes. A data directory without a listening socket means no server runs on it.
import { connect } from 'node:net';
import type { ServerConfig } from '../server/config.ts';
import { ADMIN_PROTOCOL_VERSION, AdminResponseSchema, adminSocketPath } from '../server/admin/protocol.ts';
import { CliError } from './errors.ts';

const TIMEOUT_MS = 60_000;

/** No server answers on this data directory's admin socket. */
export class NoServerError extends CliError {
  constructor(dataDir: string, path: string) {
    super(`no server is running on ${dataDir} (no admin socket at ${path}): start it with \`npm start\` (or \`pepkeys serve\`), with the same --data or --config`);
  }
}

/** A command the server refused (its stable code kept for --json and tests). */
export class AdminCommandError extends CliError {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** Sends one command to the server running on `config`'s data directory and returns its result. */
export function adminRequest<T = unknown>(config: ServerConfig, command: string, args: Record<string, unknown> = {}): Promise<T> {
  const path = adminSocketPath(config.data_dir);
  return new Promise<T>((resolve, reject) => {
    const socket = connect(path);
    let buffer = '';
    let settled = false;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const timer = setTimeout(() => done(() => reject(new CliError(`the server did not answer ${command} within ${TIMEOUT_MS / 1000} s`))), TIMEOUT_MS);
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${JSON.stringify({ v: ADMIN_PROTOCOL_VERSION, id: 1, command, args })}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      const parsed = AdminResponseSchema.safeParse(safeJson(buffer.slice(0, nl)));
      if (!parsed.success) return done(() => reject(new CliError(`unexpected answer on ${path}`)));
      const r = parsed.data;
      if (r.ok) done(() => resolve(r.result as T));
      else done(() => reject(new AdminCommandError(r.error.code, r.error.message)));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      // ENOENT: no socket; ECONNREFUSED: a socket file left by a server that died.
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') done(() => reject(new NoServerError(config.data_dir, path)));
      else done(() => reject(new CliError(`admin socket ${path}: ${err.message}`)));
    });
    socket.once('close', () => done(() => reject(new CliError(`the server closed the admin socket ${path} without answering`))));
  });
}

/**
 * For commands that work with or without a server (`user del`, `roster ...`): the result of the running
 * server, or undefined when none runs on the data directory.
 */
export async function adminRequestIfRunning<T = unknown>(config: ServerConfig, command: string, args: Record<string, unknown> = {}): Promise<{ result: T } | undefined> {
  try {
    return { result: await adminRequest<T>(config, command, args) };
  } catch (err) {
    if (err instanceof NoServerError) return undefined;
    throw err;
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
