// The client-facing part of the HTTP listener: the WebSocket endpoint and its discovery, wired once for
// `pepkeys serve` (index.ts) and for tests.
import type { ServerConfig } from '../config.ts';
import type { Logger } from '../core/logger.ts';
import type { XmppServer } from '../core/server.ts';
import { addWebSocketEndpoint, WEBSOCKET_PATH } from '../websocket/endpoint.ts';
import { addHostMeta } from './host-meta.ts';
import type { HttpListener } from './listener.ts';

/** `server()` is read per request: the listener binds before the server exists, and outlives it. */
export function addWebEndpoints(http: HttpListener, config: ServerConfig, logger: Logger, server: () => XmppServer | undefined): void {
  if (!config.http.websocket) return;
  addWebSocketEndpoint(http, {
    accepting: () => {
      const s = server();
      return s?.state === 'ready' ? (t) => s.acceptTransport(t) : undefined;
    },
    maxStanzaBytes: config.limits.max_stanza_bytes,
    allowedOrigins: config.http.allowed_origins,
    trustedProxies: config.http.trusted_proxies,
    logger,
  });
  addHostMeta(http, { websocketUrl: config.http.websocket_url, path: WEBSOCKET_PATH, trustedProxies: config.http.trusted_proxies });
}
