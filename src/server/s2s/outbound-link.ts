// Everything we send from one local domain to one remote domain: a queue while the connection is being
// set up (resolve, connect, TLS, dialback), one stream reused once authenticated, and bounces with RFC 6120
// §8.3.3 errors for what cannot be delivered. Also carries db:verify requests to that remote server.
import { connect as netConnect, type Socket } from 'node:net';
import { Element } from '../../xml/index.ts';
import type { VerifyOutcome } from './inbound-stream.ts';
import { NS_CLIENT, StanzaError } from '../../protocol/rfc6120.ts';
import type { Logger } from '../core/logger.ts';
import { OutboundStream, type OutboundOptions } from './outbound-stream.ts';
import { resolveTargets, type SrvLookup, type Target } from './resolve.ts';

export interface LinkOptions extends OutboundOptions {
  routes: Readonly<Record<string, string>>;
  lookup: SrvLookup;
  connectTimeoutMs: number;
  maxQueue: number;
  /** Unsent bytes the socket may hold before stanzas wait in the queue instead (the peer reads slowly). */
  outputPauseBytes: number;
  bounce(stanza: Element, error: StanzaError): void;
  closed(link: OutboundLink): void;
}

export class OutboundLink {
  private readonly queue: Element[] = [];
  private stream: OutboundStream | undefined;
  private connecting = false;
  private timer: NodeJS.Timeout | undefined;
  /** db:verify requests by stream id, answered over this link. */
  private readonly verifies = new Map<string, { key: string; done: (outcome: VerifyOutcome) => void; sent: boolean }>();
  /** Why the link failed, as a XEP-0220 §2.4 condition for verifications still waiting. */
  private verifyFailure: VerifyOutcome = { error: 'remote-connection-failed' };
  private done = false;

  constructor(readonly local: string, readonly remote: string, private readonly o: LinkOptions) {}

  get logger(): Logger {
    return this.o.logger;
  }

  get queued(): number {
    return this.queue.length;
  }

  readonly since = Date.now();

  /** Nothing waits on it: closing it loses nothing. */
  get idle(): boolean {
    return this.queue.length === 0 && this.verifies.size === 0 && !this.done;
  }

  get isAuthenticated(): boolean {
    return this.stream?.isAuthenticated ?? false;
  }

  /** How we authenticated to the remote server ('certificate' = SASL EXTERNAL, or 'dialback'), once we have. */
  get authMethod(): 'certificate' | 'dialback' | undefined {
    return this.stream?.isAuthenticated ? this.stream.method : undefined;
  }

  send(stanza: Element): void {
    if (this.queue.length === 0 && this.writable) return this.stream!.send(outgoing(stanza));
    if (this.queue.length >= this.o.maxQueue) {
      const why = this.isAuthenticated
        ? `${this.remote} reads too slowly: ${this.queue.length} stanzas already wait for it`
        : `too many stanzas waiting for the connection to ${this.remote}`;
      return this.o.bounce(stanza, new StanzaError('resource-constraint', why, 'wait'));
    }
    this.queue.push(stanza);
    this.start();
  }

  /** Authenticated, and the peer keeps up with what we write (output backpressure). */
  private get writable(): boolean {
    const s = this.stream;
    return s !== undefined && s.isAuthenticated && !s.isClosed && s.pendingBytes <= this.o.outputPauseBytes;
  }

  /** Sends what waits, as far as the peer keeps up; the rest goes at the next drain. */
  private flush(): void {
    while (this.queue.length > 0 && this.writable) this.stream!.send(outgoing(this.queue.shift()!));
  }

  /** Asks the remote (authoritative) server whether it issued `key` for our stream `streamId` (XEP-0220 §2.3). */
  verify(streamId: string, key: string): Promise<VerifyOutcome> {
    return new Promise((resolve) => {
      // An answer that never comes is a remote-server-timeout (XEP-0220 §2.4).
      const timer = setTimeout(() => done({ error: 'remote-server-timeout' }), this.o.connectTimeoutMs);
      timer.unref();
      const done = (outcome: VerifyOutcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      if (this.done) return done(this.verifyFailure);
      this.verifies.get(streamId)?.done('invalid');
      this.verifies.set(streamId, { key, done, sent: false });
      if (this.stream?.isReady && !this.stream.isClosed) this.sendVerifies();
      else this.start();
    });
  }

  private sendVerifies(): void {
    for (const [id, v] of this.verifies) {
      if (v.sent) continue;
      v.sent = true;
      this.stream!.send(new Element('db:verify', { from: this.local, to: this.remote, id }, [v.key]));
    }
  }

  private start(): void {
    if (this.connecting || this.stream || this.done) return;
    this.connecting = true;
    this.timer = setTimeout(() => this.fail(new StanzaError('remote-server-timeout', `no authenticated connection to ${this.remote} in time`)), this.o.connectTimeoutMs);
    this.timer.unref();
    void this.connect();
  }

  private async connect(): Promise<void> {
    let targets: Target[];
    try {
      targets = await resolveTargets(this.remote, this.o.routes, this.o.lookup);
    } catch (err) {
      this.verifyFailure = { error: 'remote-server-not-found' };
      return this.fail(new StanzaError('remote-server-not-found', `cannot resolve ${this.remote}: ${(err as Error).message}`));
    }
    if (targets.length === 0) this.verifyFailure = { error: 'remote-server-not-found' };
    const reasons: string[] = [];
    for (const t of targets) {
      if (this.done) return;
      try {
        const socket = await connectTo(t);
        if (this.done) return void socket.destroy();
        this.o.logger.debug({ local: this.local, remote: this.remote, host: t.host, port: t.port, directTls: t.directTls ?? false }, 'connected to remote server');
        this.attach(socket, t.directTls ?? false);
        return;
      } catch (err) {
        reasons.push(`${t.host}:${t.port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    this.fail(new StanzaError('remote-server-not-found', `cannot connect to ${this.remote}${reasons.length ? ` (${reasons.join('; ')})` : ' (no server address)'}`));
  }

  private attach(socket: Socket, directTls: boolean): void {
    let failure: string | undefined;
    let failureCondition: 'remote-server-not-found' | 'remote-server-timeout' = 'remote-server-not-found';
    this.stream = new OutboundStream(socket, this.local, this.remote, this.o, {
      ready: () => this.sendVerifies(),
      authenticated: () => {
        clearTimeout(this.timer);
        this.connecting = false;
        this.flush();
      },
      drained: () => this.flush(),
      verified: (id, outcome) => {
        const v = this.verifies.get(id);
        this.verifies.delete(id);
        v?.done(outcome);
      },
      failed: (reason, condition) => {
        failure = reason;
        if (condition) failureCondition = condition;
      },
      closed: () => this.fail(new StanzaError(failureCondition, failure ?? `the connection to ${this.remote} closed`)),
    }, directTls);
  }

  /** The link is finished: what waits is bounced, pending verifications fail, the manager forgets it. */
  private fail(error: StanzaError): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    if (this.queue.length) this.o.logger.info({ local: this.local, remote: this.remote, bounced: this.queue.length, reason: error.text }, 'bouncing stanzas for a remote domain');
    for (const st of this.queue.splice(0)) this.o.bounce(st, error);
    for (const v of this.verifies.values()) v.done(this.verifyFailure);
    this.verifies.clear();
    this.stream?.close();
    this.o.closed(this);
  }

  close(): void {
    this.fail(new StanzaError('remote-server-not-found', 'the server is shutting down'));
  }
}

function connectTo(t: Target): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: t.host, port: t.port });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** A client's stanza may carry xmlns='jabber:client'; on a server stream the default namespace is jabber:server. */
function outgoing(stanza: Element): Element {
  if (stanza.attrs.xmlns !== NS_CLIENT) return stanza;
  const { xmlns: _, ...attrs } = stanza.attrs;
  const copy = new Element(stanza.name, attrs);
  copy.children = stanza.children;
  return copy;
}
