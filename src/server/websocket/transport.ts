// A client stream over WebSocket (RFC 7395): one element per text message, <open/> and <close/> for the
// stream's framing, no STARTTLS (the connection is wss, or the endpoint trusts where it came from: see
// endpoint.ts) and no channel binding (a TLS-terminating proxy would break it; SCRAM -PLUS is not offered).
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { StreamError } from '../../protocol/rfc6120.ts';
import type { C2sTransport, StreamOpen, TransportHandlers } from '../core/transport.ts';
import { CLOSE, OPEN, checkClose, closeElement, headerFromOpen, openElement, selfContained, streamErrorElement } from './framing.ts';

export interface WebSocketPeer {
  address: string;
  port: number | undefined;
  /** Arrived over wss, or through a trusted proxy that says the client used https (endpoint.ts). */
  secure: boolean;
}

export class WebSocketTransport implements C2sTransport {
  readonly kind = 'websocket';
  readonly canStartTls = false;
  readonly remoteAddress: string;
  readonly peer: string;
  readonly secure: boolean;
  private h: TransportHandlers | undefined;
  /** Set by a see-other-host stream error: the <close/> carries the new address instead (RFC 7395 §3.6.1). */
  private seeOtherUri: string | undefined;
  /** The client sent <close/>: what it still sends is dropped. */
  private peerClosed = false;

  constructor(private readonly ws: WebSocket, private readonly socket: Socket, peer: WebSocketPeer) {
    this.remoteAddress = peer.address;
    this.peer = peer.address.includes(':') ? `[${peer.address}]:${peer.port ?? 0}` : `${peer.address}:${peer.port ?? 0}`;
    this.secure = peer.secure;
    ws.on('message', (data: Buffer, isBinary: boolean) => this.message(data, isBinary));
    ws.on('error', (err) => this.h?.error(err));
    ws.on('close', () => this.h?.close());
    socket.on('timeout', () => this.h?.timeout());
    socket.on('drain', () => this.h?.drain());
  }

  private message(data: Buffer, isBinary: boolean): void {
    const h = this.h;
    if (!h || this.peerClosed) return;
    // RFC 7395 §3.2: XMPP goes in text messages (UTF-8, which ws has already checked).
    if (isBinary) return h.fail(new StreamError('bad-format', 'XMPP over WebSocket uses text messages, not binary ones'));
    const text = data.toString('utf8');
    try {
      if (OPEN.test(text)) return h.frame(headerFromOpen(text), false);
      if (CLOSE.test(text)) {
        checkClose(text);
        this.peerClosed = true;
        return h.end();
      }
    } catch (err) {
      if (err instanceof StreamError) return h.fail(err);
      throw err;
    }
    h.frame(text, true);
  }

  get bytesRead(): number {
    return this.socket.bytesRead;
  }
  get writableLength(): number {
    return this.ws.bufferedAmount;
  }
  get destroyed(): boolean {
    return this.socket.destroyed;
  }
  get isPaused(): boolean {
    return this.ws.isPaused;
  }

  attach(h: TransportHandlers, idleTimeoutMs: number): void {
    this.h = h;
    if (idleTimeoutMs > 0) this.socket.setTimeout(idleTimeoutMs);
  }

  header(h: StreamOpen): string {
    return openElement(h);
  }

  errorText(err: StreamError): string {
    if (err.condition === 'see-other-host' && err.text && /^wss?:\/\//.test(err.text)) {
      this.seeOtherUri = err.text;
      return '';
    }
    return streamErrorElement(err);
  }

  footer(): string {
    return closeElement(this.seeOtherUri);
  }

  write(data: string): boolean {
    if (data === '' || this.ws.readyState !== this.ws.OPEN) return true;
    this.ws.send(selfContained(data));
    return !this.socket.writableNeedDrain;
  }

  cork(): void {
    this.socket.cork();
  }
  uncork(): void {
    this.socket.uncork();
  }
  pause(): void {
    this.ws.pause();
  }
  resume(): void {
    this.ws.resume();
  }
  end(): void {
    this.ws.close(1000);
  }
  destroy(): void {
    this.ws.terminate();
  }

  startTls(): C2sTransport {
    throw new Error('no STARTTLS over WebSocket (RFC 7395 §3.5)');
  }

  channelBindingTypes(): string[] {
    return [];
  }

  channelBindingData(): Buffer | undefined {
    return undefined;
  }
}
