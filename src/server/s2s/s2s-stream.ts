// What inbound and outbound server-to-server streams share: one XML stream over a socket that may be
// upgraded to TLS mid-way, a stream error and a graceful close. Each subclass runs its own negotiation.
import type { Socket } from 'node:net';
import { Element, StreamParser, type StreamParserEvents, type XmlLimits, type XmlStreamError } from '../../xml/index.ts';
import { NS_STREAM, StreamError } from '../../protocol/rfc6120.ts';
import type { Logger } from '../core/logger.ts';
import { TokenBucket } from '../core/limits/token-bucket.ts';

let nextId = 1;

export abstract class S2sStream {
  readonly id = `s2s${nextId++}`;
  protected socket: Socket;
  protected readonly parser: StreamParser;
  secure = false;
  protected headerSent = false;
  private closed = false;
  private closing = false;
  /** Stanzas are processed one after the other, in the order they arrived (RFC 6120 §10.1). */
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;

  /** Inbound stanza rate (set by subclasses that read stanzas): over it, processing waits, and so does reading. */
  protected rate: TokenBucket | undefined;
  /** Times reading was held back by the rate (status, tests). */
  throttled = 0;

  constructor(socket: Socket, protected readonly logger: Logger, limits: XmlLimits, private readonly idleTimeoutMs: number) {
    this.socket = socket;
    const self = this;
    const events: StreamParserEvents = {
      streamStart: (root) => self.onStreamStart(root),
      stanza: (el) => self.enqueue(el),
      streamEnd: () => {
        self.queue = self.queue.then(() => self.close());
      },
      error: (err: XmlStreamError) => self.streamError(new StreamError(err.condition, err.message)),
    };
    this.parser = new StreamParser(events, limits);
    this.attach(socket);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  protected attach(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => {
      if (!this.closed) this.parser.write(chunk);
    });
    socket.on('error', (err) => {
      this.logger.debug({ stream: this.id, err: err.message }, 's2s socket error');
      this.teardown(undefined);
    });
    socket.on('close', () => this.teardown(undefined));
    if (this.idleTimeoutMs > 0) socket.setTimeout(this.idleTimeoutMs, () => this.onIdle());
    socket.on('drain', () => this.onDrain());
  }

  /** Bytes written but not yet taken by the peer (output backpressure). */
  get pendingBytes(): number {
    return this.socket.writableLength;
  }

  /** The socket took all that was written; outbound links send what waited. */
  protected onDrain(): void {}

  /** Moves the stream onto a TLS socket wrapping the current one; the XML stream restarts (RFC 6120 §5.4.3.3). */
  protected switchSocket(make: (plain: Socket) => Socket): void {
    const plain = this.socket;
    plain.setTimeout(0);
    for (const ev of ['data', 'close', 'error', 'timeout']) plain.removeAllListeners(ev);
    this.socket = make(plain);
    this.secure = true;
    this.attach(this.socket);
    this.parser.reset();
  }

  private enqueue(el: Element): void {
    // As on client streams (RFC 6120 §13.12): the socket is not read while parsed stanzas wait, so a peer
    // makes us hold one read's worth of them, however fast it sends.
    if (this.queued++ === 0) this.socket.pause();
    // RFC 6120 §13.12: a flooding peer is slowed down, not allowed to take the server from everyone else.
    const wait = this.rate?.spend(1) ?? 0;
    if (wait > 0) this.throttled++;
    // The bucket says when this stanza may go; the stanzas before it may have waited part of that already.
    const at = performance.now() + wait;
    this.queue = this.queue
      .then(() => {
        const left = at - performance.now();
        return left > 0 && !this.closed ? new Promise<void>((r) => setTimeout(r, left)) : undefined;
      })
      .then(() => (this.closed ? undefined : el.is('error', NS_STREAM) ? this.onStreamErrorReceived(el) : this.onElement(el)))
      .catch((err) => {
        this.logger.error({ stream: this.id, err }, 'unhandled error on a server-to-server stream');
        this.streamError(new StreamError('internal-server-error'));
      })
      .then(() => {
        if (--this.queued === 0 && !this.closed && !this.socket.destroyed) this.socket.resume();
      });
  }

  private onStreamErrorReceived(el: Element): void {
    const condition = el.elements.find((c) => c.ns === 'urn:ietf:params:xml:ns:xmpp-streams' && c.local !== 'text')?.local;
    this.logger.info({ stream: this.id, condition }, 'peer sent a stream error');
    this.close();
  }

  protected write(data: string): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(data);
  }

  send(el: Element): void {
    this.write(el.toString());
  }

  protected abstract onStreamStart(root: Element): void;
  protected abstract onElement(el: Element): void | Promise<void>;
  /** Writes the stream header, for a stream error sent before one was. */
  protected abstract sendHeader(): void;
  protected abstract onClosed(err: StreamError | undefined): void;

  protected onIdle(): void {
    this.logger.debug({ stream: this.id }, 'closing an idle server-to-server stream');
    this.close();
  }

  streamError(err: StreamError): void {
    if (this.closed || this.closing) return;
    if (!this.headerSent) this.sendHeader();
    this.logger.info({ stream: this.id, condition: err.condition, text: err.text }, 's2s stream error');
    this.write(err.toElement().toString());
    this.close(err);
  }

  /** Our closing tag, then the TCP connection once written (the peer gets a moment for its own). */
  close(err?: StreamError): void {
    if (this.closed || this.closing) return;
    this.closing = true;
    if (this.headerSent) this.write('</stream:stream>');
    const socket = this.socket;
    setTimeout(() => socket.destroy(), 2000).unref();
    socket.end();
    this.teardown(err);
    if (!socket.destroyed) socket.resume();
  }

  private teardown(err: StreamError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.onClosed(err);
  }
}
