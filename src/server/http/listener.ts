// A small HTTP(S) listener for operators' endpoints (health, metrics), the WebSocket endpoint (RFC 7395)
// and discovery (XEP-0156), on addresses of its own. It holds a route table keyed by method and path for
// requests, and one keyed by path for upgrades.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import { listenOn } from '../core/listen.ts';
import type { Logger } from '../core/logger.ts';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
/** Takes over the connection of an upgrade request (answering or destroying it). */
export type UpgradeHandler = (req: IncomingMessage, socket: Socket, head: Buffer) => void;

export class HttpListener {
  private readonly routes = new Map<string, HttpHandler>();
  private readonly upgrades = new Map<string, UpgradeHandler>();
  /** The bound servers. */
  readonly servers: Server[] = [];
  /** The HTTPS ones among them, whose certificate a reload replaces. */
  private readonly tlsServers: HttpsServer[] = [];

  constructor(private readonly logger: Logger) {}

  route(method: string, path: string, handler: HttpHandler): void {
    this.routes.set(`${method} ${path}`, handler);
  }

  /** Requests to upgrade the connection at `path` (GET with Upgrade:) go to `handler`. */
  upgrade(path: string, handler: UpgradeHandler): void {
    this.upgrades.set(path, handler);
  }

  /** Binds one more address (HOST:PORT; port 0 picks a free one). */
  listen(hostPort: string): Promise<AddressInfo> {
    return this.bind(createServer((req, res) => this.handle(req, res)), hostPort);
  }

  /** Binds one more address serving HTTPS (and wss) with these TLS options. */
  listenTls(hostPort: string, tls: SecureContextOptions): Promise<AddressInfo> {
    const srv = createHttpsServer(tls, (req, res) => this.handle(req, res));
    this.tlsServers.push(srv);
    return this.bind(srv, hostPort);
  }

  /** New certificate for new connections (SIGHUP); established ones keep theirs. */
  reloadTls(tls: SecureContextOptions): void {
    for (const srv of this.tlsServers) srv.setSecureContext(tls);
  }

  private async bind(srv: Server, hostPort: string): Promise<AddressInfo> {
    // Requests answer quickly; a client that holds a connection open gets dropped (upgraded connections
    // are the WebSocket endpoint's, out of these timeouts).
    srv.requestTimeout = 10_000;
    srv.headersTimeout = 5_000;
    srv.keepAliveTimeout = 5_000;
    srv.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.onUpgrade(req, socket, head));
    const address = await listenOn(srv, hostPort, (err) => this.logger.error({ err }, 'HTTP listener error'));
    this.servers.push(srv);
    return address;
  }

  /** Closes every listener and drops its connections. */
  async close(): Promise<void> {
    const servers = this.servers.splice(0);
    this.tlsServers.length = 0;
    await Promise.all(
      servers.map(
        (srv) =>
          new Promise<void>((resolve) => {
            srv.close(() => resolve());
            srv.closeAllConnections();
          }),
      ),
    );
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const handler = this.upgrades.get((req.url ?? '/').split('?', 1)[0]!);
    if (!handler) return refuseUpgrade(socket, 404, 'not found');
    try {
      handler(req, socket, head);
    } catch (err) {
      this.logger.error({ err, path: req.url }, 'HTTP upgrade handler failed');
      refuseUpgrade(socket, 500, 'internal error');
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const handler = this.routes.get(`${method} ${path}`);
    if (!handler) {
      const allowed = [...this.routes.keys()].some((k) => k.endsWith(` ${path}`));
      return reply(res, allowed ? 405 : 404, allowed ? 'method not allowed\n' : 'not found\n');
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        this.logger.error({ err, path }, 'HTTP handler failed');
        if (!res.headersSent) reply(res, 500, 'internal error\n');
        else res.destroy();
      });
  }
}

/** Sends a whole text response (HEAD gets the headers only). */
export function reply(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Answers an upgrade request with an HTTP error instead, and closes the connection. */
export function refuseUpgrade(socket: Socket, status: number, text: string): void {
  if (socket.destroyed) return;
  const body = `${text}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error', 503: 'Service Unavailable' };
