// The session directory of a cluster node: its own sessions (a LocalSessionDirectory) plus a replica of every
// other node's, kept over the bus. Modules and the router see remote sessions as ModuleSessions
// (remote-session.ts) whose deliver() crosses the bus, so no module knows where a session lives.
//
// Replication: each node numbers its session changes (seq, per incarnation) and broadcasts them; a peer that
// sees a gap, an unknown node or a heartbeat with another seq asks the node for its whole list. Leases: a
// peer not heard from for `leaseMs` is gone, its sessions are dropped and one surviving node (the lowest id)
// ends them as if their connections had closed, so contacts get unavailable presence. While this node's own
// bus connection is down, leases do not run out (it cannot tell a dead peer from its own isolation), and
// every cache is flushed on losing and on regaining the bus (coherence.ts).
import { randomBytes } from 'node:crypto';
import { bareOf } from '../jid/index.ts';
import type { Element } from '../xml/index.ts';
import type { StreamErrorCondition } from '../protocol/rfc6120.ts';
import { BusNoResponders, type BusState, type ClusterBus } from './bus.ts';
import type { ClusterCoherence, InvalidationHandler } from './coherence.ts';
import { LocalSessionDirectory } from './local.ts';
import { batches } from './batches.ts';
import { RemoteSession, type SessionRecord } from './remote-session.ts';
import type { ModuleSession, SessionDirectory } from './types.ts';

export interface ClusterOptions {
  nodeId: string;
  heartbeatMs: number;
  /** A node not heard from for this long is gone. */
  leaseMs: number;
  /** Bound on a cross-node delivery or list request; past it, stanzas are bounced. */
  requestTimeoutMs: number;
  /** Bound on waiting for the peers' acknowledgements of a cache invalidation. */
  invalidationTimeoutMs: number;
  /** Stanzas waiting for one node; beyond, new ones are bounced at once. */
  maxQueued: number;
}

/** What the server does with what the directory cannot do itself. */
export interface ClusterEvents {
  /** A node's sessions were dropped; `reap`: this node speaks for them (their session-closed handling). */
  sessionsLost(sessions: ModuleSession[], reap: boolean): void;
  /** A stanza for a remote session did not get there: the session is 'gone', or its node 'unreachable'. */
  undeliverable(to: string, xml: string, reason: 'gone' | 'unreachable'): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface NodeStatus {
  id: string;
  self: boolean;
  sessions: number;
  /** Milliseconds since its last heartbeat (0 for this node). */
  lastSeenMs: number;
}

export interface ClusterStatus {
  node: string;
  bus: BusState;
  nodes: NodeStatus[];
}

interface Peer {
  inc: string;
  seq: number;
  lastSeen: number;
  sessions: Map<string, RemoteSession>;
  syncing: boolean;
  queue: [to: string, xml: string][];
}

type SessMsg = { node: string; inc: string; seq: number; op: 'up'; rec: SessionRecord } | { node: string; inc: string; seq: number; op: 'down'; jid: string };

const S = {
  hb: 'pepkeys.hb',
  bye: 'pepkeys.bye',
  sess: 'pepkeys.sess',
  inval: 'pepkeys.inval',
  list: (n: string) => `pepkeys.node.${n}.list`,
  deliver: (n: string) => `pepkeys.node.${n}.in`,
  end: (n: string) => `pepkeys.node.${n}.end`,
  service: (n: string, name: string) => `pepkeys.node.${n}.svc.${name}`,
};

export class ClusterSessionDirectory implements SessionDirectory, ClusterCoherence {
  private readonly local = new LocalSessionDirectory();
  private readonly peers = new Map<string, Peer>();
  private readonly remoteByBare = new Map<string, Set<RemoteSession>>();
  private readonly boundAt = new WeakMap<ModuleSession, number>();
  private readonly handlers = new Map<string, InvalidationHandler[]>();
  private readonly inc = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  private seq = 0;
  private bus: ClusterBus | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private events: ClusterEvents;
  private readonly services = new Map<string, (data: string, reply: ((data: string) => void) | undefined) => void>();
  private readonly memberListeners: (() => void)[] = [];

  constructor(readonly options: ClusterOptions, events?: Partial<ClusterEvents>) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(options.nodeId)) throw new Error(`invalid cluster node id ${options.nodeId}`);
    this.events = { sessionsLost: () => undefined, undeliverable: () => undefined, warn: () => undefined, ...events };
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  /** Sets what the server does with lost sessions and undeliverable stanzas (before start). */
  on(events: Partial<ClusterEvents>): void {
    this.events = { ...this.events, ...events };
  }

  // ------------------------------------------------------------------------------ lifecycle
  async start(bus: ClusterBus): Promise<void> {
    this.bus = bus;
    const me = this.nodeId;
    const sub = (subject: string, fn: Parameters<ClusterBus['subscribe']>[1]) => this.unsubscribe.push(bus.subscribe(subject, fn));
    sub(S.hb, (d) => this.onHeartbeat(JSON.parse(d)));
    sub(S.bye, (d) => {
      const { node } = JSON.parse(d) as { node: string };
      if (node !== me && this.peers.has(node)) this.lost(node);
    });
    sub(S.sess, (d) => this.onSession(JSON.parse(d) as SessMsg));
    sub(S.inval, (d, reply) => void this.onInvalidation(d, reply));
    sub(S.list(me), (_d, reply) => reply?.(JSON.stringify({ inc: this.inc, seq: this.seq, sessions: [...this.local.all()].map((s) => this.record(s)) })));
    sub(S.deliver(me), (d, reply) => {
      const { items } = JSON.parse(d) as { items: [string, string][] };
      const gone: number[] = [];
      items.forEach(([to, xml], i) => {
        const s = this.local.get(to);
        if (s && !s.isClosed) s.deliver(xml);
        else gone.push(i);
      });
      reply?.(JSON.stringify({ gone }));
    });
    sub(S.end(me), (d) => {
      const { jid, condition, text } = JSON.parse(d) as { jid: string; condition: StreamErrorCondition; text?: string };
      this.local.get(jid)?.end(condition, text);
    });
    // Before the first heartbeat: a peer that hears of this node may ask its services at once.
    for (const [name, fn] of this.services) sub(S.service(me, name), fn);
    this.unsubscribe.push(bus.onState((state) => this.onBusState(state)));
    this.heartbeat();
    this.timer = setInterval(() => this.tick(), this.options.heartbeatMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const bus = this.bus;
    if (!bus) return;
    if (bus.state === 'connected') bus.publish(S.bye, JSON.stringify({ node: this.nodeId }));
    for (const u of this.unsubscribe.splice(0)) u();
    this.bus = undefined;
    await bus.close();
  }

  private tick(): void {
    this.heartbeat();
    if (this.bus?.state !== 'connected') return;
    const now = Date.now();
    for (const [id, p] of this.peers) if (now - p.lastSeen > this.options.leaseMs) this.lost(id);
  }

  private heartbeat(): void {
    if (this.bus?.state === 'connected') this.bus.publish(S.hb, JSON.stringify({ node: this.nodeId, inc: this.inc, seq: this.seq }));
  }

  private onBusState(state: BusState): void {
    // Invalidations sent while this node was away never reach it: nothing cached before or during the outage is trusted.
    void this.flushCaches();
    if (state === 'connected') {
      // Peers get a fresh lease: their silence was this node's outage, not theirs.
      const now = Date.now();
      for (const p of this.peers.values()) p.lastSeen = now;
      this.heartbeat();
    }
  }

  // ------------------------------------------------------------------------------ peers
  private onHeartbeat(hb: { node: string; inc: string; seq: number }): void {
    if (hb.node === this.nodeId) return;
    const p = this.peers.get(hb.node);
    if (p && p.inc === hb.inc) {
      p.lastSeen = Date.now();
      if (p.seq !== hb.seq && !p.syncing) void this.sync(hb.node);
      return;
    }
    // A new node, or a node that restarted: its earlier sessions are gone.
    if (p) this.lost(hb.node);
    this.peers.set(hb.node, { inc: hb.inc, seq: -1, lastSeen: Date.now(), sessions: new Map(), syncing: false, queue: [] });
    this.membersChanged();
    void this.sync(hb.node);
    // Let the newcomer learn of this node without waiting for the next beat.
    this.heartbeat();
  }

  private async sync(node: string): Promise<void> {
    const p = this.peers.get(node);
    if (!p || p.syncing || !this.bus) return;
    p.syncing = true;
    try {
      const list = JSON.parse(await this.bus.request(S.list(node), '{}', this.options.requestTimeoutMs)) as { inc: string; seq: number; sessions: SessionRecord[] };
      if (this.peers.get(node) !== p || list.inc !== p.inc) return;
      const seen = new Set<string>();
      for (const rec of list.sessions) {
        seen.add(rec.jid);
        this.upsert(node, p, rec);
      }
      for (const jid of [...p.sessions.keys()]) if (!seen.has(jid)) this.drop(p, jid);
      p.seq = list.seq;
    } catch (err) {
      this.events.warn('could not read the sessions of a cluster node', { node, err: String(err) });
    } finally {
      p.syncing = false;
    }
  }

  private onSession(m: SessMsg): void {
    if (m.node === this.nodeId) return;
    const p = this.peers.get(m.node);
    if (!p || p.inc !== m.inc) return; // its heartbeat introduces it
    if (p.syncing || m.seq <= p.seq) return;
    if (m.seq !== p.seq + 1) {
      void this.sync(m.node);
      return;
    }
    p.seq = m.seq;
    p.lastSeen = Date.now();
    if (m.op === 'up') this.upsert(m.node, p, m.rec);
    else this.drop(p, m.jid);
  }

  private upsert(node: string, p: Peer, rec: SessionRecord): void {
    const mine = this.local.get(rec.jid);
    if (mine) {
      // RFC 6120 §7.7.2.2 across nodes: the newer session wins (node id breaks a tie); the other is ended.
      const at = this.boundAt.get(mine) ?? 0;
      if (at < rec.since || (at === rec.since && this.nodeId < node)) mine.end('conflict', 'replaced by a new connection with the same resource');
      else return;
    }
    const existing = p.sessions.get(rec.jid);
    if (existing) {
      existing.update(rec);
      return;
    }
    // The same full JID on a third node is older than this record: its node ends it on seeing the record.
    for (const other of this.peers.values()) if (other !== p) this.drop(other, rec.jid);
    const s = new RemoteSession(node, rec, this);
    p.sessions.set(rec.jid, s);
    let set = this.remoteByBare.get(s.jid.bare);
    if (!set) this.remoteByBare.set(s.jid.bare, (set = new Set()));
    set.add(s);
  }

  private drop(p: Peer, jid: string): RemoteSession | undefined {
    const s = p.sessions.get(jid);
    if (!s) return undefined;
    p.sessions.delete(jid);
    s.closed = true;
    const set = this.remoteByBare.get(s.jid.bare);
    set?.delete(s);
    if (set?.size === 0) this.remoteByBare.delete(s.jid.bare);
    return s;
  }

  /** A node is gone: its sessions are dropped everywhere, and ended by one surviving node. */
  private lost(node: string): void {
    const p = this.peers.get(node);
    if (!p) return;
    this.peers.delete(node);
    const sessions = [...p.sessions.keys()].map((j) => this.drop(p, j)!);
    for (const [to, xml] of p.queue.splice(0)) this.events.undeliverable(to, xml, 'gone');
    const reap = [...this.peers.keys()].every((id) => this.nodeId < id);
    this.events.warn('cluster node gone', { node, sessions: sessions.length, reap });
    if (sessions.length) this.events.sessionsLost(sessions, reap);
    this.membersChanged();
  }

  // ------------------------------------------------------------------------------ members and node services
  /** The nodes alive as this node sees them, itself included. */
  members(): string[] {
    return [this.nodeId, ...this.peers.keys()];
  }

  /** Called whenever a node joins or is gone; returns the removal. */
  onMembers(listener: () => void): () => void {
    this.memberListeners.push(listener);
    return () => {
      const i = this.memberListeners.indexOf(listener);
      if (i >= 0) this.memberListeners.splice(i, 1);
    };
  }

  private membersChanged(): void {
    for (const l of [...this.memberListeners]) l();
  }

  /** True while this node's bus connection is up (it can reach the others). */
  get connected(): boolean {
    return this.bus?.state === 'connected';
  }

  /** Answers requests other nodes send to this node's service `name` (ask()); register before start(). */
  serve(name: string, handler: (data: string, reply: ((data: string) => void) | undefined) => void): void {
    this.services.set(name, handler);
    if (this.bus) this.unsubscribe.push(this.bus.subscribe(S.service(this.nodeId, name), handler));
  }

  /** A request to service `name` of `node`; rejects with BusNoResponders, BusTimeout, or when there is no bus. */
  ask(node: string, name: string, data: string, timeoutMs = this.options.requestTimeoutMs): Promise<string> {
    if (!this.bus) return Promise.reject(new Error('the cluster bus is not started'));
    return this.bus.request(S.service(node, name), data, timeoutMs);
  }

  // ------------------------------------------------------------------------------ SessionDirectory
  register(session: ModuleSession): ModuleSession | undefined {
    this.boundAt.set(session, Date.now());
    const old = this.local.register(session);
    let remote: RemoteSession | undefined;
    for (const p of this.peers.values()) remote ??= this.drop(p, session.jid.full);
    this.announce(session);
    return old ?? remote;
  }

  unregister(session: ModuleSession): void {
    if (this.local.get(session.jid.full) !== session) return;
    this.local.unregister(session);
    this.seq++;
    this.bus?.publish(S.sess, JSON.stringify({ node: this.nodeId, inc: this.inc, seq: this.seq, op: 'down', jid: session.jid.full } satisfies SessMsg));
  }

  changed(session: ModuleSession): void {
    if (this.local.get(session.jid.full) === session) this.announce(session);
  }

  private announce(session: ModuleSession): void {
    this.seq++;
    this.bus?.publish(S.sess, JSON.stringify({ node: this.nodeId, inc: this.inc, seq: this.seq, op: 'up', rec: this.record(session) } satisfies SessMsg));
  }

  private record(s: ModuleSession): SessionRecord {
    return {
      jid: s.jid.full,
      available: s.available,
      priority: s.priority,
      presence: s.presence?.toString(),
      shared: s.sharedState?.() ?? {},
      since: this.boundAt.get(s) ?? 0,
    };
  }

  get(fullJid: string): ModuleSession | undefined {
    const s = this.local.get(fullJid);
    if (s) return s;
    for (const p of this.peers.values()) {
      const r = p.sessions.get(fullJid);
      if (r) return r;
    }
    return undefined;
  }

  resources(bareJid: string): ModuleSession[] {
    const here = this.local.resources(bareJid);
    const there = this.remoteByBare.get(bareOf(bareJid));
    return there ? [...here, ...there] : here;
  }

  get size(): number {
    return this.local.size;
  }

  all(): IterableIterator<ModuleSession> {
    return this.local.all();
  }

  // ------------------------------------------------------------------------------ delivery (RemoteSession)
  /**
   * Queues a stanza for a session on `node`; everything queued in one turn of the event loop travels as one
   * bus message per node (a PEP fan-out is one batch).
   */
  send(node: string, to: string, stanza: Element | string): void {
    const p = this.peers.get(node);
    const xml = typeof stanza === 'string' ? stanza : stanza.toString();
    if (!p) return this.events.undeliverable(to, xml, 'gone');
    if (p.queue.length >= this.options.maxQueued) return this.events.undeliverable(to, xml, 'unreachable');
    p.queue.push([to, xml]);
    if (p.queue.length === 1) setImmediate(() => void this.flush(node, p));
  }

  private async flush(node: string, p: Peer): Promise<void> {
    const queued = p.queue.splice(0);
    if (queued.length === 0 || !this.bus) return;
    await Promise.all(batches(queued).map((chunk) => this.deliverBatch(node, p, chunk)));
  }

  private async deliverBatch(node: string, p: Peer, items: [string, string][]): Promise<void> {
    if (!this.bus) return;
    try {
      const answer = JSON.parse(await this.bus.request(S.deliver(node), JSON.stringify({ items }), this.options.requestTimeoutMs)) as { gone: number[] };
      for (const i of answer.gone) {
        const [to, xml] = items[i]!;
        // Its 'down' is on the way; rerouting must not pick it again meanwhile.
        if (this.peers.get(node) === p) this.drop(p, to);
        this.events.undeliverable(to, xml, 'gone');
      }
    } catch (err) {
      // Nobody listens on the node's subject: it is gone (before its lease runs out).
      if (err instanceof BusNoResponders && this.peers.get(node) === p) this.lost(node);
      for (const [to, xml] of items) this.events.undeliverable(to, xml, err instanceof BusNoResponders ? 'gone' : 'unreachable');
    }
  }

  /** Ends a session held by another node. */
  endRemote(node: string, jid: string, condition: StreamErrorCondition, text?: string): void {
    this.bus?.publish(S.end(node), JSON.stringify({ jid, condition, text }));
  }

  // ------------------------------------------------------------------------------ coherence
  onInvalidate(kind: string, handler: InvalidationHandler): void {
    const list = this.handlers.get(kind) ?? [];
    list.push(handler);
    this.handlers.set(kind, list);
  }

  async invalidate(kind: string, data: unknown): Promise<void> {
    const bus = this.bus;
    const expect = this.peers.size;
    if (!bus || expect === 0) return;
    const answers = await bus.gather(S.inval, JSON.stringify({ node: this.nodeId, kind, data }), expect, this.options.invalidationTimeoutMs);
    if (answers.length < expect) {
      const acked = new Set(answers);
      const missing = [...this.peers.keys()].filter((n) => !acked.has(n));
      this.events.warn('cache invalidation not acknowledged by every node in time', { kind, missing });
    }
  }

  private async onInvalidation(d: string, reply: ((data: string) => void) | undefined): Promise<void> {
    const { node, kind, data } = JSON.parse(d) as { node: string; kind: string; data: unknown };
    if (node === this.nodeId) return;
    try {
      for (const h of this.handlers.get(kind) ?? []) await h(data);
    } catch (err) {
      this.events.warn('a cache invalidation failed', { kind, err: String(err) });
    }
    reply?.(this.nodeId);
  }

  private async flushCaches(): Promise<void> {
    for (const list of this.handlers.values()) for (const h of list) await Promise.resolve(h(undefined)).catch(() => undefined);
  }

  // ------------------------------------------------------------------------------ status
  status(): ClusterStatus {
    const now = Date.now();
    const nodes: NodeStatus[] = [{ id: this.nodeId, self: true, sessions: this.local.size, lastSeenMs: 0 }];
    for (const [id, p] of this.peers) nodes.push({ id, self: false, sessions: p.sessions.size, lastSeenMs: now - p.lastSeen });
    nodes.sort((a, b) => a.id.localeCompare(b.id));
    return { node: this.nodeId, bus: this.bus?.state ?? 'closed', nodes };
  }
}
