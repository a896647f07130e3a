// A stream we opened to a remote server, for one pair (local domain → remote domain): STARTTLS when offered
// (required by default), then XEP-0220 dialback with our XEP-0185 key. The same stream carries db:verify
// requests for the remote server's own inbound attempts, once it is negotiated.
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Element, escapeAttr, x, type XmlLimits } from '../../xml/index.ts';
import { NS_SERVER, NS_STREAM, NS_TLS, StreamError } from '../../protocol/rfc6120.ts';
import type { Logger } from '../core/logger.ts';
import type { DialbackKeys } from './dialback-key.ts';
import { NS_DIALBACK } from './namespaces.ts';
import { S2sStream } from './s2s-stream.ts';

export interface OutboundEvents {
  /** Negotiated (TLS done when required): db:verify requests may be sent. */
  ready(): void;
  authenticated(): void;
  verified(id: string, valid: boolean): void;
  /** The stream cannot carry our stanzas (refused, no TLS); why, in plain words. */
  failed(reason: string): void;
  closed(): void;
  /** The peer took everything written so far. */
  drained?(): void;
}

export interface OutboundOptions {
  logger: Logger;
  xmlLimits: XmlLimits;
  idleTimeoutMs: number;
  requireTls: boolean;
  keys: DialbackKeys;
}

export class OutboundStream extends S2sStream {
  streamId = '';
  private state: 'header' | 'features' | 'tls' | 'dialback' | 'authenticated' = 'header';
  isReady = false;
  /** How we were authenticated to the peer, once we are (status). */
  authMethod: string | undefined;

  constructor(socket: Socket, private readonly local: string, private readonly remote: string, private readonly o: OutboundOptions, private readonly ev: OutboundEvents) {
    super(socket, o.logger, o.xmlLimits, o.idleTimeoutMs);
    this.sendHeader();
  }

  get isAuthenticated(): boolean {
    return this.state === 'authenticated';
  }

  protected sendHeader(): void {
    this.headerSent = true;
    this.write(
      `<?xml version='1.0'?><stream:stream xmlns='${NS_SERVER}' xmlns:stream='${NS_STREAM}' xmlns:db='${NS_DIALBACK}'` +
        ` from='${escapeAttr(this.local)}' to='${escapeAttr(this.remote)}' version='1.0'>`,
    );
  }

  protected onStreamStart(root: Element): void {
    if (root.local !== 'stream' || root.ns !== NS_STREAM || root.attrs.xmlns !== NS_SERVER) {
      return this.streamError(new StreamError('invalid-namespace', `expected a ${NS_SERVER} stream`));
    }
    this.streamId = root.attrs.id ?? '';
    // XEP-0220 needs the stream id for the key; RFC 3920 servers without features get dialback anyway.
    if (!this.streamId) return this.fail('the remote server gave no stream id');
    this.state = 'features';
    if (root.attrs.version === undefined) this.onFeatures(x('stream:features'));
  }

  protected onElement(el: Element): void {
    if (this.state === 'features' && el.is('features', NS_STREAM)) return this.onFeatures(el);
    if (this.state === 'tls' && el.is('proceed', NS_TLS)) return this.startTls();
    if (this.state === 'tls' && el.is('failure', NS_TLS)) return this.fail('the remote server failed STARTTLS');
    if (el.ns === NS_DIALBACK && el.local === 'verify') {
      if (el.attrs.id) this.ev.verified(el.attrs.id, el.attrs.type === 'valid');
      return;
    }
    if (el.ns === NS_DIALBACK && el.local === 'result' && this.state === 'dialback') {
      if (el.attrs.type === 'valid') {
        this.state = 'authenticated';
        this.authMethod = 'dialback';
        this.logger.info({ stream: this.id, local: this.local, remote: this.remote, method: 'dialback' }, 'authenticated to remote server');
        return this.ev.authenticated();
      }
      const why = el.getChild('error')?.elements[0]?.local;
      return this.fail(`the remote server refused dialback${why ? ` (${why})` : ''}`);
    }
    // Stanzas flow the other way on an outbound stream (RFC 6120 §2.5 of dialback streams are one-way).
    this.logger.debug({ stream: this.id, el: el.name }, 'ignoring an element on an outbound stream');
  }

  private onFeatures(f: Element): void {
    const starttls = f.elements.find((e) => e.is('starttls', NS_TLS));
    if (!this.secure && starttls) {
      this.state = 'tls';
      return this.send(x('starttls', { xmlns: NS_TLS }));
    }
    if (!this.secure && this.o.requireTls) return this.fail('the remote server does not offer STARTTLS, which s2s.require_tls requires');
    this.isReady = true;
    this.ev.ready();
    this.state = 'dialback';
    this.send(x('db:result', { from: this.local, to: this.remote }, this.o.keys.generate(this.remote, this.local, this.streamId)));
  }

  private startTls(): void {
    // The certificate is not what authenticates the peer here: dialback is (XEP-0220 with XEP-0344 rules);
    // certificate authentication (XEP-0178) is not implemented yet, so an unverifiable one is accepted.
    this.switchSocket((plain) => tlsConnect({ socket: plain, servername: this.remote, rejectUnauthorized: false, minVersion: 'TLSv1.2' }));
    this.state = 'header';
    this.sendHeader();
  }

  private fail(reason: string): void {
    this.logger.info({ stream: this.id, local: this.local, remote: this.remote, reason }, 'outbound server-to-server stream failed');
    this.ev.failed(reason);
    this.close();
  }

  protected onClosed(): void {
    this.ev.closed();
  }

  protected override onDrain(): void {
    this.ev.drained?.();
  }
}
