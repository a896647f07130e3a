// A client stream over TCP (RFC 6120): one XML document per direction, STARTTLS, TLS channel bindings.
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { escapeAttr } from '../../xml/index.ts';
import { NS_CLIENT, NS_STREAM, type StreamError } from '../../protocol/rfc6120.ts';
import { channelBindingData, channelBindingTypes } from './sasl/index.ts';
import type { C2sTransport, StreamOpen, TransportHandlers } from './transport.ts';

export class TcpTransport implements C2sTransport {
  readonly kind = 'tcp';
  readonly canStartTls: boolean;
  readonly remoteAddress: string;
  readonly peer: string;
  private h: TransportHandlers | undefined;

  constructor(private readonly socket: Socket, readonly secure: boolean) {
    this.canStartTls = !secure;
    // Captured now: a destroyed socket forgets its address.
    this.remoteAddress = socket.remoteAddress ?? '';
    this.peer = this.remoteAddress.includes(':') ? `[${this.remoteAddress}]:${socket.remotePort}` : `${this.remoteAddress}:${socket.remotePort}`;
    socket.on('data', (chunk: Buffer) => this.h?.data(chunk));
    socket.on('error', (err) => this.h?.error(err));
    socket.on('close', () => this.h?.close());
    socket.on('timeout', () => this.h?.timeout());
    socket.on('drain', () => this.h?.drain());
    socket.setNoDelay(true);
    // A renegotiation would change what tls-unique channel binding means mid-stream (RFC 5929 §3.1: "the
    // most recent handshake"); no XMPP client needs one.
    if (socket instanceof TLSSocket) socket.disableRenegotiation();
  }

  get bytesRead(): number {
    return this.socket.bytesRead;
  }
  get writableLength(): number {
    return this.socket.writableLength;
  }
  get destroyed(): boolean {
    return this.socket.destroyed;
  }
  get isPaused(): boolean {
    return this.socket.isPaused();
  }

  attach(h: TransportHandlers, idleTimeoutMs: number): void {
    this.h = h;
    if (idleTimeoutMs > 0) this.socket.setTimeout(idleTimeoutMs);
  }

  header(h: StreamOpen): string {
    return (
      `<?xml version='1.0'?><stream:stream xmlns='${NS_CLIENT}' xmlns:stream='${NS_STREAM}' id='${h.id}'` +
      (h.from ? ` from='${escapeAttr(h.from)}'` : '') +
      (h.to ? ` to='${escapeAttr(h.to)}'` : '') +
      ` version='1.0' xml:lang='en'>`
    );
  }

  errorText(err: StreamError): string {
    return err.toElement().toString();
  }

  footer(): string {
    return '</stream:stream>';
  }

  write(data: string): boolean {
    return this.socket.write(data);
  }

  cork(): void {
    this.socket.cork();
  }
  uncork(): void {
    this.socket.uncork();
  }
  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    this.socket.resume();
  }
  end(): void {
    this.socket.end();
  }
  destroy(): void {
    this.socket.destroy();
  }

  startTls(context: SecureContext): C2sTransport {
    const plain = this.socket;
    this.h = undefined;
    plain.setTimeout(0);
    for (const ev of ['data', 'close', 'error', 'timeout', 'drain']) plain.removeAllListeners(ev);
    return new TcpTransport(new TLSSocket(plain, { isServer: true, secureContext: context }), true);
  }

  channelBindingTypes(): string[] {
    return this.socket instanceof TLSSocket ? channelBindingTypes(this.socket) : [];
  }

  channelBindingData(type: string): Buffer | undefined {
    return this.socket instanceof TLSSocket ? channelBindingData(this.socket, type) : undefined;
  }
}
