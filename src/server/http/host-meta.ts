// XEP-0156 discovery: /.well-known/host-meta (XRD, RFC 6415) and host-meta.json name the WebSocket URL, so
// web clients find the endpoint from the domain alone. Browsers fetch it cross-origin: CORS open to all.
import type { IncomingMessage } from 'node:http';
import { escapeAttr } from '../../xml/index.ts';
import { REL_WEBSOCKET } from '../../protocol/rfc7395.ts';
import { httpClient } from './forwarded.ts';
import { reply, type HttpListener } from './listener.ts';

export interface HostMetaOptions {
  /** http.websocket_url: the URL behind a reverse proxy; otherwise it follows the request. */
  websocketUrl: string | undefined;
  /** The endpoint's path on this listener. */
  path: string;
  trustedProxies: readonly string[];
}

const CORS = { 'access-control-allow-origin': '*' };

export function addHostMeta(http: HttpListener, o: HostMetaOptions): void {
  const url = (req: IncomingMessage): string => {
    if (o.websocketUrl) return o.websocketUrl;
    const client = httpClient(req, o.trustedProxies);
    const a = req.socket.address() as { address?: string; port?: number };
    const host = client.host ?? (a.address?.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);
    return `${client.https ? 'wss' : 'ws'}://${host}${o.path}`;
  };
  http.route('GET', '/.well-known/host-meta', (req, res) => {
    const body =
      `<?xml version='1.0' encoding='utf-8'?>\n<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n` +
      `  <Link rel='${REL_WEBSOCKET}' href='${escapeAttr(url(req))}'/>\n</XRD>\n`;
    reply(res, 200, body, 'application/xrd+xml; charset=utf-8', CORS);
  });
  http.route('GET', '/.well-known/host-meta.json', (req, res) => {
    reply(res, 200, `${JSON.stringify({ links: [{ rel: REL_WEBSOCKET, href: url(req) }] })}\n`, 'application/json', CORS);
  });
}
