// The WebSocket endpoint (RFC 7395) on the HTTP listener: checks the upgrade request (the xmpp subprotocol,
// the page's origin, the server being ready), then hands the connection to the server as one more client
// transport. Sessions over it are the same C2sSession as over TCP.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { WS_SUBPROTOCOL } from '../../protocol/rfc7395.ts';
import type { Logger } from '../core/logger.ts';
import type { C2sTransport } from '../core/transport.ts';
import { httpClient, isLoopback } from '../http/forwarded.ts';
import { refuseUpgrade, type HttpListener } from '../http/listener.ts';
import { OriginPolicy } from './origin.ts';
import { WebSocketTransport } from './transport.ts';

export const WEBSOCKET_PATH = '/xmpp-websocket';

/** What the endpoint needs of the server, which may not exist yet when the listener binds. */
export interface WebSocketHost {
  /** Takes the connection as a client session; undefined while the server cannot (starting, stopping). */
  accepting(): ((transport: C2sTransport) => void) | undefined;
  /** Largest stanza accepted (limits.max_stanza_bytes): no message may be bigger. */
  maxStanzaBytes: number;
  allowedOrigins: readonly string[];
  trustedProxies: readonly string[];
  logger: Logger;
}

/** Room beyond the stanza limit for a message, so a stanza slightly too big gets the stream error, not a bare close. */
const FRAME_SLACK = 1024;

export function addWebSocketEndpoint(http: HttpListener, host: WebSocketHost): void {
  const origins = new OriginPolicy(host.allowedOrigins);
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    // No compression: a zlib context per connection costs far more than idle XMPP sessions should.
    perMessageDeflate: false,
    // ws buffers a whole message before handing it over: the stanza limit bounds what one may hold.
    maxPayload: host.maxStanzaBytes + FRAME_SLACK,
    handleProtocols: (protocols) => (protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
  });
  const log = host.logger.child({ part: 'websocket' });
  http.upgrade(WEBSOCKET_PATH, (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const client = httpClient(req, host.trustedProxies);
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    // RFC 7395 §3.1: the handshake names the xmpp subprotocol; without it this is not an XMPP client.
    if (!protocols.includes(WS_SUBPROTOCOL)) {
      log.info({ ip: client.address, protocols: req.headers['sec-websocket-protocol'] }, 'WebSocket refused: no xmpp subprotocol');
      return refuseUpgrade(socket, 400, `the "${WS_SUBPROTOCOL}" WebSocket subprotocol is required (RFC 7395)`);
    }
    const origin = req.headers.origin;
    if (!origins.allows(origin, client)) {
      log.warn({ ip: client.address, origin }, 'WebSocket refused: origin not in http.allowed_origins');
      return refuseUpgrade(socket, 403, 'this page\'s origin may not open XMPP sessions here (http.allowed_origins)');
    }
    const accept = host.accepting();
    if (!accept) return refuseUpgrade(socket, 503, 'the server is not ready');
    wss.handleUpgrade(req, socket, head, (ws) => {
      // No STARTTLS here: wss is secure, and so is loopback (a local browser, or a proxy on this machine
      // that says the client used https; see docs/web.md).
      const secure = client.https || isLoopback(client.address);
      accept(new WebSocketTransport(ws, socket, { address: client.address, port: client.port, secure }));
    });
  });
}
