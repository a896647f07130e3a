// Who is on the other end of an HTTP request: the TCP peer, or, behind a trusted reverse proxy, the client
// it names in X-Forwarded-For, and whether that client used https (X-Forwarded-Proto).
import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';

export interface HttpClient {
  address: string;
  port: number | undefined;
  /** The request came over TLS, to us or to a trusted proxy. */
  https: boolean;
  /** The Host the client asked for (a trusted proxy's X-Forwarded-Host), if it looks like one. */
  host: string | undefined;
}

/** '::ffff:127.0.0.1' and '127.0.0.1' are the same client. */
function plainAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

function first(h: string | string[] | undefined): string | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  return v?.split(',', 1)[0]!.trim() || undefined;
}

export function httpClient(req: IncomingMessage, trustedProxies: readonly string[]): HttpClient {
  const socket = req.socket;
  const peer = plainAddress(socket.remoteAddress ?? '');
  const tls = socket instanceof TLSSocket;
  const host = first(req.headers.host);
  const direct: HttpClient = { address: peer, port: socket.remotePort, https: tls, host: host && HOST.test(host) ? host : undefined };
  if (!trustedProxies.some((p) => plainAddress(p) === peer)) return direct;
  const xff = req.headers['x-forwarded-for'];
  if (xff === undefined) return direct;
  // The proxy appends the address it saw last: the one entry a client cannot forge.
  const hops = (Array.isArray(xff) ? xff.join(',') : xff).split(',').map((s) => s.trim()).filter(Boolean);
  const client = hops.at(-1);
  const proto = first(req.headers['x-forwarded-proto'])?.toLowerCase();
  const fwdHost = first(req.headers['x-forwarded-host']);
  return {
    address: client ? plainAddress(client) : peer,
    port: undefined,
    // A proxied request is encrypted only if the proxy says so: a missing header is not an https.
    https: tls && proto === undefined ? true : proto === 'https' || proto === 'wss',
    host: fwdHost && HOST.test(fwdHost) ? fwdHost : direct.host,
  };
}

/** Loopback: the client runs on this machine (a local browser, or a proxy beside us). */
export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}
