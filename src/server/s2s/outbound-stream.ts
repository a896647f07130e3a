// A stream we opened to a remote server, for one pair (local domain → remote domain): STARTTLS when offered
// (required by default) or TLS from the start (XEP-0368), presenting our certificate; then SASL EXTERNAL
// when the remote server offers it (XEP-0178, it found our certificate valid), else XEP-0220 dialback with
// our XEP-0185 key. The remote server's certificate is checked against AuthPolicy (s2s.secure_auth). The
// same stream carries db:verify requests for the remote server's own inbound attempts, once negotiated.
import type { Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket, type SecureContext } from 'node:tls';
import { Element, escapeAttr, x, type XmlLimits } from '../../xml/index.ts';
import { NS_SASL, NS_SERVER, NS_STREAM, NS_TLS, StreamError } from '../../protocol/rfc6120.ts';
import type { Logger } from '../core/logger.ts';
import type { AuthPolicy } from './auth-policy.ts';
import type { DialbackKeys } from './dialback-key.ts';
import { S2S_ALPN, type VerifyOutcome } from './inbound-stream.ts';
import { NS_DIALBACK } from './namespaces.ts';
import { S2sStream } from './s2s-stream.ts';
import type { TrustStore } from './trust-store.ts';

export interface OutboundEvents {
  /** Negotiated (TLS done when required): db:verify requests may be sent. */
  ready(): void;
  authenticated(): void;
  verified(id: string, outcome: VerifyOutcome): void;
  /** The stream cannot carry our stanzas (refused, no TLS); why, in plain words. */
  failed(reason: string, condition?: 'remote-server-timeout'): void;
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
  /** Our certificate (presented to the peer) and the trust store's CAs. */
  tlsContext(): SecureContext | undefined;
  trust: TrustStore;
  policy: AuthPolicy;
}

export class OutboundStream extends S2sStream {
  streamId = '';
  private state: 'header' | 'features' | 'tls' | 'sasl' | 'dialback' | 'authenticated' = 'header';
  isReady = false;
  /** How we authenticated to the remote server, once we have. */
  method: 'certificate' | 'dialback' | undefined;
  private saslDone = false;

  constructor(socket: Socket, private readonly local: string, private readonly remote: string, private readonly o: OutboundOptions, private readonly ev: OutboundEvents, directTls = false) {
    super(socket, o.logger, o.xmlLimits, o.idleTimeoutMs);
    if (directTls) this.upgrade(true);
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
    if (!this.streamId && !this.saslDone) return this.fail('the remote server gave no stream id');
    this.state = 'features';
    if (root.attrs.version === undefined) this.onFeatures(x('stream:features'));
  }

  protected onElement(el: Element): void {
    if (this.state === 'features' && el.is('features', NS_STREAM)) return this.onFeatures(el);
    if (this.state === 'tls' && el.is('proceed', NS_TLS)) return this.startTls();
    if (this.state === 'tls' && el.is('failure', NS_TLS)) return this.fail('the remote server failed STARTTLS');
    if (this.state === 'sasl' && el.is('success', NS_SASL)) return this.onSaslSuccess();
    if (this.state === 'sasl' && el.is('failure', NS_SASL)) {
      const why = el.elements.find((e) => e.local !== 'text')?.local ?? 'failure';
      this.logger.info({ stream: this.id, local: this.local, remote: this.remote, condition: why }, 'SASL EXTERNAL refused by the remote server, trying dialback');
      return this.startDialback();
    }
    if (el.ns === NS_DIALBACK && el.local === 'verify') {
      if (el.attrs.id) this.ev.verified(el.attrs.id, verifyOutcome(el));
      return;
    }
    if (el.ns === NS_DIALBACK && el.local === 'result' && this.state === 'dialback') {
      if (el.attrs.type === 'valid') return this.authenticated('dialback');
      const why = el.getChild('error')?.elements[0]?.local;
      // XEP-0220 §2.4: after a dialback error, what waited goes back to its senders as remote-server-timeout.
      if (el.attrs.type === 'error') return this.fail(`the remote server refused dialback (${why ?? 'error'})`, 'remote-server-timeout');
      return this.fail('the remote server refused dialback');
    }
    // Stanzas flow the other way on an outbound stream (RFC 6120 §2.5 of dialback streams are one-way).
    this.logger.debug({ stream: this.id, el: el.name }, 'ignoring an element on an outbound stream');
  }

  private onFeatures(f: Element): void {
    if (this.saslDone) {
      // The restarted stream after SASL EXTERNAL: authenticated, nothing more to negotiate.
      this.isReady = true;
      this.ev.ready();
      return this.authenticated('certificate');
    }
    const starttls = f.elements.find((e) => e.is('starttls', NS_TLS));
    if (!this.secure && starttls) {
      this.state = 'tls';
      return this.send(x('starttls', { xmlns: NS_TLS }));
    }
    if (!this.secure && this.o.requireTls) return this.fail('the remote server does not offer STARTTLS, which s2s.require_tls requires');
    // Do we accept the remote server as who it claims to be? Its certificate, or dialback as policy allows.
    const cert = this.socket instanceof TLSSocket ? this.o.trust.check(this.socket, this.remote) : undefined;
    const decision = this.o.policy.decide(this.remote, cert, this.secure);
    this.o.policy.log('outbound', this.local, this.remote, decision, { stream: this.id });
    if (!decision.allow) return this.fail(`refused by policy: ${decision.reason}`);
    const external = f.getChild('mechanisms', NS_SASL)?.getChildren('mechanism').some((m) => m.text().trim() === 'EXTERNAL');
    if (this.secure && external) {
      this.state = 'sasl';
      // XEP-0178 §2: the authzid is our domain, base64.
      return this.send(x('auth', { xmlns: NS_SASL, mechanism: 'EXTERNAL' }, Buffer.from(this.local).toString('base64')));
    }
    this.startDialback();
  }

  private startDialback(): void {
    this.isReady = true;
    this.ev.ready();
    this.state = 'dialback';
    this.send(x('db:result', { from: this.local, to: this.remote }, this.o.keys.generate(this.remote, this.local, this.streamId)));
  }

  private onSaslSuccess(): void {
    this.saslDone = true;
    this.state = 'header';
    this.parser.reset();
    this.sendHeader();
  }

  private authenticated(method: 'certificate' | 'dialback'): void {
    this.state = 'authenticated';
    this.method = method;
    this.logger.info({ stream: this.id, local: this.local, remote: this.remote, method }, 'authenticated to remote server');
    this.ev.authenticated();
  }

  private startTls(): void {
    this.upgrade(false);
    this.state = 'header';
    this.sendHeader();
  }

  /**
   * TLS as the client side, with our certificate (for SASL EXTERNAL) and SNI for the remote domain. The
   * chain is not enforced here: AuthPolicy weighs the result once the stream is up, so dialback can follow.
   */
  private upgrade(direct: boolean): void {
    const ctx = this.o.tlsContext();
    this.switchSocket((plain) => {
      const tls = tlsConnect({
        socket: plain, servername: this.remote, secureContext: ctx, rejectUnauthorized: false, minVersion: 'TLSv1.2', ALPNProtocols: direct ? S2S_ALPN : undefined,
        // Node's HTTPS-style name check knows no SRV-ID or XmppAddr: `authorized` is left to the chain, and
        // the name is checked by cert-identity.ts (RFC 6125 with XMPP's identifiers).
        checkServerIdentity: () => undefined,
      });
      // The certificate is judged once the stream is up; no renegotiation may swap it afterwards.
      tls.disableRenegotiation();
      return tls;
    });
  }

  private fail(reason: string, condition?: 'remote-server-timeout'): void {
    this.logger.info({ stream: this.id, local: this.local, remote: this.remote, reason }, 'outbound server-to-server stream failed');
    this.ev.failed(reason, condition);
    this.close();
  }

  protected onClosed(): void {
    this.ev.closed();
  }

  protected override onDrain(): void {
    this.ev.drained?.();
  }
}

/** XEP-0220 §2.4: an authoritative server's error on db:verify means it does not know the domain. */
function verifyOutcome(el: Element): VerifyOutcome {
  if (el.attrs.type === 'valid') return 'valid';
  if (el.attrs.type === 'error') return { error: 'remote-server-not-found' };
  return 'invalid';
}
