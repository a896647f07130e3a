// The XMPP server: listeners, sessions, stanza routing and the modules loaded into it. Dependencies
// (storage, session directory, logger) are passed in so tests build a whole server in-process on ephemeral
// ports and production wires the real ones.
import { createServer as createTcpServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type SecureContext } from 'node:tls';
import { secureContext, tlsOptions, type TlsCredentials } from './tls-credentials.ts';
import { createHmac, randomBytes } from 'node:crypto';
import { S2sService } from '../s2s/s2s-service.ts';
import { DEFAULT_XML_LIMITS, parseXml, type Element, type XmlLimits } from '../../xml/index.ts';
import type { Jid } from '../../jid/index.ts';
import type { Storage } from '../../storage/types.ts';
import { ClusterSessionDirectory, LocalSessionDirectory, singleNode, type ClusterBus, type ClusterCoherence, type ModuleSession, type SessionDirectory } from '../../cluster/index.ts';
import { hostname } from 'node:os';
import { bareOf } from '../../jid/index.ts';
import { StanzaError, StreamError } from '../../protocol/rfc6120.ts';
import type { DiscoIdentity } from '../../protocol/xep0030.ts';
import { ConfigError, type ServerConfig } from '../config.ts';
import { C2sSession, type OutputLimits, type SessionHost } from './c2s-session.ts';
import { TcpTransport } from './tcp-transport.ts';
import type { C2sTransport } from './transport.ts';
import { HookBus } from './hooks.ts';
import type { ServerEvents } from './events.ts';
import { IqHandlers, type IqScope } from './iq-handlers.ts';
import { IqCorrelator } from '../../protocol/iq-correlator.ts';
import { StanzaRouter } from './stanza-router.ts';
import { DiscoRegistryService, orderModules, serviceProviders, type ModuleApi, type ModuleDefinition, type ServiceKey } from './module-host.ts';
import type { StanzaContext } from './stanza-context.ts';
import { DEFAULT_MECHANISMS, type SaslContext, type SaslMechanism } from './sasl/index.ts';
import { createLogger, type Logger } from './logger.ts';
import { LogLimiter } from './log-limiter.ts';
import { AuthThrottle } from './limits/auth-throttle.ts';
import { OutputBudget } from './limits/output-budget.ts';
import { memoryBudget } from './limits/memory-budget.ts';
import { TokenBucket } from './limits/token-bucket.ts';
import { combineObservers, type TrafficObserver } from './traffic.ts';
import { stanzaTrace } from './stanza-trace.ts';
import { listenOn } from './listen.ts';
import { StreamManager } from './stream-management/manager.ts';
import { handleUndelivered } from './stream-management/undelivered.ts';
import { ClientStateIndication } from './csi/manager.ts';
import { AccountLifecycle } from './account-lifecycle.ts';
import { AdminCommands } from '../admin/registry.ts';
import { registerCoreAdminCommands } from '../admin/core-commands.ts';
import { registerS2sAdminCommands } from '../admin/s2s-commands.ts';

export interface ServerDeps {
  config: ServerConfig;
  storage: Storage;
  modules: ModuleDefinition[];
  /** Certificate and key for STARTTLS and direct TLS; without them neither is offered. */
  tls?: TlsCredentials;
  logger?: Logger;
  sessions?: SessionDirectory;
  mechanisms?: SaslMechanism[];
  /** Secret behind the fake SCRAM salts of unknown accounts; persist it (startServer does) so they stay stable. */
  saslSecret?: Buffer;
  /** The cluster bus, when [cluster] is on (tests pass an in-process one); otherwise NATS at cluster.bus_url. */
  clusterBus?: ClusterBus;
  /** Called once stop() has closed storage (startServer gives back the data directory's lock there). */
  onStopped?: () => void;
}

export interface ListenAddresses {
  c2s: AddressInfo[];
  tls: AddressInfo[];
  /** Server-to-server listeners; empty when federation is off. */
  s2s: AddressInfo[];
  /** Direct-TLS server-to-server listeners (XEP-0368, s2s.tls_listen). */
  s2sTls?: AddressInfo[];
}

/** Where the server is in its life; ready = storage open and every listener bound (the /readyz answer). */
export type ServerState = 'created' | 'starting' | 'ready' | 'stopping' | 'stopped';

export class XmppServer implements SessionHost {
  readonly logger: Logger;
  readonly config: ServerConfig;
  readonly storage: Storage;
  readonly sessions: SessionDirectory;
  /** The clustered session directory when [cluster] is on (docs/cluster.md). */
  readonly cluster: ClusterSessionDirectory | undefined;
  /** What modules use to keep their caches coherent across nodes (nothing to do on a single node). */
  readonly coherence: ClusterCoherence;
  private readonly clusterBus: ClusterBus | undefined;
  readonly hooks = new HookBus<ServerEvents>();
  readonly iqHandlers = new IqHandlers();
  /** IQs the server itself sends (e.g. disco#info to a client for entity capabilities) and their answers. */
  readonly iqs = new IqCorrelator({
    newId: () => `srv-${randomBytes(9).toString('base64url')}`,
    defaultTimeoutMs: 10_000,
    timeoutError: () => new StanzaError('remote-server-timeout', 'no answer to the IQ'),
  });
  readonly router: StanzaRouter;
  /** Federation, when [s2s] listen names an address; otherwise other domains are unreachable. */
  readonly s2s: S2sService | undefined;
  tlsContext: SecureContext | undefined;
  private tls: TlsCredentials | undefined;
  readonly features: Record<IqScope, Set<string>> = { host: new Set(), account: new Set() };
  readonly identities: Record<IqScope, DiscoIdentity[]> = { host: [], account: [] };
  private readonly hostSet: Set<string>;
  private readonly streamFeatureBuilders: ((s: C2sSession) => Element | undefined)[] = [];
  private readonly services = new Map<string, unknown>();
  /** Service name → the module that declared it in `provides` ('core' for the core's own). */
  private readonly serviceProviders: Map<string, string>;
  private readonly stopHandlers: (() => void | Promise<void>)[] = [];
  private readonly tlsReloaded: ((creds: TlsCredentials) => void)[] = [];
  private readonly listeners: NetServer[] = [];
  private readonly tlsServers: import('node:tls').Server[] = [];
  private readonly connections = new Set<C2sSession>();
  private readonly saslSecret: Buffer;
  private readonly onStopped: (() => void) | undefined;
  private readonly mechanismList: SaslMechanism[];
  private readonly moduleDefs: ModuleDefinition[];
  private readonly moduleOptions: Map<string, unknown>;
  private started = false;
  private readonly perIp = new Map<string, number>();
  readonly authThrottle: AuthThrottle;
  private sweepTimer: NodeJS.Timeout | undefined;
  private xmlLimitsCache: XmlLimits | undefined;
  private preauthLimitsCache: XmlLimits | undefined;
  private outputCache: OutputLimits | undefined;
  /** Pre-authentication read budget per remote address, shared by its connections. */
  private readonly preauthBuckets = new Map<string, TokenBucket>();
  readonly outputBudget: OutputBudget;
  state: ServerState = 'created';
  traffic: TrafficObserver | undefined;
  private readonly trafficObservers: TrafficObserver[] = [];
  /** XEP-0198 and XEP-0352: stream-level, so the core's (stream-management/, csi/). */
  readonly streamManagement: StreamManager;
  readonly csi: ClientStateIndication;
  /** At most one line per 10 s for each reason; `folded` in it counts the others (the metrics count all). */
  private readonly undeliveredLog = { gone: new LogLimiter(10_000), unreachable: new LogLimiter(10_000) };
  /** Undelivered stanzas of ended sessions being routed elsewhere (stop() waits for them). */
  private readonly undelivered = new Set<Promise<void>>();
  /** Commands of the local admin socket (admin/socket.ts), registered by the core and by modules. */
  readonly admin = new AdminCommands();
  readonly accounts: AccountLifecycle;
  readonly startedAt = Date.now();

  constructor(deps: ServerDeps) {
    this.config = deps.config;
    this.storage = deps.storage;
    this.saslSecret = deps.saslSecret ?? randomBytes(32);
    this.onStopped = deps.onStopped;
    this.logger = deps.logger ?? createLogger(deps.config.log_level);
    const c = deps.config.cluster;
    this.clusterBus = deps.clusterBus;
    this.cluster = !deps.sessions && (c.enabled || deps.clusterBus)
      ? new ClusterSessionDirectory({
        nodeId: c.node_id ?? hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64),
        heartbeatMs: c.heartbeat_ms, leaseMs: c.lease_ms, requestTimeoutMs: c.request_timeout_ms,
        invalidationTimeoutMs: c.invalidation_timeout_ms, maxQueued: c.max_queued,
      }, {
        sessionsLost: (sessions, reap) => this.sessionsLost(sessions, reap),
        undeliverable: (to, xml, reason) => this.undeliverable(to, xml, reason),
        warn: (msg, fields) => this.logger.warn(fields ?? {}, msg),
      })
      : undefined;
    this.sessions = deps.sessions ?? this.cluster ?? new LocalSessionDirectory();
    this.coherence = this.cluster ?? singleNode;
    this.tls = deps.tls;
    this.tlsContext = deps.tls ? secureContext(deps.tls) : undefined;
    this.hostSet = new Set(deps.config.hosts);
    this.mechanismList = deps.mechanisms ?? DEFAULT_MECHANISMS;
    this.authThrottle = new AuthThrottle(deps.config.limits.auth_failure_delay_ms, deps.config.limits.max_failed_logins);
    this.outputBudget = new OutputBudget(deps.config.limits.output_total_bytes);
    this.streamManagement = new StreamManager({
      options: () => {
        const o = this.config.stream_management;
        return { enabled: o.enabled, resumeTimeoutMs: o.resume_timeout_seconds * 1000, maxUnacked: o.max_unacked, maxUnackedChars: o.max_unacked_bytes, location: o.location };
      },
      logger: this.logger,
      outputBudget: this.outputBudget,
      connectionDropped: (s) => this.dropConnection(s),
      connectionAdopted: (s, conn) => {
        if (this.connections.delete(conn)) this.connections.add(s);
      },
      resumed: (s) => this.csi.resumed(s),
    });
    this.csi = new ClientStateIndication(() => {
      const o = this.config.csi;
      return { enabled: o.enabled, maxHeld: o.max_held, maxHeldChars: o.max_held_bytes };
    }, this.outputBudget);
    this.moduleOptions = validateModuleOptions(deps.config, deps.modules);
    const disabled = new Set(deps.config.disabled_modules);
    this.moduleDefs = orderModules(deps.modules.filter((m) => !disabled.has(m.name)));
    this.serviceProviders = serviceProviders(this.moduleDefs);
    // The core's own disco registry, read by the disco module; every module contributes through addFeature.
    this.services.set(DiscoRegistryService.name, { features: this.features, identities: this.identities });
    this.router = new StanzaRouter({
      hooks: this.hooks,
      sessions: this.sessions,
      iqHandlers: this.iqHandlers,
      iqs: this.iqs,
      isLocalDomain: (d) => this.isLocalDomain(d),
      accountExists: (j) => this.accountExists(j),
      logger: this.logger,
    });
    if (deps.config.s2s.listen.length > 0 || deps.config.s2s.tls_listen.length > 0) {
      this.s2s = new S2sService({
        config: deps.config.s2s,
        logger: this.logger.child({ part: 's2s' }),
        xmlLimits: () => this.xmlLimits,
        tlsContext: () => this.tlsContext,
        tlsCredentials: () => this.tls,
        // Derived from the persisted SASL secret: dialback keys survive a restart without another file.
        secret: createHmac('sha256', this.saslSecret).update('xep-0185 dialback').digest(),
        isLocalDomain: (d) => this.isLocalDomain(d),
        deliver: (st) => this.router.route(st).catch((err) => this.logger.error({ err }, 'routing a remote stanza failed')),
        bounce: (st, err) => void this.router.bounce(st, err),
        cluster: this.cluster,
      });
      this.router.remote = this.s2s;
    }
    this.accounts = new AccountLifecycle({
      storage: this.storage, sessions: this.sessions, hooks: this.hooks, logger: this.logger,
      closeSession: (s, err) => s.end(err.condition, err.text),
    });
    registerCoreAdminCommands(this);
    registerS2sAdminCommands(this);
    if (this.logger.isLevelEnabled('trace')) this.observeTraffic(stanzaTrace());
  }

  /** Adds an observer of every client stream's traffic (see traffic.ts); returns its removal. */
  observeTraffic(observer: TrafficObserver): () => void {
    this.trafficObservers.push(observer);
    this.traffic = combineObservers(this.trafficObservers);
    return () => {
      const i = this.trafficObservers.indexOf(observer);
      if (i >= 0) this.trafficObservers.splice(i, 1);
      this.traffic = combineObservers(this.trafficObservers);
    };
  }

  // ------------------------------------------------------------------------------ SessionHost
  get xmlLimits(): XmlLimits {
    const l = this.config.limits;
    const c = this.xmlLimitsCache;
    // The same object for every connection while the configuration says the same (parsers share it).
    if (c && c.maxStanzaSize === l.max_stanza_bytes && c.maxDepth === l.max_depth && c.maxAttributes === l.max_attributes) return c;
    return (this.xmlLimitsCache = { ...DEFAULT_XML_LIMITS, maxStanzaSize: l.max_stanza_bytes, maxDepth: l.max_depth, maxAttributes: l.max_attributes });
  }
  get preauthXmlLimits(): XmlLimits {
    const full = this.xmlLimits;
    const size = Math.min(this.config.limits.max_preauth_stanza_bytes, full.maxStanzaSize);
    const c = this.preauthLimitsCache;
    if (c && c.maxStanzaSize === size && c.maxDepth === full.maxDepth && c.maxAttributes === full.maxAttributes) return c;
    return (this.preauthLimitsCache = { ...full, maxStanzaSize: size });
  }
  get preauthBytesPerSecond(): number {
    return this.config.limits.preauth_bytes_per_second;
  }
  preauthBucket(ip: string): TokenBucket | undefined {
    const rate = this.config.limits.preauth_bytes_per_second_per_ip;
    if (rate <= 0) return undefined;
    let b = this.preauthBuckets.get(ip);
    if (!b) this.preauthBuckets.set(ip, (b = new TokenBucket(rate, rate)));
    return b;
  }
  get output(): OutputLimits {
    const l = this.config.limits;
    const c = this.outputCache;
    // Read on every write: the same object while the configuration says the same.
    if (c && c.pauseBytes === l.output_pause_bytes && c.maxBytes === l.output_max_bytes && c.stallMs === l.output_stall_seconds * 1000) return c;
    return (this.outputCache = { pauseBytes: l.output_pause_bytes, maxBytes: l.output_max_bytes, stallMs: l.output_stall_seconds * 1000 });
  }
  get requireTls(): boolean {
    return this.config.c2s.require_tls && this.tlsContext !== undefined;
  }
  get allowInsecureAuth(): boolean {
    return this.config.c2s.insecure_plain_auth;
  }
  get authFailureDelayMs(): number {
    return this.config.limits.auth_failure_delay_ms;
  }
  get maxAuthAttempts(): number {
    return this.config.limits.max_auth_attempts;
  }
  get idleTimeoutMs(): number {
    return this.config.c2s.idle_timeout_seconds * 1000;
  }
  get preauthTimeoutMs(): number {
    return this.config.c2s.preauth_timeout_seconds * 1000;
  }
  get stanzaRate(): { rate: number; burst: number } | undefined {
    const l = this.config.limits;
    return l.stanzas_per_second > 0 ? { rate: l.stanzas_per_second, burst: l.stanza_burst } : undefined;
  }
  get bytesPerSecond(): number {
    return this.config.limits.bytes_per_second;
  }
  get hosts(): readonly string[] {
    return [...this.hostSet];
  }

  isLocalDomain(domain: string): boolean {
    return this.hostSet.has(domain);
  }

  mechanisms(): SaslMechanism[] {
    return this.mechanismList;
  }

  saslContext(domain: string): Pick<SaslContext, 'domain' | 'lookup' | 'secret'> {
    return {
      domain,
      secret: this.saslSecret,
      lookup: async (username) => {
        const jid = `${username}@${domain}`;
        return this.accounts.isDeleting(jid) ? undefined : (await this.storage.accounts.get(jid))?.credentials;
      },
    };
  }

  postAuthFeatures(session: C2sSession): Element[] {
    const out: Element[] = [];
    for (const f of [this.streamManagement.feature(), this.csi.feature()]) if (f) out.push(f);
    for (const b of this.streamFeatureBuilders) {
      const el = b(session);
      if (el) out.push(el);
    }
    return out;
  }

  bind(session: C2sSession): StanzaError | undefined {
    const existing = this.sessions.resources(session.jid.bare);
    const replacing = existing.some((s) => s.jid.resource === session.jid.resource);
    if (!replacing && existing.length >= this.config.limits.max_sessions_per_account) {
      // RFC 6120 §7.6.2.1: the account has reached its limit of connected resources.
      return new StanzaError('resource-constraint', 'too many sessions for this account', 'wait');
    }
    const old = this.sessions.register(session);
    // RFC 6120 §7.7.2.2: the new session wins; the old one is closed with a conflict stream error.
    if (old && old !== session) old.end('conflict', 'replaced by a new connection with the same resource');
    this.logger.debug({ jid: session.jid.full }, 'resource bound');
    void this.hooks.fire('session-bound', { session }).catch((err) => this.logger.error({ err }, 'session-bound hook failed'));
    return undefined;
  }

  sessionChanged(session: C2sSession): void {
    this.sessions.changed?.(session);
  }

  /** Sessions of a cluster node that is gone: ended here as if their connections had closed (presence etc.). */
  private sessionsLost(sessions: ModuleSession[], reap: boolean): void {
    if (!reap) return;
    for (const session of sessions) {
      void this.hooks.fire('session-closed', { session }).catch((err) => this.logger.error({ err }, 'session-closed hook failed'));
    }
  }

  /** A stanza that did not reach a session on another node (cluster-directory.ts). */
  private undeliverable(to: string, xml: string, reason: 'gone' | 'unreachable'): void {
    let stanza: Element;
    try {
      stanza = parseXml(xml);
    } catch {
      return;
    }
    stanza.attrs.to = to;
    const type = stanza.attrs.type;
    const kind = stanza.name === 'message' && type === 'headline' ? 'headline' : (stanza.name as 'message' | 'presence' | 'iq');
    let outcome: 'rerouted' | 'bounced' | 'dropped';
    // Nobody to tell: presence and errors are not answered (RFC 6120 §8.3.1), and a headline's sender is a
    // service (a PEP fan-out), to which no error goes back (RFC 6121 §8.5.3.2.1 ignores headlines).
    if (kind === 'presence' || kind === 'headline' || type === 'error' || (stanza.name === 'iq' && type === 'result')) outcome = 'dropped';
    else if (reason === 'gone' && stanza.name === 'message' && (type === undefined || type === 'normal' || type === 'chat')) {
      // RFC 6121 §8.5.3.2.1: for a resource no longer there, normal and chat messages go to the bare JID.
      outcome = 'rerouted';
      stanza.attrs.to = bareOf(to);
      void this.router.route(stanza).catch((err) => this.logger.error({ err }, 'rerouting a message failed'));
    } else {
      // RFC 6121 §8.5.3.1: no such resource; a node that does not answer in time is temporarily unreachable.
      outcome = 'bounced';
      const error = reason === 'gone' ? new StanzaError('service-unavailable') : new StanzaError('recipient-unavailable', 'the node holding this session does not answer', 'wait');
      void Promise.resolve(this.router.bounce(stanza, error)).catch((err) => this.logger.error({ err }, 'bounce failed'));
    }
    // A session that left as the stanza was on its way is ordinary; a node that does not answer is not.
    if (outcome === 'dropped' && !(reason === 'gone' && kind === 'presence')) {
      const level = reason === 'unreachable' ? 'warn' : 'info';
      this.undeliveredLog[reason].hit((folded) => this.logger[level]({ to, kind, reason, folded }, 'a stanza for a session on another cluster node was dropped'));
    }
    if (this.hooks.has('cluster/undeliverable')) {
      void this.hooks.fire('cluster/undeliverable', { to, kind, reason, outcome }).catch((err) => this.logger.error({ err }, 'cluster/undeliverable hook failed'));
    }
  }

  authFailure(session: C2sSession, condition: string, account: string | undefined): void {
    if (!this.hooks.has('auth/failed')) return;
    void this.hooks.fire('auth/failed', { ip: session.remoteAddress, condition, account }).catch((err) => this.logger.error({ err }, 'auth/failed hook failed'));
  }

  isPipelined(stanza: Element, to: Jid | undefined): boolean {
    return this.router.isPipelined(stanza, to);
  }

  stanza(ctx: StanzaContext): Promise<void> {
    // The session awaits this through its pipeline, so errors are contained here.
    return this.router.fromClient(ctx).catch((err) => this.logger.error({ err }, 'routing failed'));
  }

  closed(session: C2sSession, error: StreamError | undefined): void {
    this.dropConnection(session);
    const reason = error ? `stream error ${error.condition}${error.text ? `: ${error.text}` : ''}` : (session.closeReason ?? 'connection closed');
    session.log.info({ jid: session.jid?.full, reason }, 'disconnected');
    if (!session.jid) return;
    const wasRegistered = this.sessions.get(session.jid.full) === session;
    this.sessions.unregister(session);
    if (wasRegistered) void this.hooks.fire('session-closed', { session, error }).catch((err) => this.logger.error({ err }, 'session-closed hook failed'));
    // What the client never got (unacknowledged, or held while inactive) goes where it would have gone had
    // the session not been there (XEP-0198 §4).
    const items = [...this.streamManagement.ended(session), ...this.csi.ended(session)].sort((a, b) => a.at - b.at);
    if (items.length === 0) return;
    const p = handleUndelivered(items, session.jid.domain, { sessions: this.sessions, route: (st) => this.router.route(st), logger: this.logger })
      .finally(() => this.undelivered.delete(p));
    this.undelivered.add(p);
  }

  streamElement(session: C2sSession, el: Element): boolean {
    return this.csi.element(session, el) || this.streamManagement.element(session, el);
  }

  detached(session: C2sSession): boolean {
    return this.streamManagement.detached(session);
  }

  /** A connection no longer open (closed, or its session hibernating): it stops counting toward its address. */
  private dropConnection(session: C2sSession): void {
    if (this.connections.delete(session)) this.releaseIp(session.remoteAddress);
  }

  /** Open connections, the bytes read from them and their unsent output beyond socket buffers (monitoring, tests). */
  connectionStats(): { connections: number; bytesRead: number; bufferedOutput: number } {
    let bytesRead = 0;
    for (const c of this.connections) bytesRead += c.bytesRead;
    return { connections: this.connections.size, bytesRead, bufferedOutput: this.outputBudget.bytes };
  }

  /** A service a module provided (e.g. CapsService, by key or name), for embedding applications and tests. */
  service<T>(key: ServiceKey<T> | string): T | undefined {
    return this.services.get(typeof key === 'string' ? key : key.name) as T | undefined;
  }

  async accountExists(jid: Jid): Promise<boolean> {
    if (this.sessions.resources(jid.bare).length > 0) return true;
    return (await this.storage.accounts.get(jid.bare)) !== undefined;
  }

  // ------------------------------------------------------------------------------ modules
  private apiFor(def: ModuleDefinition): ModuleApi<Record<string, unknown>, keyof ServerEvents> {
    const options = this.moduleOptions.get(def.name) ?? {};
    const server = this;
    // A module may use only services of modules it declared in `requires` (or the core's own).
    const allowed = new Set(['core', def.name, ...(def.requires ?? [])]);
    const fires = new Set<string>(def.fires ?? []);
    return {
      name: def.name,
      options: options as Record<string, unknown>,
      logger: this.logger.child({ module: def.name }),
      storage: this.storage,
      sessions: this.sessions,
      cluster: this.coherence,
      hosts: this.hosts,
      isLocalDomain: (d) => this.isLocalDomain(d),
      hook: (name, handler, priority) => {
        this.hooks.on(name, handler, priority);
      },
      fire: (name, event) => {
        if (!fires.has(name)) throw new Error(`module ${def.name} fires ${name} without declaring it in fires`);
        return this.hooks.fire(name, event);
      },
      handleIq: (scope, ns, handler, options) => this.iqHandlers.register(scope, ns, handler, options),
      addFeature: (scope, f) => this.features[scope].add(f),
      addIdentity: (scope, id) => this.identities[scope].push(id),
      addStreamFeature: (b) => this.streamFeatureBuilders.push(b),
      route: (stanza) => this.router.route(stanza),
      sendIq(iq, timeoutMs) {
        iq.attrs.from ??= server.hosts[0]!;
        const p = server.iqs.track(iq, timeoutMs);
        void server.router.route(iq);
        return p;
      },
      accountExists: (j) => this.accountExists(j),
      provide: ({ name }, service) => {
        if (this.serviceProviders.get(name) !== def.name) throw new Error(`module ${def.name} provides service ${name} without declaring it in provides`);
        if (this.services.has(name)) throw new Error(`service ${name} is already provided`);
        this.services.set(name, service);
      },
      use: <T>({ name }: ServiceKey<T>): T => {
        const provider = this.serviceProviders.get(name);
        if (provider === undefined) throw new Error(`module ${def.name} uses service ${name}, which no loaded module provides`);
        if (!allowed.has(provider)) throw new Error(`module ${def.name} uses service ${name} of module ${provider} without requiring it`);
        // Requirements are set up first, and each checked to have provided what it declared.
        return this.services.get(name) as T;
      },
      onStop: (fn) => this.stopHandlers.push(fn),
      adminCommand: (name, schema, handler) => this.admin.register(name, schema, handler),
    };
  }

  // ------------------------------------------------------------------------------ lifecycle
  async start(): Promise<ListenAddresses> {
    if (this.started) throw new Error('server already started');
    this.started = true;
    this.state = 'starting';
    for (const def of this.moduleDefs) {
      await def.setup(this.apiFor(def));
      const missing = (def.provides ?? []).filter((k) => !this.services.has(k.name));
      if (missing.length) throw new Error(`module ${def.name} did not provide ${missing.map((k) => k.name).join(', ')}, which it declared`);
    }
    if (this.cluster) {
      const c = this.config.cluster;
      const bus = this.clusterBus ?? (await (await import('../../cluster/nats/nats-bus.ts')).connectNatsBus({ url: c.bus_url, name: this.cluster.nodeId }));
      await this.cluster.start(bus);
    }
    this.sweepTimer = setInterval(() => {
      this.authThrottle.sweep();
      // An address's pre-auth budget outlives its connections by up to a minute: reconnecting does not reset it.
      for (const ip of [...this.preauthBuckets.keys()]) if (!this.perIp.has(ip)) this.preauthBuckets.delete(ip);
    }, 60_000);
    this.sweepTimer.unref();
    const addrs: ListenAddresses = { c2s: [], tls: [], s2s: [] };
    try {
      for (const hp of this.config.c2s.listen) addrs.c2s.push(await this.listen(createTcpServer((s) => this.accept(s, false)), hp));
      if (this.config.c2s.tls_listen.length && !this.tlsContext) throw new Error('tls_listen needs a TLS certificate');
      for (const hp of this.config.c2s.tls_listen) {
        const srv = createTlsServer(tlsOptions(this.tls!), (s) => this.accept(s, true));
        this.tlsServers.push(srv);
        addrs.tls.push(await this.listen(srv, hp));
      }
      if (this.s2s) addrs.s2s = await this.s2s.listen();
      if (this.s2s) addrs.s2sTls = await this.s2s.listenTls();
    } catch (err) {
      // A listener that failed (address in use) must not leave the others bound.
      await Promise.all(this.listeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
      this.listeners.length = 0;
      await this.s2s?.stop();
      await this.cluster?.stop();
      if (this.sweepTimer) clearInterval(this.sweepTimer);
      this.state = 'stopped';
      throw err;
    }
    this.state = 'ready';
    this.logger.info({ hosts: this.hosts, c2s: addrs.c2s.map(fmt), tls: addrs.tls.map(fmt), s2s: addrs.s2s.map(fmt) }, 'pepkeys server listening');
    // The worst case per connection, computed from the limits (docs/security.md): what to provision for.
    this.logger.info({ bytes: memoryBudget(this.config.limits, { unackedBytes: this.config.stream_management.max_unacked_bytes, heldBytes: this.config.csi.max_held_bytes }) }, 'memory budget');
    return addrs;
  }

  private async listen(srv: NetServer, hp: string): Promise<AddressInfo> {
    const address = await listenOn(srv, hp, (err) => this.logger.error({ err }, 'listener error'));
    this.listeners.push(srv);
    return address;
  }

  private accept(socket: Socket, secure: boolean): void {
    this.acceptTransport(new TcpTransport(socket, secure));
  }

  /** A new client connection, on any transport (TCP here, WebSocket from the HTTP listener). */
  acceptTransport(transport: C2sTransport): void {
    const session = new C2sSession(transport, this);
    session.log.info({ tls: transport.secure, transport: transport.kind }, 'connected');
    const ip = session.remoteAddress;
    const n = (this.perIp.get(ip) ?? 0) + 1;
    const max = this.config.limits.max_connections_per_ip;
    if (max > 0 && n > max) {
      session.streamError(new StreamError('policy-violation', 'too many connections from your address'));
      return;
    }
    this.perIp.set(ip, n);
    this.connections.add(session);
  }

  private releaseIp(ip: string): void {
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }

  /**
   * Swaps in new TLS credentials (certificate renewal, SIGHUP): new handshakes use them, established
   * streams keep theirs.
   */
  reloadTls(creds: TlsCredentials): void {
    this.tls = creds;
    this.tlsContext = secureContext(creds);
    for (const srv of this.tlsServers) srv.setSecureContext(tlsOptions(creds));
    for (const fn of this.tlsReloaded) fn(creds);
    this.logger.info('TLS credentials reloaded');
  }

  /** Runs `fn` with the new credentials at each reloadTls (the HTTPS listener shares the certificate). */
  onTlsReload(fn: (creds: TlsCredentials) => void): void {
    this.tlsReloaded.push(fn);
  }

  /** Runs `fn` when the server stops, before storage closes (e.g. the admin socket of startServer). */
  onStop(fn: () => void | Promise<void>): void {
    this.stopHandlers.push(fn);
  }

  /** Stops accepting, closes every stream with system-shutdown, runs module stop handlers, closes storage. */
  async stop(): Promise<void> {
    this.state = 'stopping';
    // net.Server.close() resolves only once every connection is gone, so streams are closed meanwhile.
    const closing = this.listeners.map((l) => new Promise<void>((r) => l.close(() => r())));
    this.listeners.length = 0;
    for (const s of [...this.connections]) s.streamError(new StreamError('system-shutdown'));
    this.streamManagement.stop();
    await Promise.all(closing);
    // Undelivered stanzas of the sessions just ended may be on their way to offline storage.
    await Promise.all([...this.undelivered]);
    // Let session-closed hooks (unavailable presence etc.) run before storage goes away.
    await new Promise((r) => setImmediate(r));
    // Federation last: the unavailable presences just routed to remote contacts go out on its open streams.
    await this.s2s?.stop();
    // After the sessions' own 'down' announcements; peers drop this node at once rather than at its lease.
    await this.cluster?.stop();
    this.iqs.rejectAll(new Error('server stopping'));
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const fn of this.stopHandlers.reverse()) await fn();
    try {
      await this.storage.close();
    } finally {
      this.state = 'stopped';
      this.onStopped?.();
    }
  }
}

/**
 * Validates every [modules.NAME] table against its module's schema (and refuses tables naming no known
 * module), so configuration mistakes surface before anything starts.
 */
export function validateModuleOptions(config: ServerConfig, modules: ModuleDefinition[]): Map<string, unknown> {
  const byName = new Map(modules.map((m) => [m.name, m]));
  const out = new Map<string, unknown>();
  const problems: string[] = [];
  for (const name of Object.keys(config.modules)) {
    if (!byName.has(name)) problems.push(`modules.${name}: no module is called ${name} (known: ${[...byName.keys()].sort().join(', ')})`);
  }
  for (const def of modules) {
    const raw = config.modules[def.name] ?? {};
    if (!def.options) {
      out.set(def.name, raw);
      continue;
    }
    const r = def.options.safeParse(raw);
    if (r.success) out.set(def.name, r.data);
    else for (const i of r.error.issues) problems.push(`modules.${[def.name, ...i.path.map(String)].join('.')}: ${i.message}`);
  }
  if (problems.length) throw new ConfigError(problems.join('; '));
  return out;
}

function fmt(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
