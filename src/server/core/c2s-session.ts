// One client-to-server stream (RFC 6120): stream negotiation, STARTTLS, SASL, resource binding, then
// stanzas handed to the stanza router. The session knows nothing of rosters, presence rules or pubsub;
// modules see it as a ModuleSession (cluster/) and keep their state on it under typed keys.
import { randomBytes } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import { Element, StreamParser, XmlStreamError, x, type StreamParserEvents, type XmlLimits } from '../../xml/index.ts';
import { Jid, JidError, normalizeResource, tryParseJid } from '../../jid/index.ts';
import {
  NS_BIND, NS_CLIENT, NS_SASL, NS_SASL_CB, NS_SESSION, NS_STREAM, NS_TLS, StanzaError, StreamError, errorReply, iqResult, isStanza,
  type StreamErrorCondition,
} from '../../protocol/rfc6120.ts';
import type { ModuleSession, SessionKey } from '../../cluster/index.ts';
import {
  LOCKED_OUT_TEXT, refused, type SaslExchange, type SaslFailure, type SaslMechanism, type SaslContext,
} from './sasl/index.ts';
import type { Logger } from './logger.ts';
import { TokenBucket } from './limits/token-bucket.ts';
import { SessionPipeline } from './pipeline.ts';
import type { StanzaContext } from './stanza-context.ts';
import type { AuthThrottle } from './limits/auth-throttle.ts';
import type { OutputBudget } from './limits/output-budget.ts';
import { PREAUTH_QUEUE } from './limits/memory-budget.ts';
import type { TrafficObserver } from './traffic.ts';
import type { StanzaLayer } from './stanza-layer.ts';
import type { C2sTransport, TransportHandlers } from './transport.ts';


/**
 * A stanza of a client stream. `jabber:server` stanzas belong on server-to-server streams only (RFC 6120
 * §4.8.2): a client sending one is refused like any other unknown first-level element.
 */
function isClientStanza(el: Element): boolean {
  return isStanza(el) && el.ns === NS_CLIENT;
}

/** Flow control of a session's output (RFC 6120 §13.12); see `output_*` in config.ts. */
export interface OutputLimits {
  /** Unsent bytes above which the session's input is neither read nor processed until the output drains. */
  readonly pauseBytes: number;
  /** Unsent bytes above which the session is closed. */
  readonly maxBytes: number;
  /** How long output may stay above pauseBytes without any of it being sent before the session is closed. */
  readonly stallMs: number;
}

/** A session's output beyond the socket's own buffer. */
interface OutputWatch {
  /** Checks that some of it is being sent. */
  stallTimer: NodeJS.Timeout | undefined;
  /** What had been sent when the check was armed. */
  stallMark: number;
  /** Resolves the stanzas waiting for the output to drain. */
  drained: { promise: Promise<void>; resolve: () => void } | undefined;
}

/** What a session needs from the server around it. */
export interface SessionHost {
  readonly logger: Logger;
  readonly xmlLimits: XmlLimits;
  /** The limits before authentication: a stranger gets small elements only. */
  readonly preauthXmlLimits: XmlLimits;
  readonly tlsContext: SecureContext | undefined;
  readonly requireTls: boolean;
  readonly allowInsecureAuth: boolean;
  readonly authFailureDelayMs: number;
  readonly maxAuthAttempts: number;
  readonly idleTimeoutMs: number;
  readonly preauthTimeoutMs: number;
  /** Stanza rate limit (token bucket), or undefined for none. */
  readonly stanzaRate: { rate: number; burst: number } | undefined;
  /** Bytes per second read from one connection; 0 = unlimited. */
  readonly bytesPerSecond: number;
  /** Bytes per second read from one connection before authentication; 0 = unlimited. */
  readonly preauthBytesPerSecond: number;
  /** The byte budget shared by every unauthenticated connection from this address; undefined = unlimited. */
  preauthBucket(ip: string): TokenBucket | undefined;
  readonly output: OutputLimits;
  readonly outputBudget: OutputBudget;
  readonly authThrottle: AuthThrottle;
  /** Sees every element read and every write (metrics, stanza trace); undefined when nobody looks. */
  readonly traffic: TrafficObserver | undefined;
  /** A failed authentication (metrics count them by SASL condition). */
  authFailure(session: C2sSession, condition: string, account: string | undefined): void;
  isLocalDomain(domain: string): boolean;
  mechanisms(): SaslMechanism[];
  /** Account lookup for SASL on a domain; the session adds what depends on its connection. */
  saslContext(domain: string): Pick<SaslContext, 'domain' | 'lookup' | 'secret'>;
  /** Extra stream features offered once authenticated (e.g. roster versioning). */
  postAuthFeatures(session: C2sSession): Element[];
  /** Registers the bound session (closing one it replaces), or refuses with a stanza error. */
  bind(session: C2sSession): StanzaError | undefined;
  /** Whether this stanza may start before the session's earlier ones have completed (pipeline.ts). */
  isPipelined(stanza: Element, to: Jid | undefined): boolean;
  /**
   * A stanza from this bound client, with `from` stamped and `to` validated, in its context. The session
   * waits for the returned promise (or the context's `proceed`) before processing its next stanza (RFC 6120
   * §10.1 in-order processing). Must not reject.
   */
  stanza(ctx: StanzaContext): Promise<void>;
  closed(session: C2sSession, error: StreamError | undefined): void;
  /**
   * Elements once authenticated, before the session's own handling: stream-level extensions (XEP-0198,
   * XEP-0352) consume theirs and return true.
   */
  streamElement(session: C2sSession, el: Element): boolean;
  /** The connection of a bound session dropped without a closing tag: true if the session is kept (XEP-0198 §5). */
  detached(session: C2sSession): boolean;
  /** A bound session's shared module state changed (a clustered directory replicates it). */
  sessionChanged?(session: C2sSession): void;
}

type State = 'wait-header' | 'negotiating' | 'authenticated' | 'bound' | 'closed';

let nextId = 1;

export class C2sSession implements ModuleSession {
  readonly id = `c2s${nextId++}`;
  readonly streamId = randomBytes(12).toString('hex');
  /** Per-module state; allocated by the first module that keeps some (most idle sessions never do). */
  private moduleState: Map<SessionKey<unknown>, unknown> | undefined;
  secure: boolean;
  domain = '';
  username = '';
  jid!: Jid;
  available = false;
  priority = 0;
  /** The last available presence broadcast by this resource. */
  presence: Element | undefined;
  private state: State = 'wait-header';
  /** The connection (TCP or WebSocket); STARTTLS and XEP-0198 resumption swap it. */
  private transport: C2sTransport;
  /** One parser for the connection's life, reset at each stream restart (a resumed session takes the new one's). */
  private parser: StreamParser;
  private readonly parserEvents: InstanceType<typeof C2sSession.ParserEvents>;
  /** Stream-level extensions on the stanza output (XEP-0352, XEP-0198), in rank order; most sessions have none. */
  private layers: StanzaLayer[] | undefined;
  /** Set on a connection whose session was resumed by another (XEP-0198): what it still had queued goes there. */
  private successor: C2sSession | undefined;
  private sasl: SaslExchange | undefined;
  /** The mechanism of the exchange in progress or last tried, for the log. */
  private saslMechanism: string | undefined;
  private authFailures = 0;
  private headerSent = false;
  private corked = false;
  private closing = false;
  private preauthTimer: NodeJS.Timeout | undefined;
  /** Serialises stanza processing so replies keep the order requests arrived in. */
  private queue: Promise<void> = Promise.resolve();
  /**
   * Parsed elements not yet processed. RFC 6120 §13.12: the socket is not read while there are any, so what
   * a client makes the server hold as parsed objects is one read's worth, however slowly its stanzas go.
   */
  private queued = 0;
  /** Reading is paused by a byte rate until this fires. */
  private rateTimer: NodeJS.Timeout | undefined;
  /** Characters handed to the socket so far; minus its writableLength, what has been sent. */
  private written = 0;
  /** Present while output waits beyond the socket's own buffer (most sessions never have any). */
  private watch: OutputWatch | undefined;
  /** Set once the session is being closed for its output: the stream error goes out unchecked. */
  private shed = false;
  /** Stanzas started before the previous one completed (publishes waiting to be durable), kept in order. */
  private readonly pipeline = new SessionPipeline();
  private readonly stanzaBucket: TokenBucket | undefined;
  private readonly byteBucket: TokenBucket | undefined;
  /** Top-level elements parsed so far (a framed transport checks one per message). */
  private parsed = 0;
  /** Allocated at the first read, dropped at authentication. */
  private preauthByteBucket: TokenBucket | undefined;

  /** Captured at accept (a destroyed socket forgets its address); a resumed session takes its new connection's. */
  remoteAddress: string;
  /** Address and port of the client, for logs (a resumed session takes its new connection's). */
  peer: string;
  /** Why the connection ended when no stream error says it (logged at disconnect). */
  closeReason: string | undefined;
  private logger: Logger | undefined;

  constructor(transport: C2sTransport, private readonly host: SessionHost) {
    this.transport = transport;
    this.remoteAddress = transport.remoteAddress;
    this.peer = transport.peer;
    this.secure = transport.secure;
    const sr = host.stanzaRate;
    this.stanzaBucket = sr ? new TokenBucket(sr.rate, sr.burst) : undefined;
    // One second's worth of burst: reading pauses rather than failing, like a slow network would.
    this.byteBucket = host.bytesPerSecond > 0 ? new TokenBucket(host.bytesPerSecond, host.bytesPerSecond) : undefined;
    this.parserEvents = new C2sSession.ParserEvents(this);
    this.parser = new StreamParser(this.parserEvents, host.preauthXmlLimits);
    this.attach(transport);
    this.preauthTimer = setTimeout(() => this.streamError(new StreamError('connection-timeout', 'not authenticated in time')), host.preauthTimeoutMs);
    this.preauthTimer.unref();
  }

  get<T>(key: SessionKey<T>): T | undefined {
    return this.moduleState?.get(key) as T | undefined;
  }

  set<T>(key: SessionKey<T>, value: T): void {
    (this.moduleState ??= new Map()).set(key, value);
    if (key.shared) this.host.sessionChanged?.(this);
  }

  delete(key: SessionKey<unknown>): void {
    if (this.moduleState?.delete(key) && key.shared) this.host.sessionChanged?.(this);
  }

  /** Shared module state (SessionKey.shared), encoded, for other cluster nodes. */
  sharedState(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of this.moduleState ?? []) if (k.shared) out[k.name] = k.shared.encode(v as never);
    return out;
  }

  end(condition: StreamErrorCondition, text?: string): void {
    this.streamError(new StreamError(condition, text));
  }

  /** The session's child logger: every line carries its id and peer address (made at the first line). */
  get log(): Logger {
    return (this.logger ??= this.host.logger.child({ session: this.id, peer: this.peer }));
  }

  get isBound(): boolean {
    return this.state === 'bound';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Bytes read from the connection so far (decrypted ones, over TLS). */
  get bytesRead(): number {
    return this.transport.bytesRead;
  }

  /** The session's connection from now on: what it reports comes here, and from no other. */
  private attach(transport: C2sTransport): void {
    transport.attach(new C2sSession.TransportEvents(this, transport), this.host.idleTimeoutMs);
  }

  /**
   * A transport's reports as prototype methods, like the parser's. A transport this session has let go
   * (STARTTLS, XEP-0198 resumption elsewhere) no longer speaks for it.
   */
  private static readonly TransportEvents = class implements TransportHandlers {
    constructor(readonly s: C2sSession, readonly t: C2sTransport) {}
    data(chunk: Buffer): void {
      const s = this.s;
      // After the stream is closed, what the peer still sends is neither parsed nor charged to anyone.
      if (s.state === 'closed' || s.transport !== this.t) return;
      s.parser.write(chunk);
      s.limitRate(chunk.length);
      s.updateReading();
    }
    frame(text: string, element: boolean): void {
      const s = this.s;
      if (s.state === 'closed' || s.transport !== this.t) return;
      const before = s.parsed;
      s.parser.writeString(text);
      // RFC 7395 §3.3.3: every message is one whole element; half of one, or two, is not a document.
      if (element && !s.isClosed && (s.parsed !== before + 1 || !s.parser.betweenElements)) {
        s.streamError(new StreamError('not-well-formed', 'a WebSocket message must hold exactly one complete XML element'));
      }
      s.limitRate(text.length);
      s.updateReading();
    }
    end(): void {
      const s = this.s;
      if (s.transport === this.t && !s.isClosed) s.parserEvents.streamEnd();
    }
    fail(err: StreamError): void {
      if (this.s.transport === this.t) this.s.streamError(err);
    }
    error(err: Error): void {
      const s = this.s;
      if (s.transport !== this.t) return;
      s.closeReason ??= (err as NodeJS.ErrnoException).code ?? err.message;
      s.log.debug({ err: err.message }, 'connection error');
      s.teardown(undefined);
    }
    close(): void {
      if (this.s.transport === this.t) this.s.teardown(undefined);
    }
    timeout(): void {
      if (this.s.transport === this.t) this.s.streamError(new StreamError('connection-timeout', 'idle for too long'));
    }
    drain(): void {
      if (this.s.transport === this.t) this.s.onDrain();
    }
  };

  /** The parser's events as prototype methods: one small object per session instead of four closures. */
  private static readonly ParserEvents = class implements StreamParserEvents {
    constructor(public s: C2sSession) {}
    streamStart(root: Element): void {
      this.s.onStreamStart(root);
    }
    stanza(el: Element): void {
      this.s.onParsed(el);
    }
    // Stanzas before the closing tag are still being processed in order; close after them.
    streamEnd(): void {
      const s = this.s;
      s.closeReason ??= 'client closed the stream';
      s.queue = s.queue.then(() => s.pipeline.idle()).then(() => s.close());
    }
    error(err: XmlStreamError): void {
      this.s.onXmlError(err);
    }
  };

  private onParsed(el: Element): void {
    this.parsed++;
    this.host.traffic?.read(this, el);
    // RFC 6120 §13.12: a flooding client loses its stream, not everyone else their service.
    if (this.stanzaBucket && !this.stanzaBucket.take()) return this.streamError(new StreamError('policy-violation', 'too many stanzas per second'));
    if (!this.username) {
      // Refused as it arrives, not once the elements queued before it are answered (the answer to a failed
      // <auth/> is delayed on purpose): a stranger gets nothing held for it beyond a few negotiation steps.
      if (!(el.ns === NS_SASL || el.is('starttls', NS_TLS) || el.is('error', NS_STREAM))) {
        // RFC 6120 §4.9.3.12: stanzas before authentication are refused with not-authorized.
        return this.streamError(new StreamError(isClientStanza(el) ? 'not-authorized' : 'unsupported-stanza-type'));
      }
      if (this.queued >= PREAUTH_QUEUE) return this.streamError(new StreamError('policy-violation', 'too many negotiation elements awaiting an answer'));
    }
    this.enqueue(el);
  }

  // ------------------------------------------------------------------------------------------ flow control
  /** Reading stops while stanzas wait, while a byte rate says so, and while the output has not drained. */
  private updateReading(): void {
    const t = this.transport;
    if (this.state === 'closed' || t.destroyed) return;
    const hold = this.queued > 0 || this.rateTimer !== undefined || t.writableLength > this.host.output.pauseBytes;
    if (hold !== t.isPaused) {
      if (hold) t.pause();
      else t.resume();
    }
  }

  /** Spends read bytes from the byte buckets and pauses reading for as long as they are in debt. */
  private limitRate(bytes: number): void {
    let wait: number;
    if (this.username) wait = this.byteBucket?.spend(bytes) ?? 0;
    else {
      // Before authentication a connection reads slowly, and all of one address's together too: parsing
      // is the one thing a stranger can make the server do, and one thread does it for everyone.
      const rate = this.host.preauthBytesPerSecond;
      const own = rate > 0 ? (this.preauthByteBucket ??= new TokenBucket(rate, rate)).spend(bytes) : 0;
      wait = Math.max(own, this.host.preauthBucket(this.remoteAddress)?.spend(bytes) ?? 0);
    }
    if (wait <= 0) return;
    clearTimeout(this.rateTimer);
    this.rateTimer = setTimeout(() => {
      this.rateTimer = undefined;
      this.updateReading();
    }, wait);
    this.rateTimer.unref();
  }

  /** Undefined while the output is below the pause threshold; else settles once it has drained. */
  private outputRoom(): Promise<void> | undefined {
    // Above the pause threshold a write has found the socket full, so the watch is there.
    const w = this.watch;
    if (!w || this.transport.writableLength <= this.host.output.pauseBytes || this.state === 'closed') return undefined;
    if (!w.drained) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      w.drained = { promise, resolve };
    }
    return w.drained.promise;
  }

  /**
   * Output beyond the socket's own buffer: reported to the server-wide budget, watched for stalling, and
   * released at 'drain' (which the socket emits once a write has found it above its high-water mark).
   */
  private trackOutput(): void {
    const pending = this.transport.writableLength;
    let w = this.watch;
    if (!w) w = this.watch = { stallTimer: undefined, stallMark: 0, drained: undefined };
    const limits = this.host.output;
    if (!this.host.outputBudget.hold(this, pending) && pending > limits.pauseBytes) return this.overflow('the server holds too much unsent output');
    if (pending > limits.pauseBytes && !w.stallTimer) {
      w.stallMark = this.written - pending;
      w.stallTimer = setTimeout(() => this.checkStall(), limits.stallMs);
      w.stallTimer.unref();
    }
  }

  private onDrain(): void {
    const w = this.watch;
    if (!w) return;
    this.watch = undefined;
    this.host.outputBudget.release(this);
    clearTimeout(w?.stallTimer);
    w?.drained?.resolve();
    this.updateReading();
  }

  /** A reader that took nothing for a whole period while output waited has stopped reading. */
  private checkStall(): void {
    const w = this.watch;
    if (!w || this.state === 'closed') return;
    w.stallTimer = undefined;
    const pending = this.transport.writableLength;
    if (pending <= this.host.output.pauseBytes) return;
    const sent = this.written - pending;
    if (sent <= w.stallMark) return this.overflow('the client does not read its stream');
    w.stallMark = sent;
    w.stallTimer = setTimeout(() => this.checkStall(), this.host.output.stallMs);
    w.stallTimer.unref();
  }

  /** Closes a session whose output cannot be held: it loses its stream rather than the server its memory. */
  private overflow(text: string): void {
    if (this.shed || this.state === 'closed') return;
    this.shed = true;
    this.log.info({ pending: this.transport.writableLength }, 'closing a session that does not read its output');
    this.streamError(new StreamError('policy-violation', text));
    // What is queued would never be read; keeping it for the closing handshake would keep the memory too.
    this.transport.destroy();
  }

  // ------------------------------------------------------------------------------------------ output
  deliver(stanza: Element | string): void {
    if (typeof stanza === 'string') this.output(0, stanza, undefined);
    else this.output(0, stanza.toString(), stanza);
  }

  send(stanza: Element): void {
    this.output(0, stanza.toString(), stanza);
  }

  /** Writes stream-level data as it is: for the extensions' own elements and the stanzas their layers pass on. */
  transmit(data: string): void {
    this.write(data);
  }

  /** Puts a stream-level extension on this session's stanza output (XEP-0352, XEP-0198). */
  addLayer(layer: StanzaLayer): void {
    const l = (this.layers ??= []);
    l.push(layer);
    l.sort((a, b) => a.rank - b.rank);
  }

  /** A stanza a layer held back, handed to the layers after it (and the socket). */
  passOn(layer: StanzaLayer, data: string): void {
    const i = this.layers?.indexOf(layer) ?? -1;
    if (i >= 0) this.output(i + 1, data, undefined);
  }

  /** A stanza through the output layers from the i-th on, then to the socket. */
  private output(i: number, data: string, el: Element | undefined): void {
    const layer = this.layers?.[i];
    if (!layer) return this.write(data);
    layer.stanza(data, el, (d, e) => this.output(i + 1, d, e));
  }

  private write(data: string): void {
    const t = this.transport;
    if (this.state === 'closed' || t.destroyed) return;
    this.host.traffic?.wrote(this, data);
    const pending = t.writableLength;
    // Output above the pause threshold comes from others (the session's own stanzas wait for it to drain):
    // past the hard limit, the recipient is dropped instead of buffered for without bound.
    if (pending > this.host.output.pauseBytes && pending + data.length > this.host.output.maxBytes && !this.shed) {
      return this.overflow('too much unsent output');
    }
    // Writes in one tick go out in one TCP segment where possible.
    if (!this.corked) {
      this.corked = true;
      t.cork();
      C2sSession.uncorkLater(this, t);
    }
    this.written += data.length;
    if (!t.write(data) && !this.shed) this.trackOutput();
  }

  /**
   * Sessions corked in this tick, each followed by the transport it corked (STARTTLS swaps the session's
   * before the tick ends), uncorked by one tick callback in the order they were corked: a fan-out to 500
   * sessions schedules one callback rather than 500 closures.
   */
  private static corkedNow: (C2sSession | C2sTransport)[] = [];

  private static uncorkLater(s: C2sSession, t: C2sTransport): void {
    if (C2sSession.corkedNow.push(s, t) === 2) process.nextTick(C2sSession.uncorkAll);
  }

  private static uncorkAll(): void {
    const list = C2sSession.corkedNow;
    // A write made while uncorking (none today: errors and 'drain' are emitted later) corks for the next tick.
    C2sSession.corkedNow = [];
    for (let i = 0; i < list.length; i += 2) {
      (list[i] as C2sSession).corked = false;
      (list[i + 1] as C2sTransport).uncork();
    }
  }

  private sendHeader(to?: string): void {
    this.headerSent = true;
    this.write(this.transport.header({ id: this.streamId, from: this.domain || to || undefined, to: this.jid?.bare }));
  }

  // ------------------------------------------------------------------------------------------ stream
  private onStreamStart(root: Element): void {
    // RFC 6120 §4.8: the stream element must be stream:stream in the streams namespace, default jabber:client.
    const to = root.attrs.to;
    if (!this.domain) {
      const d = to ? tryParseJid(to) : undefined;
      if (d && d.isBare() && !d.local && this.host.isLocalDomain(d.domain)) this.domain = d.domain;
    }
    this.sendHeader(to);
    if (root.local !== 'stream' || root.ns !== NS_STREAM) return this.streamError(new StreamError('invalid-namespace', 'the root element must be <stream:stream/>'));
    if (root.attrs.xmlns !== NS_CLIENT) return this.streamError(new StreamError('invalid-namespace', `default namespace must be ${NS_CLIENT}`));
    if (!to) return this.streamError(new StreamError('host-unknown', "the stream header needs a 'to' attribute"));
    if (!this.domain || (this.state !== 'wait-header' && to.toLowerCase() !== this.domain)) return this.streamError(new StreamError('host-unknown', `this server does not serve ${to}`));
    const version = root.attrs.version;
    if (!version || !/^1\.\d+$/.test(version)) return this.streamError(new StreamError('unsupported-version', 'XMPP 1.0 streams only'));
    if (this.state === 'wait-header') this.state = 'negotiating';
    this.write(this.features().toString());
  }

  private features(): Element {
    const f = x('stream:features');
    if (this.state === 'authenticated') {
      f.append(x('bind', { xmlns: NS_BIND }));
      // RFC 6121 Appendix E: advertise the RFC 3921 session feature as optional for old clients.
      f.append(x('session', { xmlns: NS_SESSION }, x('optional')));
      for (const extra of this.host.postAuthFeatures(this)) f.append(extra);
      return f;
    }
    if (!this.secure && this.transport.canStartTls && this.host.tlsContext) {
      f.append(x('starttls', { xmlns: NS_TLS }, this.host.requireTls ? x('required') : undefined));
    }
    if (this.secure || !this.host.requireTls) {
      const mechs = x('mechanisms', { xmlns: NS_SASL });
      for (const m of this.offeredMechanisms()) mechs.append(x('mechanism', null, m.name));
      f.append(mechs);
      const cb = this.cbTypes();
      // XEP-0440: announce which channel bindings the -PLUS mechanisms accept here.
      if (cb.length) f.append(x('sasl-channel-binding', { xmlns: NS_SASL_CB }, cb.map((type) => x('channel-binding', { type }))));
    }
    return f;
  }

  private offeredMechanisms(): SaslMechanism[] {
    const cb = this.cbTypes().length > 0;
    return this.host.mechanisms().filter((m) => (m.channelBinding ? cb : this.secure || !m.requiresTls || this.host.allowInsecureAuth));
  }

  private cbTypes(): string[] {
    return this.transport.channelBindingTypes();
  }

  private saslContext(): SaslContext {
    const t = this.transport;
    return {
      ...this.host.saslContext(this.domain),
      channelBinding: (type) => t.channelBindingData(type),
      channelBindingTypes: this.cbTypes(),
      offeredMechanisms: this.offeredMechanisms().map((m) => m.name),
      lockedOut: (username) => this.host.authThrottle.blocked(this.remoteAddress, `${username}@${this.domain}`),
    };
  }

  private enqueue(el: Element): void {
    this.queued++;
    this.queue = this.queue
      .then(() => {
        // The session's own answers wait while its output has not drained: a client that does not read
        // cannot make the server produce (and hold) more for it.
        const room = this.outputRoom();
        return room ? room.then(() => this.onElement(el)) : this.onElement(el);
      })
      .catch((err) => {
        this.log.error({ err }, 'unhandled error processing a stanza');
        this.streamError(new StreamError('internal-server-error'));
      })
      .then(() => {
        const s = this.successor ?? this;
        if (--s.queued === 0) s.updateReading();
      });
  }

  private async onElement(el: Element): Promise<void> {
    if (this.successor) return this.successor.onElement(el);
    if (this.state === 'closed') return;
    // RFC 6120 §4.9.1.1: a stream error ends the stream; the receiver closes it too, without an error of
    // its own (answering one with another could loop).
    if (el.is('error', NS_STREAM)) {
      this.closeReason = `client sent stream error ${el.elements[0]?.local}`;
      this.log.info({ condition: el.elements[0]?.local }, 'client sent a stream error');
      return this.close();
    }
    if ((this.state === 'bound' || this.state === 'authenticated') && this.host.streamElement(this, el)) return;
    switch (this.state) {
      case 'negotiating':
        return this.negotiate(el);
      case 'authenticated':
        return this.beforeBind(el);
      case 'bound':
        return this.onStanza(el);
      default:
        return this.streamError(new StreamError('not-authorized'));
    }
  }

  private async negotiate(el: Element): Promise<void> {
    if (el.is('starttls', NS_TLS)) return this.startTls();
    if (el.ns === NS_SASL) return this.onSasl(el);
    // RFC 6120 §4.9.3.12: stanzas before authentication are refused with not-authorized.
    return this.streamError(new StreamError(isClientStanza(el) ? 'not-authorized' : 'unsupported-stanza-type'));
  }

  private startTls(): void {
    if (this.secure || !this.transport.canStartTls || !this.host.tlsContext) return this.streamError(new StreamError('unsupported-feature', 'TLS is not available on this stream'));
    this.write(x('proceed', { xmlns: NS_TLS }).toString());
    const tls = this.transport.startTls(this.host.tlsContext);
    this.transport = tls;
    this.secure = true;
    this.state = 'wait-header';
    this.attach(tls);
    // RFC 6120 §5.4.3.3: both sides discard the old stream and start a new one over TLS.
    this.parser.reset();
  }

  private async onSasl(el: Element): Promise<void> {
    if (this.host.requireTls && !this.secure) return this.authFailed(refused('encryption-required', 'SASL before STARTTLS', { text: 'STARTTLS first' }), false);
    if (el.local === 'auth') {
      this.saslMechanism = el.attrs.mechanism;
      if (this.host.authThrottle.blocked(this.remoteAddress, undefined)) {
        return this.authFailed(refused('temporary-auth-failure', 'address locked out: too many failed logins', { text: LOCKED_OUT_TEXT }), false);
      }
      const mech = this.offeredMechanisms().find((m) => m.name === el.attrs.mechanism);
      if (!mech) return this.authFailed(refused('invalid-mechanism', 'mechanism not offered on this stream'), false);
      this.sasl = mech.start(this.saslContext());
      const data = this.decodeSasl(el.text());
      if (data === null) return this.authFailed(refused('incorrect-encoding', 'initial response is not base64'), false);
      return this.saslStep(data);
    }
    if (el.local === 'response') {
      if (!this.sasl) return this.authFailed(refused('malformed-request', 'response without an exchange in progress', { text: 'no exchange in progress' }), false);
      const data = this.decodeSasl(el.text());
      if (data === null) return this.authFailed(refused('incorrect-encoding', 'response is not base64'), false);
      return this.saslStep(data ?? Buffer.alloc(0));
    }
    if (el.local === 'abort') {
      // Not a failed password: an abort ends an exchange before any proof is checked, so it tests none. (What
      // <auth/> + <abort/> probes could once learn, which accounts exist, the per-mechanism fake salts hide.)
      this.sasl = undefined;
      return this.authFailed(refused('aborted', 'the client aborted the exchange'));
    }
    return this.streamError(new StreamError('unsupported-stanza-type'));
  }

  /** undefined = no data; null = invalid base64 (RFC 6120 §6.4.2: '=' stands for an empty response). */
  private decodeSasl(text: string): Buffer | undefined | null {
    const t = text.trim();
    if (t === '') return undefined;
    if (t === '=') return Buffer.alloc(0);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t) || t.length % 4 !== 0) return null;
    return Buffer.from(t, 'base64');
  }

  /**
   * Answers a failed exchange, logging why, and ends the stream past the per-stream limit (RFC 6120 §6.4.5),
   * which counts exchanges that were started (`attempt`), not elements refused before one could start.
   * Only a wrong password or proof counts toward the login throttles, and only it waits for their delay.
   */
  private async authFailed(step: SaslFailure, attempt = true): Promise<void> {
    if (attempt) this.authFailures++;
    const account = step.username ? `${step.username}@${this.domain}` : undefined;
    const counted = step.badCredentials === true;
    this.log.info(
      { ip: this.remoteAddress, mechanism: this.saslMechanism, account, condition: step.condition, reason: step.reason, counted },
      `authentication failed: ${step.reason}`,
    );
    // The metric's label is a fixed set (reasons carry free text): a wrong password, or the SASL condition.
    this.host.authFailure(this, counted ? 'bad-credentials' : step.condition, account);
    if (counted) {
      // A pause before answering, growing with recent failures from this IP or on this account, makes
      // online password guessing slow (RFC 6120 §13.9.3) even across reconnections.
      const delay = this.host.authThrottle.fail(this.remoteAddress, account);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    }
    this.saslFailure(step.condition, step.text);
    if (this.authFailures >= this.host.maxAuthAttempts) this.streamError(new StreamError('policy-violation', 'too many failed authentication attempts'));
  }

  private async saslStep(data: Buffer | undefined): Promise<void> {
    const step = await this.sasl!.step(data);
    if (this.state === 'closed') return;
    if (step.kind === 'challenge') {
      this.write(`<challenge xmlns='${NS_SASL}'>${step.data.length ? step.data.toString('base64') : '='}</challenge>`);
      return;
    }
    this.sasl = undefined;
    if (step.kind === 'failure') return this.authFailed(step);
    this.username = step.username;
    this.state = 'authenticated';
    this.host.authThrottle.succeed(`${step.username}@${this.domain}`);
    // Dropped, not only cleared: a cleared Timeout kept alive by this field is ~120 bytes per idle session.
    clearTimeout(this.preauthTimer);
    this.preauthTimer = undefined;
    this.preauthByteBucket = undefined;
    this.write(`<success xmlns='${NS_SASL}'>${step.data ? step.data.toString('base64') : ''}</success>`);
    this.log.info({ user: `${this.username}@${this.domain}` }, 'authenticated');
    // RFC 6120 §6.4.6: after success the stream restarts; the next thing from the client is a header. From
    // here on the client may send what an account may.
    this.parser.reset(this.host.xmlLimits);
  }

  private saslFailure(condition: string, text?: string): void {
    this.write(x('failure', { xmlns: NS_SASL }, x(condition), text ? x('text', { 'xml:lang': 'en' }, text) : undefined).toString());
  }

  private async beforeBind(el: Element): Promise<void> {
    if (el.name === 'iq' && el.ns === NS_CLIENT && el.attrs.type === 'set' && el.getChild('bind', NS_BIND)) return this.bindResource(el);
    if (isClientStanza(el)) {
      // RFC 6120 §7.1: nothing but binding until a resource is bound.
      if (el.name === 'iq' && (el.attrs.type === 'get' || el.attrs.type === 'set')) this.send(errorReply(el, new StanzaError('not-authorized', 'bind a resource first')));
      return;
    }
    return this.streamError(new StreamError('unsupported-stanza-type'));
  }

  private bindResource(iq: Element): void {
    const requested = iq.getChild('bind', NS_BIND)!.getChildText('resource')?.trim();
    let resource: string;
    try {
      resource = requested ? normalizeResource(requested) : randomBytes(8).toString('hex');
    } catch (e) {
      // RFC 6120 §7.7.2.1: a resource that cannot be processed gets bad-request.
      this.send(errorReply(iq, new StanzaError('bad-request', (e as JidError).message)));
      return;
    }
    this.jid = Jid.of(this.username, this.domain, resource);
    const refused = this.host.bind(this);
    if (refused) {
      this.jid = undefined as unknown as Jid;
      this.send(errorReply(iq, refused));
      return;
    }
    this.state = 'bound';
    this.send(iqResult(iq, x('bind', { xmlns: NS_BIND }, x('jid', null, this.jid.full))));
  }

  private async onStanza(el: Element): Promise<void> {
    if (!isClientStanza(el)) return this.streamError(new StreamError('unsupported-stanza-type', `<${el.name}/> is not a jabber:client stanza`));
    // RFC 6120 §8.1.2.1: the server stamps the sender's full JID; a forged 'from' is a stream error.
    const from = el.attrs.from;
    if (from !== undefined) {
      const f = tryParseJid(from);
      if (!f || (f.full !== this.jid.full && f.full !== this.jid.bare)) return this.streamError(new StreamError('invalid-from'));
    }
    el.attrs.from = this.jid.full;
    const type = el.attrs.type;
    if (el.name === 'iq') {
      if (type === 'get' || type === 'set') {
        if (el.attrs.id === undefined || el.elements.length !== 1) {
          return this.send(errorReply(el, new StanzaError('bad-request', 'an IQ get/set needs an id and exactly one child')));
        }
      } else if (type !== 'result' && type !== 'error') {
        return this.send(errorReply(el, new StanzaError('bad-request', 'unknown IQ type')));
      }
    }
    // RFC 3921 session establishment is addressed to the server (or to nobody); anywhere else it is routed.
    const to0 = el.attrs.to;
    if (el.name === 'iq' && type === 'set' && el.getChild('session', NS_SESSION) && (to0 === undefined || to0 === this.domain || to0 === this.jid.bare)) {
      return this.send(iqResult(el));
    }
    let to: Jid | undefined;
    if (el.attrs.to !== undefined) {
      to = tryParseJid(el.attrs.to);
      if (!to) {
        if (type !== 'error' && type !== 'result') this.send(errorReply(el, new StanzaError('jid-malformed', 'the to address is not a valid JID')));
        return;
      }
      el.attrs.to = to.full;
    }
    // The context is built here, once: the router, its hooks and the IQ handler all get this object.
    await this.pipeline.run(this.host.isPipelined(el, to), (proceed, previous) =>
      this.host.stanza({ stanza: el, from: this.jid, to, origin: this, proceed, previous }));
  }

  private onXmlError(err: XmlStreamError): void {
    this.streamError(new StreamError(err.condition as StreamErrorCondition, err.message));
  }

  // ------------------------------------------------------------------------------------------ closing
  /** Sends a stream error and closes (RFC 6120 §4.9.1.1), sending a header first if none went out yet. */
  streamError(err: StreamError): void {
    if (this.state === 'closed' || this.closing) return;
    if (!this.headerSent) this.sendHeader();
    this.log.info({ condition: err.condition, text: err.text }, 'stream error');
    this.write(this.transport.errorText(err));
    this.close(err);
  }

  /** Closes the stream gracefully: our closing tag, then the TCP connection once written. */
  close(err?: StreamError): void {
    if (this.state === 'closed' || this.closing) return;
    this.closing = true;
    if (!this.headerSent) this.sendHeader();
    this.write(this.transport.footer());
    const t = this.transport;
    // Give the peer a moment to send its own closing tag (RFC 6120 §4.4), then drop the connection.
    setTimeout(() => t.destroy(), 2000).unref();
    t.end();
    this.teardown(err);
    // Read again (what comes is dropped): a socket paused by flow control would otherwise never see the
    // peer's end, and, neither reading nor writing, would not even keep the process alive until the timer
    // above destroys it, so a shutdown could stall with its storage still open.
    if (!t.destroyed) t.resume();
  }

  private teardown(err: StreamError | undefined): void {
    if (this.state === 'closed') return;
    // XEP-0198 §5: a bound stream lost without its closing tag (or timed out) may be resumed; meanwhile the
    // session stays, without a connection.
    if (this.state === 'bound' && (!this.closing || err?.condition === 'connection-timeout') && this.host.detached(this)) return this.detach();
    this.state = 'closed';
    if (this.preauthTimer) clearTimeout(this.preauthTimer);
    clearTimeout(this.rateTimer);
    clearTimeout(this.watch?.stallTimer);
    this.host.outputBudget.release(this);
    // Stanzas waiting for the output to drain run now, and find the session closed.
    this.watch?.drained?.resolve();
    if (!this.closing) this.transport.destroy();
    // Every connection is reported, bound or not: the host counts connections per address.
    this.host.closed(this, err);
  }

  // ------------------------------------------------------------------------------------------ XEP-0198 transport swap
  /** Lets the connection go and keeps the bound session (hibernating): deliveries go to the output layers only. */
  private detach(): void {
    const t = this.transport;
    clearTimeout(this.rateTimer);
    this.rateTimer = undefined;
    clearTimeout(this.watch?.stallTimer);
    this.host.outputBudget.release(this);
    this.watch?.drained?.resolve();
    this.watch = undefined;
    // A stream being closed (connection-timeout) has its end and destruction arranged by close().
    if (!this.closing) t.destroy();
    this.closing = false;
    this.shed = false;
  }

  /**
   * XEP-0198 §5: this bound session takes over `conn`, a newly authenticated stream that resumed it: conn's
   * socket, parser and queued elements become this session's, and conn ends without a trace (no hooks: the
   * session it stood for lives on). A connection this session still had gets a conflict stream error.
   */
  adopt(conn: C2sSession): void {
    if (!this.transport.destroyed) {
      this.write(this.transport.errorText(new StreamError('conflict', 'the session was resumed on another connection')));
      this.write(this.transport.footer());
      this.closing = true;
      const old = this.transport;
      old.end();
      setTimeout(() => old.destroy(), 2000).unref();
      this.detach();
    }
    const transport = conn.transport;
    clearTimeout(conn.rateTimer);
    clearTimeout(conn.watch?.stallTimer);
    conn.watch?.drained?.resolve();
    conn.host.outputBudget.release(conn);
    conn.state = 'closed';
    conn.successor = this;
    conn.parserEvents.s = this;
    this.transport = transport;
    this.parser = conn.parser;
    this.secure = conn.secure;
    this.remoteAddress = conn.remoteAddress;
    this.peer = conn.peer;
    this.logger = undefined;
    this.headerSent = true;
    this.written = 0;
    // Elements conn still has queued (the <resume/> itself among them) run before this session's next ones,
    // and reading stays paused until they have (see enqueue).
    this.queue = conn.queue;
    this.queued = conn.queued;
    // The connection reports to this session from now on, no longer to conn.
    this.attach(transport);
  }
}
