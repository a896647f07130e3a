// What the client's stream negotiation (connection.ts) needs from the wire: start a stream, send, end it,
// and hear back whole top-level elements. TCP (tcp-transport.ts, RFC 6120 stream with STARTTLS) and WebSocket
// (ws-transport.ts, RFC 7395 framing) implement it, so SASL, bind and everything above exist once.
import type { Element } from '../xml/index.ts';
import type { ClientError } from './errors.ts';

export interface TransportEvents {
  /** A top-level element: stream features, a SASL element, a stanza or a stream error. */
  element(el: Element): void;
  /** The server ended the stream (</stream:stream>, or <close/> on WebSocket). */
  streamEnd(): void;
  /** The connection failed (socket error, malformed XML). */
  error(err: ClientError): void;
  /** The underlying connection is gone. */
  closed(): void;
}

export interface ClientTransport {
  /** Whether the connection is encrypted (TLS on TCP, wss: on WebSocket). */
  readonly secure: boolean;
  attach(on: TransportEvents): void;
  /** Starts a new stream (again after STARTTLS and SASL): the stream header on TCP, <open/> on WebSocket. */
  restart(domain: string): void;
  send(el: Element | string): void;
  /** Our end of the stream: </stream:stream> on TCP, <close/> on WebSocket. */
  endStream(): void;
  /** STARTTLS on the same connection (TCP only; RFC 7395 leaves TLS to the wss: URL). */
  startTls?(servername: string, options: import('./connection.ts').TlsOptions): Promise<void>;
  /** Ends the connection after what was sent has gone out. */
  shutdown(): void;
  /** Drops the connection now. */
  destroy(): void;
}
