// Federation (RFC 6120 server-to-server): the listener for inbound streams and the outbound links, one per
// (local domain, remote domain) pair. It is the stanza router's RemoteRouting: the router hands it every
// stanza for a domain not served here and gets back, through `deliver`, what remote servers send us.
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Element, XmlLimits } from '../../xml/index.ts';
import type { Jid } from '../../jid/index.ts';
import { StanzaError, StreamError } from '../../protocol/rfc6120.ts';
import { parseHostPort, type ServerConfig } from '../config.ts';
import type { Logger } from '../core/logger.ts';
import type { RemoteRouting } from '../core/remote-routing.ts';
import { tlsOptions, type TlsCredentials } from '../core/tls-credentials.ts';
import { AuthPolicy } from './auth-policy.ts';
import { DialbackKeys } from './dialback-key.ts';
import { TrustStore } from './trust-store.ts';
import { InboundStream } from './inbound-stream.ts';
import { OutboundLink } from './outbound-link.ts';
import { systemSrvLookup, type SrvLookup } from './resolve.ts';
import { probeS2s, type ProbeResult } from './probe.ts';
import { ClusterLinks, type ClusterNodes } from './cluster-links.ts';
import type { VerifyOutcome } from './inbound-stream.ts';

export interface S2sDeps {
  config: ServerConfig['s2s'];
  logger: Logger;
  xmlLimits: () => XmlLimits;
  tlsContext: () => SecureContext | undefined;
  /** The server's certificate and key: server streams present them, with the trust store's CAs, both ways. */
  tlsCredentials?: () => TlsCredentials | undefined;
  /** Secret behind our dialback keys; kept across restarts, so keys stay valid for streams a restart outlives. */
  secret: Buffer;
  isLocalDomain(domain: string): boolean;
  /** A stanza from a remote server, into the stanza router; must not reject. */
  deliver(stanza: Element): Promise<void>;
  bounce(stanza: Element, error: StanzaError): void;
  lookup?: SrvLookup;
  /** The other nodes of a cluster: each outbound link is then held by one node for all (cluster-links.ts). */
  cluster?: ClusterNodes;
}

export interface S2sStatus {
  /** `since`: when the link or stream was opened (ms since the epoch); `method`: how the peer authenticated. */
  outbound: { local: string; remote: string; authenticated: boolean; method?: string; queued: number; since: number }[];
  inbound: { domains: string[]; methods: Record<string, string>; address: string; since: number; throttled: number }[];
}

export class S2sService implements RemoteRouting {
  readonly keys: DialbackKeys;
  /** Static routes (domain → host:port), from [s2s.routes]; tests add their peers' ephemeral ports. */
  readonly routes: Record<string, string>;
  private readonly links = new Map<string, OutboundLink>();
  private readonly inbound = new Set<InboundStream>();
  private readonly listeners: NetServer[] = [];
  private stopped = false;
  readonly trust: TrustStore;
  readonly policy: AuthPolicy;
  /** SRV lookups (tests point remote domains at loopback listeners through it). */
  lookup: SrvLookup;
  private s2sContext: { creds: TlsCredentials; ctx: SecureContext } | undefined;
  private readonly cluster: ClusterLinks | undefined;

  constructor(private readonly d: S2sDeps) {
    this.keys = new DialbackKeys(d.secret);
    this.routes = { ...d.config.routes };
    this.lookup = d.lookup ?? systemSrvLookup;
    this.trust = new TrustStore(d.config.trusted_certs);
    this.policy = new AuthPolicy(d.config, d.logger);
    if (d.cluster) {
      this.cluster = new ClusterLinks(d.cluster, {
        send: (st, local, remote) => this.route(st, local, remote),
        sendHere: (st, local, remote) => this.sendHere(st, local, remote),
        verify: (r, o, id, key) => this.verify(r, o, id, key),
        verifyHere: (r, o, id, key) => (this.stopped ? Promise.resolve(undefined) : this.link(r, o).verify(id, key)),
        bounce: (st, err) => this.d.bounce(st, err),
        connectTimeoutMs: d.config.connect_timeout_seconds * 1000,
        keyFingerprint: this.keys.generate('pepkeys.invalid', 'pepkeys.invalid', 'cluster-secret-check'),
      }, d.logger);
    }
  }

  /**
   * Our certificate plus the trust store's CAs (which verify the peer's certificate, in both directions);
   * rebuilt when the server's credentials are reloaded.
   */
  tlsContext(): SecureContext | undefined {
    const creds = this.d.tlsCredentials?.();
    if (!creds) return this.d.tlsContext();
    if (this.s2sContext?.creds !== creds) this.s2sContext = { creds, ctx: createSecureContext({ ...tlsOptions(creds), ca: this.trust.ca }) };
    return this.s2sContext.ctx;
  }

  send(stanza: Element, from: Jid, to: Jid): void {
    if (this.stopped) return this.d.bounce(stanza, new StanzaError('remote-server-not-found', 'the server is shutting down'));
    if (!this.d.isLocalDomain(from.domain)) {
      // Relaying between two remote domains is not a server's job (RFC 6120 §13.7.1.2).
      this.d.logger.debug({ from: from.domain, to: to.domain }, 'not relaying a stanza between remote domains');
      return;
    }
    this.route(stanza, from.domain, to.domain);
  }

  /** Over this node's link, or, in a cluster, the link's holder's (cluster-links.ts). */
  private route(stanza: Element, local: string, remote: string): void {
    const holder = this.cluster?.holder(local, remote);
    if (holder === undefined) return this.link(local, remote).send(stanza);
    // This node held the link before (the holder was away): once idle, it is closed, leaving one stream.
    const mine = this.links.get(`${local} ${remote}`);
    if (mine?.idle) mine.close();
    this.cluster!.forward(holder, stanza, local, remote);
  }

  /** A stanza another node of the cluster handed to us, the holder; false when this node is stopping. */
  private sendHere(stanza: Element, local: string, remote: string): boolean {
    if (this.stopped) return false;
    if (this.d.isLocalDomain(local)) this.link(local, remote).send(stanza);
    return true;
  }

  /** Asks `originating`'s authoritative server about a dialback key, over the link to it (XEP-0220 §2.3). */
  private verify(receiving: string, originating: string, streamId: string, key: string): Promise<VerifyOutcome> {
    if (this.stopped) return Promise.resolve({ error: 'remote-connection-failed' });
    const holder = this.cluster?.holder(receiving, originating);
    return holder === undefined ? this.link(receiving, originating).verify(streamId, key) : this.cluster!.verify(holder, receiving, originating, streamId, key);
  }

  private link(local: string, remote: string): OutboundLink {
    const key = `${local} ${remote}`;
    let l = this.links.get(key);
    if (!l) {
      const c = this.d.config;
      l = new OutboundLink(local, remote, {
        logger: this.d.logger,
        xmlLimits: this.d.xmlLimits(),
        idleTimeoutMs: c.idle_timeout_seconds * 1000,
        requireTls: c.require_tls,
        keys: this.keys,
        tlsContext: () => this.tlsContext(),
        trust: this.trust,
        policy: this.policy,
        routes: this.routes,
        lookup: (name) => this.lookup(name),
        connectTimeoutMs: c.connect_timeout_seconds * 1000,
        maxQueue: c.max_queue,
        outputPauseBytes: c.output_pause_bytes,
        bounce: (st, err) => this.d.bounce(st, err),
        closed: (done) => {
          if (this.links.get(key) === done) this.links.delete(key);
        },
      });
      this.links.set(key, l);
    }
    return l;
  }

  async listen(): Promise<AddressInfo[]> {
    // Built now (some 150 CAs parsed), not during the first peer's handshake.
    this.tlsContext();
    const out: AddressInfo[] = [];
    for (const hp of this.d.config.listen) out.push(await this.listenOn(hp, false));
    return out;
  }

  /** The direct-TLS listeners (XEP-0368 `_xmpps-server`), `s2s.tls_listen`. */
  async listenTls(): Promise<AddressInfo[]> {
    if (this.d.config.tls_listen.length && !this.tlsContext()) throw new Error('s2s.tls_listen needs a TLS certificate');
    const out: AddressInfo[] = [];
    for (const hp of this.d.config.tls_listen) out.push(await this.listenOn(hp, true));
    return out;
  }

  private async listenOn(hp: string, directTls: boolean): Promise<AddressInfo> {
    {
      const { host, port } = parseHostPort(hp);
      // A plain TCP listener even for direct TLS: the stream wraps the socket itself, so a peer that never
      // finishes the handshake is held to the same pre-authentication timeout as everyone else.
      const srv = createServer((socket) => this.accept(socket, directTls));
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(port, host, () => {
          srv.off('error', reject);
          srv.on('error', (err) => this.d.logger.error({ err }, 's2s listener error'));
          resolve();
        });
      });
      this.listeners.push(srv);
      return srv.address() as AddressInfo;
    }
  }

  private accept(socket: Socket, directTls: boolean): void {
    const c = this.d.config;
    const service = this;
    const ip = socket.remoteAddress ?? '';
    let fromIp = 0;
    for (const s of this.inbound) if (s.remoteAddress === ip) fromIp++;
    if (fromIp >= c.max_inbound_per_ip) {
      this.d.logger.info({ ip, streams: fromIp }, 'refused an inbound server-to-server connection: too many from this address');
      socket.end(`<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>` +
        `${new StreamError('policy-violation', 'too many connections from this address').toElement().toString()}</stream:stream>`);
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    const stream = new InboundStream(socket, {
      logger: this.d.logger,
      xmlLimits: this.d.xmlLimits(),
      idleTimeoutMs: c.idle_timeout_seconds * 1000,
      preauthTimeoutMs: c.preauth_timeout_seconds * 1000,
      get tlsContext() {
        return service.tlsContext();
      },
      requireTls: c.require_tls && this.tlsContext() !== undefined,
      keys: this.keys,
      trust: this.trust,
      policy: this.policy,
      isLocalDomain: (dom) => this.d.isLocalDomain(dom),
      authorize: (receiving, originating, streamId, key) => this.verify(receiving, originating, streamId, key),
      deliver: (st) => this.d.deliver(st),
      closed: (s) => this.inbound.delete(s),
      mayAuthenticate: (domain, stream) => {
        let n = 0;
        for (const s of this.inbound) if (s !== stream && s.domains.includes(domain)) n++;
        return n < c.max_streams_per_domain;
      },
      stanzaRate: { rate: c.stanza_rate, burst: c.stanza_burst },
    }, directTls);
    this.inbound.add(stream);
  }

  status(): S2sStatus {
    return {
      outbound: [...this.links.values()].map((l) => ({ local: l.local, remote: l.remote, authenticated: l.isAuthenticated, method: l.authMethod, queued: l.queued, since: l.since })),
      inbound: [...this.inbound].map((s) => ({ domains: s.domains, methods: Object.fromEntries(s.methods), address: s.remoteAddress, since: s.since, throttled: s.throttled })),
    };
  }

  /** `pepkeys check s2s`: one throw-away stream to `remote`, each step reported (probe.ts). */
  probe(remote: string, local: string): Promise<ProbeResult> {
    return probeS2s({ local, remote, routes: this.routes, lookup: this.d.lookup ?? systemSrvLookup, timeoutMs: this.d.config.connect_timeout_seconds * 1000, keys: this.keys });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const closing = this.listeners.map((l) => new Promise<void>((r) => l.close(() => r())));
    this.listeners.length = 0;
    for (const s of [...this.inbound]) s.streamError(new StreamError('system-shutdown'));
    for (const l of [...this.links.values()]) l.close();
    await Promise.all(closing);
  }
}
