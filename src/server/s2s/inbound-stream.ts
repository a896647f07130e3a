// A stream a remote server opened to us (RFC 6120 §4 with 'jabber:server'): STARTTLS (or direct TLS,
// XEP-0368), then either SASL EXTERNAL with the peer's certificate (XEP-0178) or XEP-0220 dialback, which
// authenticates remote domains one by one on this stream, as AuthPolicy allows. Stanzas are accepted only
// from an authenticated domain (else <invalid-from/>) and only to a domain served here (else <host-unknown/>).
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { Element, escapeAttr, x, type XmlLimits } from '../../xml/index.ts';
import { tryParseJid } from '../../jid/index.ts';
import { NS_CLIENT, NS_SASL, NS_SERVER, NS_STANZAS, NS_STREAM, NS_TLS, StreamError, isStanza } from '../../protocol/rfc6120.ts';
import type { Logger } from '../core/logger.ts';
import type { AuthPolicy } from './auth-policy.ts';
import type { DialbackKeys } from './dialback-key.ts';
import { NS_DIALBACK, NS_DIALBACK_FEATURE } from './namespaces.ts';
import { S2sStream } from './s2s-stream.ts';
import type { CertCheck, TrustStore } from './trust-store.ts';

/** What the authoritative server said of a dialback key: valid, invalid, or a XEP-0220 §2.4 error condition. */
export type VerifyOutcome = 'valid' | 'invalid' | { error: 'remote-server-not-found' | 'remote-connection-failed' | 'remote-server-timeout' };

/** The conditions of XEP-0220 §2.4's table that we send (stanza-error namespace, even remote-connection-failed). */
type DialbackErrorCondition = 'item-not-found' | 'policy-violation' | 'not-authorized' | Extract<VerifyOutcome, object>['error'];

export const S2S_ALPN = ['xmpp-server'];
import { TokenBucket } from '../core/limits/token-bucket.ts';

export interface InboundHost {
  readonly logger: Logger;
  readonly xmlLimits: XmlLimits;
  readonly idleTimeoutMs: number;
  /** A stream on which no domain has authenticated by then is closed (a peer that never finishes TLS, too). */
  readonly preauthTimeoutMs: number;
  /** Our certificate, and the CAs peer certificates are checked against (the trust store). */
  readonly tlsContext: SecureContext | undefined;
  readonly requireTls: boolean;
  readonly keys: DialbackKeys;
  readonly trust: TrustStore;
  readonly policy: AuthPolicy;
  isLocalDomain(domain: string): boolean;
  /** Asks the authoritative server of `originating` whether it issued `key` (db:verify, XEP-0220 §2.3). */
  authorize(receiving: string, originating: string, streamId: string, key: string): Promise<VerifyOutcome>;
  /** An accepted stanza from a remote server, for the stanza router; the next waits for it (RFC 6120 §10.1). Must not reject. */
  deliver(stanza: Element): Promise<void>;
  closed(stream: InboundStream): void;
  /** Whether `domain` may authenticate on one more stream (s2s.max_streams_per_domain). */
  mayAuthenticate(domain: string, stream: InboundStream): boolean;
  /** Stanzas per second read from the stream, and the burst. */
  readonly stanzaRate: { rate: number; burst: number };
}

/** Dialback requests of one stream awaiting their verification at once; a peer needs a handful at most. */
const MAX_PENDING_DIALBACK = 16;

export class InboundStream extends S2sStream {
  /** A new one after SASL, as RFC 6120 §6.4.6 asks. */
  streamId = randomBytes(12).toString('hex');
  /** Remote domain → the local domains it is authenticated to send to on this stream. */
  private readonly authenticated = new Map<string, Set<string>>();
  /** Remote domain → how it authenticated ('certificate' via EXTERNAL or a db:result a certificate covers, else 'dialback'). */
  readonly methods = new Map<string, 'certificate' | 'dialback'>();
  readonly since = Date.now();
  private localDomain = '';
  private verifying = 0;
  /** The stream's from domain, while SASL EXTERNAL is offered for it (its certificate verified). */
  private externalFor: string | undefined;
  private saslDone = false;

  constructor(socket: Socket, private readonly host: InboundHost, directTls = false) {
    super(socket, host.logger, host.xmlLimits, host.idleTimeoutMs);
    this.rate = new TokenBucket(host.stanzaRate.rate, host.stanzaRate.burst);
    this.remoteAddress = socket.remoteAddress ?? '';
    // XEP-0368: TLS from the first byte; the XML stream starts once it is up.
    if (directTls) this.upgrade();
    this.preauthTimer = setTimeout(() => {
      if (this.authenticated.size === 0) this.streamError(new StreamError('connection-timeout', 'no domain authenticated in time'));
    }, host.preauthTimeoutMs);
    this.preauthTimer.unref();
  }

  private readonly preauthTimer: NodeJS.Timeout;

  readonly remoteAddress: string;

  /** Remote domains authenticated on this stream (status, tests). */
  get domains(): string[] {
    return [...this.authenticated.keys()];
  }

  protected sendHeader(): void {
    this.headerSent = true;
    this.write(
      `<?xml version='1.0'?><stream:stream xmlns='${NS_SERVER}' xmlns:stream='${NS_STREAM}' xmlns:db='${NS_DIALBACK}'` +
        ` id='${this.streamId}'${this.localDomain ? ` from='${escapeAttr(this.localDomain)}'` : ''} version='1.0'>`,
    );
  }

  protected onStreamStart(root: Element): void {
    const to = (root.attrs.to ?? '').toLowerCase();
    if (!this.localDomain && this.host.isLocalDomain(to)) this.localDomain = to;
    this.sendHeader();
    if (root.local !== 'stream' || root.ns !== NS_STREAM) return this.streamError(new StreamError('invalid-namespace', 'the root element must be <stream:stream/>'));
    if (root.attrs.xmlns !== NS_SERVER) return this.streamError(new StreamError('invalid-namespace', `default namespace must be ${NS_SERVER}`));
    // RFC 6120 §4.7.2: 'to' may be absent on a server stream; dialback then names the domains itself.
    if (to && !this.host.isLocalDomain(to)) return this.streamError(new StreamError('host-unknown', `this server does not serve ${to}`));
    const f = x('stream:features');
    if (!this.secure && this.host.tlsContext) f.append(x('starttls', { xmlns: NS_TLS }, this.host.requireTls ? x('required') : undefined));
    this.externalFor = undefined;
    const from = domainAttr(root.attrs.from);
    if (this.secure && !this.saslDone && from && this.localDomain) {
      // XEP-0178 §2: EXTERNAL only when the certificate verifies and names the stream's from domain.
      const cert = this.certFor(from);
      if (cert.valid) {
        this.externalFor = from;
        f.append(x('mechanisms', { xmlns: NS_SASL }, x('mechanism', {}, 'EXTERNAL')));
      } else {
        this.logger.info({ stream: this.id, remote: from, reason: cert.reason }, 'not offering SASL EXTERNAL');
      }
    }
    if (this.secure || !this.host.requireTls) f.append(x('dialback', { xmlns: NS_DIALBACK_FEATURE }, x('errors')));
    this.send(f);
  }

  /** The peer's certificate checked against `domain` (undefined without TLS). */
  private certFor(domain: string): CertCheck {
    if (!(this.socket instanceof TLSSocket)) return { valid: false, reason: 'no TLS' };
    return this.host.trust.check(this.socket, domain);
  }

  protected async onElement(el: Element): Promise<void> {
    if (el.is('starttls', NS_TLS)) return this.startTls();
    if (el.is('auth', NS_SASL)) return this.onSaslAuth(el);
    if (el.ns === NS_DIALBACK && el.local === 'result') return this.onDialbackResult(el);
    if (el.ns === NS_DIALBACK && el.local === 'verify') return this.onDialbackVerify(el);
    if (isStanza(el) && el.ns === NS_SERVER) return this.onStanza(el);
    return this.streamError(new StreamError('unsupported-stanza-type'));
  }

  private startTls(): void {
    if (this.secure || !this.host.tlsContext) return this.streamError(new StreamError('unsupported-feature', 'TLS is not available on this stream'));
    this.write(x('proceed', { xmlns: NS_TLS }).toString());
    this.upgrade();
  }

  /** TLS as the server side, asking for the peer's certificate without requiring one (dialback may follow). */
  private upgrade(): void {
    const ctx = this.host.tlsContext;
    if (!ctx) return this.streamError(new StreamError('internal-server-error', 'no TLS certificate configured'));
    this.switchSocket((plain) => {
      const tls = new TLSSocket(plain, { isServer: true, secureContext: ctx, requestCert: true, rejectUnauthorized: false, ALPNProtocols: S2S_ALPN });
      tls.once('secure', () => recordPeerVerification(tls));
      // The verification result is read once; a renegotiation could swap the certificate behind it.
      tls.disableRenegotiation();
      return tls;
    });
  }

  /** XEP-0178 §2: SASL EXTERNAL, the authzid empty or the stream's from domain. */
  private onSaslAuth(el: Element): void {
    const failure = (condition: string, reason: string) => {
      this.logger.info({ stream: this.id, remote: this.externalFor, condition, reason, method: 'certificate' }, 'remote domain refused: SASL EXTERNAL failed');
      this.send(x('failure', { xmlns: NS_SASL }, x(condition)));
    };
    if (this.saslDone) return this.streamError(new StreamError('policy-violation', 'SASL is already done on this stream'));
    if (el.attrs.mechanism !== 'EXTERNAL') return failure('invalid-mechanism', `mechanism ${el.attrs.mechanism ?? '(none)'} is not offered`);
    const from = this.externalFor;
    if (!from) return failure('not-authorized', 'EXTERNAL was not offered (no certificate valid for the stream from domain)');
    const text = el.text().trim();
    let authzid = '';
    if (text && text !== '=') {
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return failure('incorrect-encoding', 'the authzid is not base64');
      authzid = Buffer.from(text, 'base64').toString('utf8').toLowerCase();
    }
    if (authzid && authzid !== from) return failure('invalid-authzid', `authzid ${authzid} is not the stream's from domain ${from}`);
    if (!this.host.mayAuthenticate(from, this)) {
      this.logger.info({ stream: this.id, remote: from, method: 'certificate' }, 'remote domain refused: too many streams from it already');
      return this.streamError(new StreamError('policy-violation', `too many streams from ${from} already`));
    }
    this.saslDone = true;
    this.externalFor = undefined;
    this.markAuthenticated(from, this.localDomain, 'certificate');
    this.host.policy.log('inbound', this.localDomain, from, { allow: true, method: 'certificate', reason: `SASL EXTERNAL: ${this.certFor(from).reason}` }, { stream: this.id });
    this.send(x('success', { xmlns: NS_SASL }));
    // RFC 6120 §6.4.6: the stream restarts, with a new id.
    this.streamId = randomBytes(12).toString('hex');
    this.headerSent = false;
    this.parser.reset();
  }

  private markAuthenticated(remote: string, local: string, method: 'certificate' | 'dialback'): void {
    let set = this.authenticated.get(remote);
    if (!set) this.authenticated.set(remote, (set = new Set()));
    set.add(local);
    if (!this.methods.has(remote) || method === 'certificate') this.methods.set(remote, method);
    clearTimeout(this.preauthTimer);
  }

  /**
   * s2s.max_streams_per_domain: refuses (XEP-0220 §2.4 policy-violation, the stream stays up) a domain not yet
   * authenticated here that already holds its share of streams. True when refused.
   */
  private tooManyStreams(remote: string, local: string): boolean {
    if (this.authenticated.has(remote) || this.host.mayAuthenticate(remote, this)) return false;
    this.logger.info({ stream: this.id, remote, local }, 'remote domain refused: too many streams from it already');
    this.dialbackError('result', local, remote, 'policy-violation');
    return true;
  }

  /** XEP-0220 §2.4: a refusal of one domain pair that leaves the stream (and its other pairs) up. */
  private dialbackError(kind: 'result' | 'verify', local: string, remote: string, condition: DialbackErrorCondition, id?: string): void {
    const type = condition === 'not-authorized' ? 'auth' : condition === 'remote-server-timeout' ? 'wait' : 'cancel';
    this.send(x(`db:${kind}`, { from: local, to: remote, id, type: 'error' }, x('error', { type }, x(condition, { xmlns: NS_STANZAS }))));
  }

  /** Refuses dialback on a stream that must be encrypted first (RFC 6120 §5.3.1 "required"). */
  private tlsMissing(): boolean {
    if (this.secure || !this.host.requireTls) return false;
    this.streamError(new StreamError('policy-violation', 'STARTTLS is required before dialback'));
    return true;
  }

  /**
   * XEP-0220 §2.1.2: the originating server asks to be authenticated for the pair (to, from). Answered once
   * its server has confirmed the key, without holding up this stream meanwhile: that server may be asking us
   * the same (db:verify) on this very stream, and waiting here would have both sides wait for each other.
   */
  private onDialbackResult(el: Element): void {
    if (el.attrs.type !== undefined || this.tlsMissing()) return;
    const from = domainAttr(el.attrs.from);
    const to = domainAttr(el.attrs.to);
    if (!from || !to) return this.streamError(new StreamError('improper-addressing', 'db:result needs from and to domains'));
    if (!this.host.isLocalDomain(to)) {
      this.logger.info({ stream: this.id, remote: from, local: to, method: 'dialback' }, 'remote domain refused: dialback for a domain not served here');
      return this.dialbackError('result', to, from, 'item-not-found');
    }
    // XEP-0344: dialback over TLS only, and a certificate valid for the sender domain is proof enough;
    // this holds for every domain multiplexed onto the stream, each checked against the certificate.
    const decision = this.host.policy.decide(from, this.secure ? this.certFor(from) : undefined, this.secure);
    this.host.policy.log('inbound', to, from, decision, { stream: this.id });
    if (!decision.allow) return this.dialbackError('result', to, from, decision.condition);
    if (decision.method === 'certificate') {
      if (this.tooManyStreams(from, to)) return;
      this.markAuthenticated(from, to, 'certificate');
      return this.send(x('db:result', { from: to, to: from, type: 'valid' }));
    }
    if (this.verifying >= MAX_PENDING_DIALBACK) return this.streamError(new StreamError('policy-violation', 'too many dialback requests awaiting verification'));
    this.verifying++;
    void this.verifyResult(from, to, el.text()).finally(() => this.verifying--);
  }

  private async verifyResult(from: string, to: string, key: string): Promise<void> {
    let outcome: VerifyOutcome = { error: 'remote-connection-failed' };
    try {
      outcome = await this.host.authorize(to, from, this.streamId, key);
    } catch (err) {
      this.logger.info({ stream: this.id, from, err: (err as Error).message }, 'dialback verification failed');
    }
    if (this.isClosed) return;
    if (typeof outcome === 'object') {
      this.logger.info({ stream: this.id, remote: from, local: to, method: 'dialback', condition: outcome.error }, 'remote domain refused: its dialback key could not be checked with its authoritative server');
      return this.dialbackError('result', to, from, outcome.error);
    }
    const valid = outcome === 'valid';
    if (valid && this.tooManyStreams(from, to)) return;
    this.logger.info({ stream: this.id, remote: from, local: to, valid, method: 'dialback' }, valid ? 'remote domain authenticated' : 'remote domain refused: its dialback key did not verify');
    if (valid) this.markAuthenticated(from, to, 'dialback');
    this.send(x('db:result', { from: to, to: from, type: valid ? 'valid' : 'invalid' }));
  }

  /** XEP-0220 §2.3.2: a receiving server asks whether we (the originating server) issued a key. */
  private onDialbackVerify(el: Element): void {
    if (el.attrs.type !== undefined || this.tlsMissing()) return;
    const receiving = domainAttr(el.attrs.from);
    const originating = domainAttr(el.attrs.to);
    const id = el.attrs.id;
    if (!receiving || !originating || !id) return this.streamError(new StreamError('improper-addressing', 'db:verify needs from, to and id'));
    if (!this.host.isLocalDomain(originating)) {
      this.logger.info({ stream: this.id, receiving, originating }, 'refused a dialback verification for a domain not served here');
      return this.dialbackError('verify', originating, receiving, 'item-not-found', id);
    }
    const valid = this.host.keys.verify(receiving, originating, id, el.text());
    this.logger.debug({ stream: this.id, receiving, originating, valid }, 'answered a dialback verification');
    this.send(x('db:verify', { from: originating, to: receiving, id, type: valid ? 'valid' : 'invalid' }));
  }

  private onStanza(el: Element): Promise<void> | void {
    const from = tryParseJid(el.attrs.from);
    const to = tryParseJid(el.attrs.to);
    if (!from || !to) return this.streamError(new StreamError('improper-addressing', 'a stanza needs valid from and to addresses'));
    // RFC 6120 §4.9.3.10 / §4.9.3.6: whatever a stanza claims, only what dialback proved counts.
    const allowed = this.authenticated.get(from.domain);
    if (!allowed) return this.streamError(new StreamError('invalid-from', `${from.domain} is not authenticated on this stream`));
    if (!this.host.isLocalDomain(to.domain)) return this.streamError(new StreamError('host-unknown', `this server does not serve ${to.domain}`));
    if (!allowed.has(to.domain)) return this.streamError(new StreamError('invalid-from', `${from.domain} is not authenticated for ${to.domain}`));
    // The stanza goes on in the namespace of whatever stream carries it next (a client's, mostly).
    delete el.attrs.xmlns;
    el.resolvedNs = NS_CLIENT;
    return this.host.deliver(el);
  }

  protected onClosed(): void {
    clearTimeout(this.preauthTimer);
    this.host.closed(this);
  }
}

function domainAttr(v: string | undefined): string | undefined {
  const j = tryParseJid(v);
  return j && !j.local && !j.resource ? j.domain : undefined;
}

/**
 * A TLSSocket made outside a tls.Server never gets `authorized` / `authorizationError` set (tls.Server's
 * own 'secure' handler does that); this is the same reading of OpenSSL's verification result.
 */
function recordPeerVerification(tls: TLSSocket): void {
  const handle = (tls as unknown as { _handle?: { verifyError?: () => (Error & { code?: string }) | null } })._handle;
  const err = handle?.verifyError?.();
  if (err) tls.authorizationError = Object.assign(new Error(err.code ?? err.message), { code: err.code });
  else if (handle?.verifyError) tls.authorized = true;
}
