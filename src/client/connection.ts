// One client-to-server XMPP stream (RFC 6120) over TCP or WebSocket (transport.ts): connect, STARTTLS (§5), SASL
// (§6: SCRAM-SHA-256, SCRAM-SHA-1, PLAIN only over TLS unless explicitly allowed), resource binding (§7), then
// stanzas in and out until close. Higher concerns (IQ correlation, disco, caps) live in client.ts and friends.
import { EventEmitter } from 'node:events';
import { x, type Element } from '../xml/index.ts';
import { parseJid, type Jid } from '../jid/index.ts';
import { NS_BIND, NS_SASL, NS_SESSION, NS_STREAM, NS_STREAM_ERRORS, NS_TLS } from '../protocol/rfc6120.ts';
import { ClientError } from './errors.ts';
import { SCRAM_MECHANISMS, ScramSession } from './sasl-scram.ts';
import type { ClientTransport } from './transport.ts';
import { base64Utf8 as unb64, randomHex, utf8Base64 as b64 } from '../protocol/base64.ts';
import { TcpTransport } from './tcp-transport.ts';
import { WebSocketTransport } from './ws-transport.ts';

export interface TlsOptions {
  /** false accepts any certificate (self-signed test servers); only with an explicit opt-in. Default true. */
  rejectUnauthorized?: boolean;
  /** Pinned certificate(s) or CA(s) in PEM: the server's certificate must chain to one of these. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Name the certificate must carry; default the JID's domain. */
  servername?: string;
}

export interface ConnectOptions {
  /** Account JID; a resource in it is requested at bind time. */
  jid: string;
  password: string;
  /** WebSocket URL (RFC 7395, ws: or wss:) to use instead of TCP; host, port and tls are then unused. */
  websocket?: string;
  /** Host to connect to (default the JID's domain) and port (default 5222). No SRV lookup. */
  host?: string;
  port?: number;
  resource?: string;
  tls?: TlsOptions;
  /** Refuse to continue without TLS (default true). */
  requireTls?: boolean;
  /** Allow SASL PLAIN on a stream without TLS, which sends the password in clear (default false). */
  allowPlainWithoutTls?: boolean;
  /** Mechanisms we may use, in order of preference. */
  mechanisms?: string[];
  /** Bound on connecting and negotiating the stream (default 15 s). */
  timeoutMs?: number;
}

export const DEFAULT_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'];

export interface ConnectionEvents {
  stanza: [Element];
  close: [ClientError | undefined];
}

export interface NegotiatedInfo {
  jid: Jid;
  mechanism: string;
  tls: boolean;
  /** Stream features after authentication (for e.g. roster versioning). */
  features: Element;
}

/** A negotiated stream. Create with `Connection.open()`. */
export class Connection extends EventEmitter<ConnectionEvents> {
  private queue: Element[] = [];
  private waiter: { resolve: (el: Element) => void; reject: (e: Error) => void } | undefined;
  private failure: ClientError | undefined;
  private online = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private streamEnded = false;
  private onStreamEnd: (() => void) | undefined;
  private onTransportClosed: (() => void) | undefined;
  info!: NegotiatedInfo;

  private constructor(private readonly transport: ClientTransport, private readonly domain: string) {
    super();
    transport.attach({
      element: (el) => this.incoming(el),
      streamEnd: () => {
        this.streamEnded = true;
        this.onStreamEnd?.();
        // The server ended the stream; answer in kind and go.
        if (!this.closing) {
          this.transport.endStream();
          this.transport.shutdown();
        }
      },
      error: (e) => this.abort(e),
      closed: () => {
        this.onTransportClosed?.();
        this.abort(this.closing ? undefined : new ClientError('closed', 'the server closed the connection'));
      },
    });
  }

  static async open(opts: ConnectOptions): Promise<Connection> {
    const jid = parseJid(opts.jid);
    if (!jid.local) throw new ClientError('protocol', `${opts.jid} is not an account JID (it has no localpart)`);
    const host = opts.host ?? jid.domain;
    const port = opts.port ?? 5222;
    const timeoutMs = opts.timeoutMs ?? 15_000;
    const transport = opts.websocket
      ? await WebSocketTransport.connect(opts.websocket, timeoutMs)
      : await TcpTransport.connect(host, port, timeoutMs);
    const where = opts.websocket ?? `${host}:${port}`;
    const conn = new Connection(transport, jid.domain);
    const timer = setTimeout(() => conn.abort(new ClientError('timeout', `stream negotiation with ${where} did not finish within ${timeoutMs} ms`)), timeoutMs);
    try {
      await conn.negotiate(jid, opts);
    } catch (e) {
      conn.abort(e instanceof ClientError ? e : new ClientError('protocol', (e as Error).message, e));
      throw conn.failure ?? e;
    } finally {
      clearTimeout(timer);
    }
    return conn;
  }

  get jid(): Jid {
    return this.info.jid;
  }

  get isOpen(): boolean {
    return this.online && !this.closed;
  }

  get secure(): boolean {
    return this.transport.secure;
  }

  send(el: Element | string): void {
    if (this.closed) throw new ClientError('closed', 'the connection is closed');
    this.transport.send(el);
  }

  /** Closes the stream politely (RFC 6120 §4.4): our end of the stream, wait briefly for theirs, then the connection. */
  close(timeoutMs = 2000): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      if (this.closed) return;
      this.transport.endStream();
      await new Promise<void>((resolve) => {
        if (this.streamEnded || this.closed) return resolve();
        const t = setTimeout(resolve, timeoutMs);
        this.onStreamEnd = () => (clearTimeout(t), resolve());
        this.onTransportClosed = () => (clearTimeout(t), resolve());
      });
      this.transport.destroy();
      this.finish(undefined);
    })();
    return this.closing;
  }

  // ---------------------------------------------------------------- negotiation

  private async negotiate(jid: Jid, opts: ConnectOptions): Promise<void> {
    let features = await this.restartStream();
    const starttls = features.getChild('starttls', NS_TLS);
    if (starttls && this.transport.startTls) {
      this.send(x('starttls', { xmlns: NS_TLS }));
      const answer = await this.next();
      if (!answer.is('proceed', NS_TLS)) throw new ClientError('tls-failed', 'the server refused STARTTLS');
      await this.transport.startTls(this.domain, opts.tls ?? {});
      features = await this.restartStream();
    } else if (!this.transport.secure && (opts.requireTls ?? true)) {
      throw new ClientError('tls-required', 'the server does not offer STARTTLS; refusing to log in without TLS (use the insecure option only for local tests)');
    }
    const mechanism = await this.authenticate(jid, opts, features);
    features = await this.restartStream();
    const bound = await this.bind(features, opts.resource ?? (jid.resource || `pepkeys-${randomHex(4)}`));
    // RFC 6121 Appendix E: old servers need the session IQ; servers marking it <optional/> do not.
    const session = features.getChild('session', NS_SESSION);
    if (session && !session.getChild('optional', NS_SESSION)) {
      const id = `sess-${randomHex(4)}`;
      this.send(x('iq', { type: 'set', id }, x('session', { xmlns: NS_SESSION })));
      const r = await this.next();
      if (r.attrs.type !== 'result') throw new ClientError('protocol', 'session establishment failed');
    }
    this.info = { jid: bound, mechanism, tls: this.transport.secure, features };
    this.online = true;
    // Anything that arrived after the bind result goes out as stanzas now.
    for (const el of this.queue.splice(0)) this.emit('stanza', el);
  }

  private async restartStream(): Promise<Element> {
    this.transport.restart(this.domain);
    const features = await this.next();
    if (!features.is('features', NS_STREAM)) throw new ClientError('protocol', `expected stream features, got <${features.name}/>`);
    return features;
  }

  private async authenticate(jid: Jid, opts: ConnectOptions, features: Element): Promise<string> {
    const offered = (features.getChild('mechanisms', NS_SASL)?.getChildren('mechanism', NS_SASL) ?? []).map((m) => m.text().trim());
    const allowed = (opts.mechanisms ?? DEFAULT_MECHANISMS).filter((m) => offered.includes(m));
    // RFC 6120 §13.8: PLAIN sends the password itself; only over TLS unless the caller insisted.
    const usable = allowed.filter((m) => m !== 'PLAIN' || this.transport.secure || opts.allowPlainWithoutTls);
    const mech = usable[0];
    if (!mech) {
      const why = allowed.includes('PLAIN') ? ' (PLAIN is offered but the stream is not encrypted)' : '';
      throw new ClientError('no-mechanism', `no usable SASL mechanism: the server offers ${offered.join(', ') || 'none'}${why}`);
    }
    if (mech === 'PLAIN') {
      const msg = b64(`\0${jid.local}\0${opts.password}`);
      this.send(x('auth', { xmlns: NS_SASL, mechanism: mech }, msg));
      await this.saslOutcome(await this.next());
      return mech;
    }
    const hash = SCRAM_MECHANISMS[mech];
    if (!hash) throw new ClientError('no-mechanism', `unsupported mechanism ${mech}`);
    const scram = new ScramSession(hash, jid.local, opts.password);
    this.send(x('auth', { xmlns: NS_SASL, mechanism: mech }, b64(scram.initial())));
    const challenge = await this.next();
    if (!challenge.is('challenge', NS_SASL)) {
      await this.saslOutcome(challenge);
      throw new ClientError('auth-failed', 'the server skipped the SCRAM challenge');
    }
    this.send(x('response', { xmlns: NS_SASL }, b64(await scram.respond(unb64(challenge.text())))));
    let answer = await this.next();
    // RFC 6120 §6.4.6: the server-final-message may come as a challenge (then we answer empty) or in <success/>.
    if (answer.is('challenge', NS_SASL)) {
      scram.verifyFinal(unb64(answer.text()));
      this.send(x('response', { xmlns: NS_SASL }));
      answer = await this.next();
      await this.saslOutcome(answer);
      return mech;
    }
    await this.saslOutcome(answer);
    scram.verifyFinal(unb64(answer.text()));
    return mech;
  }

  private async saslOutcome(el: Element): Promise<void> {
    if (el.is('success', NS_SASL)) return;
    if (el.is('failure', NS_SASL)) {
      const condition = el.elements.find((c) => c.local !== 'text')?.local ?? 'failure';
      const text = el.getChildText('text', NS_SASL);
      const plain = condition === 'not-authorized' ? 'wrong user name or password' : condition;
      throw new ClientError('auth-failed', `authentication failed: ${plain}${text ? ` (${text})` : ''}`);
    }
    throw new ClientError('protocol', `unexpected <${el.name}/> during SASL`);
  }

  private async bind(features: Element, resource: string): Promise<Jid> {
    if (!features.getChild('bind', NS_BIND)) throw new ClientError('protocol', 'the server does not offer resource binding');
    const id = `bind-${randomHex(4)}`;
    this.send(x('iq', { type: 'set', id }, x('bind', { xmlns: NS_BIND }, x('resource', null, resource))));
    const r = await this.next();
    if (r.name !== 'iq' || r.attrs.id !== id) throw new ClientError('protocol', `unexpected <${r.name}/> while binding`);
    if (r.attrs.type !== 'result') throw new ClientError('protocol', `resource binding failed: ${r.getChild('error')?.firstElement()?.local ?? 'error'}`);
    const jidText = r.getChild('bind', NS_BIND)?.getChildText('jid', NS_BIND);
    if (!jidText) throw new ClientError('protocol', 'bind result without a JID');
    return parseJid(jidText);
  }

  // ---------------------------------------------------------------- plumbing

  private incoming(el: Element): void {
    if (el.is('error', NS_STREAM)) {
      const cond = el.elements.find((c) => c.ns === NS_STREAM_ERRORS && c.local !== 'text')?.local ?? 'undefined-condition';
      const text = el.getChildText('text', NS_STREAM_ERRORS);
      this.abort(new ClientError('stream-error', `the server closed the stream: ${cond}${text ? ` (${text})` : ''}`));
      return;
    }
    if (this.online) {
      this.emit('stanza', el);
      return;
    }
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve(el);
    } else this.queue.push(el);
  }

  private next(): Promise<Element> {
    if (this.failure) return Promise.reject(this.failure);
    const el = this.queue.shift();
    if (el) return Promise.resolve(el);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  private abort(err: ClientError | undefined): void {
    if (this.closed) return;
    if (err && !this.failure) this.failure = err;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.reject(err ?? new ClientError('closed', 'the connection is closed'));
    }
    this.transport.destroy();
    this.finish(err);
  }

  private finish(err: ClientError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.online = false;
    this.emit('close', err);
  }
}

