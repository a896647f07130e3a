// The XML-free pubsub engine behind PEP (XEP-0163) with XEP-0222 persistence: nodes, items, configuration,
// affiliations, explicit subscriptions and access decisions over a PubsubStore. `service(jid)` gives the
// operations of one service (service.ts); what they share lives here: the store, the limits, the deployment
// defaults, each node's parsed configuration and the access cache. Presence, roster, caps and delivery stay
// with the caller: it supplies `relationship()` and fans events out, asking `mayReceiveEvent` per recipient.
import { randomUUID } from 'node:crypto';
import { parseJid, tryParseJid, type Jid } from '../../jid/index.ts';
import type { Affiliation, LogAppend, NodeConfig, PubsubNodeRecord, PubsubStore } from '../../storage/types.ts';
import type { KeyEventType } from '../../transparency/leaf.ts';
import { denied, needsRelationship, type AccessModelConfig, type Relationship, type Standing } from './access.ts';
import { AccessCache } from './access-cache.ts';
import { effectiveConfig, normalizeConfig, PEP_DEFAULT_CONFIG, typedConfig, type TypedConfig } from './config.ts';
import { describeProblem, PubsubError } from './errors.ts';
import type { AccessSnapshot, EventBase, PubsubEvent } from './events.ts';
import { PubsubService } from './service.ts';

export interface PubsubLimits {
  /** Nodes one service (account) may hold. */
  maxNodesPerService: number;
  /** Upper bound on items kept per node; pubsub#max_items = max means this. */
  maxItemsPerNode: number;
  /** Largest serialised payload accepted, in UTF-8 bytes (XEP-0060 §7.1.3.4). */
  maxPayloadBytes: number;
}

export interface PubsubEngineDeps {
  store: PubsubStore;
  /** The OWNER's roster entry about the requester's bare JID ('none' and no groups when absent). */
  relationship(owner: string, requester: string): Promise<Relationship>;
  limits: PubsubLimits;
  clock?: () => number;
  /** Item ids and instant node ids. Default: random UUIDs. */
  idGenerator?: () => string;
  /** Overrides over the PEP defaults (validated at construction). */
  defaults?: NodeConfig;
  /** Cached access decisions kept for mayReceive before the cache is dropped wholesale. */
  accessCacheSize?: number;
}

/** A write that changes a node's items or the node itself: a key event when the key log says so. */
export interface KeyWrite {
  type: KeyEventType;
  service: string;
  node: string;
  /** '' for purge and node deletion. */
  itemId: string;
  /** The payload as stored and served (publish only). */
  payload?: string;
  time: number;
}

/** Decides whether a write is a key event and builds its leaf; the store appends it in the write's transaction. */
export type KeyLog = (write: KeyWrite) => LogAppend | undefined;

/** What every service of one engine shares (internal to the engine and its services). */
export interface EngineShared {
  readonly store: PubsubStore;
  readonly limits: PubsubLimits;
  readonly defaults: NodeConfig;
  readonly cache: AccessCache;
  /** Set by the transparency module (issue 14); undefined: nothing is logged. */
  keyLog: KeyLog | undefined;
  clock(): number;
  newId(): string;
  relationship(owner: string, requester: string): Promise<Relationship>;
  cachedRelationship(owner: string, requester: string): Promise<Relationship>;
  configOf(record: PubsubNodeRecord): { config: NodeConfig; typed: TypedConfig };
  eventBase(service: string, node: string, config: NodeConfig, t: TypedConfig): Promise<EventBase>;
}

export class PubsubEngine {
  private readonly shared: EngineShared;

  constructor(deps: PubsubEngineDeps) {
    const overrides = normalizeConfig(deps.defaults ?? {});
    if (!overrides.ok) throw new Error(`invalid pubsub default configuration: ${describeProblem(overrides.problem)}`);
    const defaults = effectiveConfig(overrides.config, PEP_DEFAULT_CONFIG);
    const store = deps.store;
    const cache = new AccessCache(deps.accessCacheSize ?? 100_000);
    const configs = new WeakMap<PubsubNodeRecord, { config: NodeConfig; typed: TypedConfig }>();
    this.shared = {
      store,
      limits: deps.limits,
      defaults,
      cache,
      keyLog: undefined,
      clock: deps.clock ?? Date.now,
      newId: deps.idGenerator ?? randomUUID,
      relationship: deps.relationship,
      cachedRelationship: (owner, requester) => cache.relationship(owner, requester, () => deps.relationship(owner, requester)),
      /**
       * A stored node's effective configuration and its typed view, computed once per record: records come
       * frozen from the cache and are replaced, not changed, when the node is reconfigured, so the identity
       * is the key (a publish used to rebuild both, ~10 µs of its time). Both are frozen: callers only read.
       */
      configOf(record) {
        let entry = configs.get(record);
        if (!entry) {
          const config = effectiveConfig(record.config, defaults);
          for (const v of Object.values(config)) if (Array.isArray(v)) Object.freeze(v);
          entry = { config: Object.freeze(config), typed: Object.freeze(typedConfig(config)) };
          configs.set(record, entry);
        }
        return entry;
      },
      async eventBase(service, node, config, t) {
        const [subs, affs] = await Promise.all([store.getSubscriptions(service, node), store.getAffiliations(service, node)]);
        const affiliations: Record<string, Affiliation> = {};
        for (const [jid, a] of affs) if (a !== 'none') affiliations[jid] = a;
        const access: AccessSnapshot = { accessModel: t.accessModel, rosterGroupsAllowed: [...t.rosterGroupsAllowed], affiliations };
        const subscribers = [...subs].filter(([, s]) => s === 'subscribed').map(([j]) => j).sort();
        return { service, node, config, messageType: t.notificationType, subscribers, access };
      },
    };
  }

  /**
   * Logs key events from now on: every publish, retract, purge and node deletion is offered to `log`, and
   * the leaf it returns is stored in the same transaction as the write (storage/types.ts LogAppend).
   */
  logKeyEvents(log: KeyLog | undefined): void {
    this.shared.keyLog = log;
  }

  /** The pubsub service at `jid` (PEP: an account; its bare JID is the service). */
  service(jid: string | Jid): PubsubService {
    return new PubsubService(this.shared, typeof jid === 'string' ? serviceJid(jid) : jid.bare);
  }

  /** Forgets every cached access decision (a cluster node that may have missed invalidations). */
  forgetAll(): void {
    this.shared.cache.clear();
  }

  /** XEP-0060 §8.3: the default configuration of a new (leaf) node. */
  defaultConfig(): NodeConfig {
    return effectiveConfig({}, this.shared.defaults);
  }

  /**
   * May `recipient` (any JID; its bare JID decides) receive this event? Decided from the access snapshot the
   * event carries: works after the node is gone (delete events) and answers exactly as of the event.
   */
  async mayReceiveEvent(event: PubsubEvent, recipient: string): Promise<boolean> {
    const bare = tryParseJid(recipient)?.bare ?? recipient;
    const standing: Standing = { affiliation: bare === event.service ? 'owner' : (event.access.affiliations[bare] ?? 'none') };
    const model = eventModel(event);
    if (needsRelationship('retrieve', standing.affiliation, model)) {
      standing.relationship = await this.shared.cachedRelationship(event.service, bare);
    }
    return !denied('retrieve', standing, model);
  }

  /**
   * mayReceiveEvent's answer without a promise when the recipient's relationship is cached (a fan-out asks
   * once per contact of the owner: the parse and the promises were ~4 µs of each notification). Keys of the
   * cache are bare JIDs as parsed, so a hit under `recipient` means it is one; anything else takes the
   * full path.
   */
  receivesEvent(event: PubsubEvent, recipient: string): boolean | Promise<boolean> {
    const rel = this.shared.cache.peekRelationship(event.service, recipient);
    if (rel === undefined) return this.mayReceiveEvent(event, recipient);
    const standing: Standing = { affiliation: recipient === event.service ? 'owner' : (event.access.affiliations[recipient] ?? 'none') };
    const model = eventModel(event);
    if (needsRelationship('retrieve', standing.affiliation, model)) standing.relationship = rel;
    return !denied('retrieve', standing, model);
  }
}

function eventModel(event: PubsubEvent): AccessModelConfig {
  return { accessModel: event.access.accessModel as TypedConfig['accessModel'], rosterGroupsAllowed: event.access.rosterGroupsAllowed };
}

function serviceJid(j: string): string {
  try {
    return parseJid(j).bare;
  } catch {
    throw new PubsubError('bad-request', { pubsubCondition: 'invalid-jid', text: `invalid JID ${j}` });
  }
}

export function createPubsubEngine(deps: PubsubEngineDeps): PubsubEngine {
  return new PubsubEngine(deps);
}
