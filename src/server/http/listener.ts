// A small HTTP listener for operators' endpoints (health, metrics), on addresses of its own. It holds a
// route table keyed by method and path, so a later WebSocket (RFC 7395) or BOSH endpoint can be added to the
// same listener: routes for requests, and the node:http servers for 'upgrade'.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenOn } from '../core/listen.ts';
import type { Logger } from '../core/logger.ts';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export class HttpListener {
  private readonly routes = new Map<string, HttpHandler>();
  /** The bound servers (for 'upgrade' handlers of a future WebSocket endpoint). */
  readonly servers: Server[] = [];

  constructor(private readonly logger: Logger) {}

  route(method: string, path: string, handler: HttpHandler): void {
    this.routes.set(`${method} ${path}`, handler);
  }

  /** Binds one more address (HOST:PORT; port 0 picks a free one). */
  async listen(hostPort: string): Promise<AddressInfo> {
    const srv = createServer((req, res) => this.handle(req, res));
    // Operators' endpoints answer quickly; a client that holds a connection open gets dropped.
    srv.requestTimeout = 10_000;
    srv.headersTimeout = 5_000;
    srv.keepAliveTimeout = 5_000;
    const address = await listenOn(srv, hostPort, (err) => this.logger.error({ err }, 'HTTP listener error'));
    this.servers.push(srv);
    return address;
  }

  /** Closes every listener and drops its connections. */
  async close(): Promise<void> {
    const servers = this.servers.splice(0);
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
export function reply(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
