// What a client session needs of its connection, so one session core (SASL, bind, routing, stream
// management, CSI, limits) serves every transport: TCP (RFC 6120, tcp-transport.ts) and WebSocket
// (RFC 7395, websocket/transport.ts). The session writes stream framing, elements and errors; the
// transport turns them into bytes (a <stream:stream> document on TCP, one message per element on WebSocket).
import type { SecureContext } from 'node:tls';
import type { StreamError } from '../../protocol/rfc6120.ts';

/** What a transport reports to the session holding it (one object per session, see C2sSession). */
export interface TransportHandlers {
  /** Bytes of an XML stream (TCP). */
  data(chunk: Buffer): void;
  /**
   * Text from a framed transport (WebSocket), for the session's stream parser. `element`: the text must
   * be exactly one complete top-level element (RFC 7395 §3.3.3); false for translated stream framing.
   */
  frame(text: string, element: boolean): void;
  /** The peer closed the stream (RFC 7395 `<close/>`); elements read before it are still processed. */
  end(): void;
  /** The transport refuses what it received (bad framing); the session ends with this stream error. */
  fail(err: StreamError): void;
  error(err: Error): void;
  /** The connection is gone. */
  close(): void;
  /** Nothing was received for the idle period. */
  timeout(): void;
  /** Output that had piled up has been handed to the network. */
  drain(): void;
}

/** The stream header's attributes, as the session decided them. */
export interface StreamOpen {
  id: string;
  from?: string;
  to?: string;
}

export interface C2sTransport {
  /** For logs and metrics. */
  readonly kind: 'tcp' | 'websocket';
  /** The client's address (a trusted proxy's X-Forwarded-For on WebSocket), captured at accept. */
  readonly remoteAddress: string;
  /** Address and port, for logs. */
  readonly peer: string;
  /** Encrypted, or as good as (see websocket/secure.ts). */
  readonly secure: boolean;
  /** STARTTLS can be offered on this transport (RFC 6120 §5); never on WebSocket (RFC 7395 §3.5). */
  readonly canStartTls: boolean;
  /** Bytes read from the connection so far. */
  readonly bytesRead: number;
  /** Bytes handed to the transport and not yet to the network. */
  readonly writableLength: number;
  readonly destroyed: boolean;
  readonly isPaused: boolean;
  /** Reports to `h` from now on (replacing any earlier handlers): the session holding the connection. */
  attach(h: TransportHandlers, idleTimeoutMs: number): void;
  /** The stream header (TCP) or `<open/>` (WebSocket), to write. */
  header(h: StreamOpen): string;
  /** A stream error (RFC 6120 §4.9), framed for this transport, to write before the footer. */
  errorText(err: StreamError): string;
  /** The closing of the stream: `</stream:stream>` or `<close/>`. */
  footer(): string;
  /** Writes whole elements (or framing text from the three above); false once above the high-water mark ('drain' follows). */
  write(data: string): boolean;
  /** Batches writes of one tick (TCP segments). */
  cork(): void;
  uncork(): void;
  pause(): void;
  resume(): void;
  /** Ends the connection once written. */
  end(): void;
  destroy(): void;
  /** The transport after STARTTLS; `proceed` has been written. Only where canStartTls. */
  startTls(context: SecureContext): C2sTransport;
  /** Channel binding types for SCRAM-*-PLUS (XEP-0440), strongest first; none where unavailable. */
  channelBindingTypes(): string[];
  channelBindingData(type: string): Buffer | undefined;
}
