// The local admin socket: a Unix socket in the data directory, mode 0600 (and the directory is 0700), so
// only the account running the server reaches it; no password is involved. JSON lines (protocol.ts), one
// request at a time per connection. A socket file left by a server that died is taken over; one a live
// server answers on is refused.
import { chmodSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../core/logger.ts';
import { AdminError } from './errors.ts';
import { ADMIN_PROTOCOL_VERSION, AdminRequestSchema, MAX_REQUEST_BYTES, type AdminResponse } from './protocol.ts';
import type { AdminCommands } from './registry.ts';

export class AdminSocketInUseError extends Error {
  readonly code = 'ADMIN_SOCKET_IN_USE';
  constructor(path: string) {
    super(`another pepkeys server answers on ${path}; stop it first, or give this one its own --data`);
  }
}

export interface AdminSocket {
  readonly path: string;
  close(): Promise<void>;
}

/** Whether a server answers on `path` (a connection is accepted). */
function answering(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function listenAdminSocket(path: string, commands: AdminCommands, logger: Logger): Promise<AdminSocket> {
  // sun_path holds 104 bytes on macOS and 108 on Linux, NUL included; libuv would silently truncate a longer one.
  if (Buffer.byteLength(path) > 103) throw new Error(`the admin socket path ${path} is longer than a Unix socket path may be (103 bytes)`);
  if (await answering(path)) throw new AdminSocketInUseError(path);
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serve(socket, commands, logger);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The socket file is created inside listen(): no moment where others could connect before the chmod.
    const umask = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
  chmodSync(path, 0o600);
  server.on('error', (err) => logger.error({ err }, 'admin socket error'));
  return {
    path,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      try {
        unlinkSync(path);
      } catch {
        // Already gone (net may remove it on close).
      }
    },
  };
}

function serve(socket: Socket, commands: AdminCommands, logger: Logger): void {
  let buffer = '';
  let queue = Promise.resolve();
  socket.setEncoding('utf8');
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim()) queue = queue.then(() => answer(line, commands, logger)).then((r) => void socket.write(`${JSON.stringify(r)}\n`));
    }
    if (Buffer.byteLength(buffer) > MAX_REQUEST_BYTES) {
      socket.end(`${JSON.stringify(failure(null, new AdminError('bad-request', 'request line too long')))}\n`);
      buffer = '';
    }
  });
}

async function answer(line: string, commands: AdminCommands, logger: Logger): Promise<AdminResponse> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return failure(null, new AdminError('bad-request', 'a request is one JSON object per line'));
  }
  const parsed = AdminRequestSchema.safeParse(raw);
  const id = (raw as { id?: unknown } | null)?.id;
  const replyId = typeof id === 'number' || typeof id === 'string' ? id : null;
  if (!parsed.success) return failure(replyId, new AdminError('bad-request', `invalid request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`));
  const req = parsed.data;
  if (req.v !== ADMIN_PROTOCOL_VERSION) {
    return failure(req.id, new AdminError('version', `this server speaks admin protocol version ${ADMIN_PROTOCOL_VERSION}, not ${req.v}; use the pepkeys command of the same installation`));
  }
  try {
    const result = await commands.run(req.command, req.args);
    logger.info({ command: req.command }, 'admin command');
    return { v: ADMIN_PROTOCOL_VERSION, id: req.id, ok: true, result };
  } catch (err) {
    if (err instanceof AdminError) return failure(req.id, err);
    logger.error({ err, command: req.command }, 'admin command failed');
    return failure(req.id, new AdminError('internal', err instanceof Error ? err.message : String(err)));
  }
}

function failure(id: number | string | null, err: AdminError): AdminResponse {
  return { v: ADMIN_PROTOCOL_VERSION, id, ok: false, error: { code: err.code, message: err.message } };
}
