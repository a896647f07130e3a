// A stream a remote server opened to us (RFC 6120 §4 with 'jabber:server'): STARTTLS, then XEP-0220
// dialback, which authenticates remote domains one by one on this stream. Stanzas are accepted only from
// an authenticated domain (else <invalid-from/>) and only to a domain served here (else <host-unknown/>).
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { Element, escapeAttr, x, type XmlLimits } from '../../xml/index.ts';
import { tryParseJid } from '../../jid/index.ts';
import { NS_CLIENT, NS_SERVER, NS_STREAM, NS_TLS, StreamError, isStanza } from '../../protocol/rfc6120.ts';
import type { Logger } from '../core/logger.ts';
import type { DialbackKeys } from './dialback-key.ts';
import { NS_DIALBACK, NS_DIALBACK_FEATURE } from './namespaces.ts';
import { S2sStream } from './s2s-stream.ts';
import { TokenBucket } from '../core/limits/token-bucket.ts';

const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

export interface InboundHost {
  readonly logger: Logger;
  readonly xmlLimits: XmlLimits;
  readonly idleTimeoutMs: number;
  /** A stream on which no domain has authenticated by then is closed (a peer that never finishes TLS, too). */
  readonly preauthTimeoutMs: number;
  readonly tlsContext: SecureContext | undefined;
  readonly requireTls: boolean;
  readonly keys: DialbackKeys;
  isLocalDomain(domain: string): boolean;
  /** Asks the authoritative server of `originating` whether it issued `key` (db:verify, XEP-0220 §2.3). */
  authorize(receiving: string, originating: string, streamId: string, key: string): Promise<boolean>;
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
  readonly streamId = randomBytes(12).toString('hex');
  /** Remote domain → the local domains it is authenticated to send to on this stream. */
  private readonly authenticated = new Map<string, Set<string>>();
  /** How each remote domain was authenticated (status). */
  readonly methods = new Map<string, string>();
  readonly since = Date.now();
  private localDomain = '';
  private verifying = 0;

  constructor(socket: Socket, private readonly host: InboundHost) {
    super(socket, host.logger, host.xmlLimits, host.idleTimeoutMs);
    this.rate = new TokenBucket(host.stanzaRate.rate, host.stanzaRate.burst);
    this.remoteAddress = socket.remoteAddress ?? '';
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
    if (this.secure || !this.host.requireTls) f.append(x('dialback', { xmlns: NS_DIALBACK_FEATURE }, x('errors')));
    this.send(f);
  }

  protected async onElement(el: Element): Promise<void> {
    if (el.is('starttls', NS_TLS)) return this.startTls();
    if (el.ns === NS_DIALBACK && el.local === 'result') return this.onDialbackResult(el);
    if (el.ns === NS_DIALBACK && el.local === 'verify') return this.onDialbackVerify(el);
    if (isStanza(el) && el.ns === NS_SERVER) return this.onStanza(el);
    return this.streamError(new StreamError('unsupported-stanza-type'));
  }

  private startTls(): void {
    if (this.secure || !this.host.tlsContext) return this.streamError(new StreamError('unsupported-feature', 'TLS is not available on this stream'));
    this.write(x('proceed', { xmlns: NS_TLS }).toString());
    const ctx = this.host.tlsContext;
    this.switchSocket((plain) => new TLSSocket(plain, { isServer: true, secureContext: ctx }));
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
    if (!this.host.isLocalDomain(to)) return this.streamError(new StreamError('host-unknown', `this server does not serve ${to}`));
    if (this.verifying >= MAX_PENDING_DIALBACK) return this.streamError(new StreamError('policy-violation', 'too many dialback requests awaiting verification'));
    this.verifying++;
    void this.verifyResult(from, to, el.text()).finally(() => this.verifying--);
  }

  private async verifyResult(from: string, to: string, key: string): Promise<void> {
    let valid = false;
    try {
      valid = await this.host.authorize(to, from, this.streamId, key);
    } catch (err) {
      this.logger.info({ stream: this.id, from, err: (err as Error).message }, 'dialback verification failed');
    }
    if (this.isClosed) return;
    if (valid && !this.authenticated.has(from) && !this.host.mayAuthenticate(from, this)) {
      // XEP-0220 §2.4: a refusal that is not about the key.
      this.logger.info({ stream: this.id, from, to }, 'remote domain refused: too many streams from it already');
      this.send(x('db:result', { from: to, to: from, type: 'error' }, x('error', { type: 'wait' }, x('policy-violation', { xmlns: NS_STANZAS }))));
      return;
    }
    this.logger.info({ stream: this.id, from, to, valid, method: 'dialback' }, valid ? 'remote domain authenticated' : 'remote domain refused: its dialback key did not verify');
    if (valid) {
      let set = this.authenticated.get(from);
      if (!set) this.authenticated.set(from, (set = new Set()));
      set.add(to);
      this.methods.set(from, 'dialback');
    }
    this.send(x('db:result', { from: to, to: from, type: valid ? 'valid' : 'invalid' }));
  }

  /** XEP-0220 §2.3.2: a receiving server asks whether we (the originating server) issued a key. */
  private onDialbackVerify(el: Element): void {
    if (el.attrs.type !== undefined || this.tlsMissing()) return;
    const receiving = domainAttr(el.attrs.from);
    const originating = domainAttr(el.attrs.to);
    const id = el.attrs.id;
    if (!receiving || !originating || !id) return this.streamError(new StreamError('improper-addressing', 'db:verify needs from, to and id'));
    if (!this.host.isLocalDomain(originating)) return this.streamError(new StreamError('host-unknown', `this server does not serve ${originating}`));
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
