// The XML-free pubsub engine behind PEP (XEP-0163) with XEP-0222 persistence: nodes, items, configuration,
// affiliations, explicit subscriptions and access decisions over a PubsubStore. Every operation enforces
// affiliation and access model and throws PubsubError with the XEP-0060 conditions; state changes return
// (and emit) events as plain data. Presence, roster, caps and delivery stay with the caller: it supplies
// `relationship()` and fans events out, asking `mayReceive*` per recipient.
import { randomUUID } from 'node:crypto';
import { parseJid } from '../../jid/index.ts';
import { NodeNotFoundError } from '../../storage/errors.ts';
import type { Affiliation, NodeConfig, PubsubItemRecord, PubsubNodeRecord, PubsubStore, SubscriptionState } from '../../storage/types.ts';
import { canAccess, canPublish, isOwnerLike, needsRelationship, type AccessDecision, type AccessFacts, type Relationship } from './access.ts';
import {
  effectiveConfig, effectiveMaxItems, normalizeConfig, PEP_DEFAULT_CONFIG, typedConfig, type ConfigProblem, type TypedConfig,
} from './config.ts';
import { errors, PubsubError } from './errors.ts';
import type { AccessSnapshot, ConfigEvent, DeleteEvent, EventItem, ItemsEvent, PubsubEvent, PubsubEventListener, PurgeEvent } from './events.ts';
import { checkPreconditions, preparePublishOptions } from './preconditions.ts';

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
  /** Receives exceptions thrown by event listeners (which never fail the operation). */
  onListenerError?: (error: unknown) => void;
}

export interface PublishItemInput {
  /** ItemID; generated when absent (XEP-0060 §7.1.1). */
  id?: string;
  /** Serialised payload element; absent or '' for an item without payload. */
  payload?: string;
}

export interface PublishResult {
  node: string;
  /** The ItemID (generated or given); undefined only for item-less publishes to transient notification nodes. */
  id: string | undefined;
  /** The node was auto-created by this publish (XEP-0060 §7.1.4). */
  created: boolean;
  /** Ids removed to honour max_items (not notified: they are discarded, not retracted). */
  evicted: string[];
  /** Undefined when the node does not deliver notifications. */
  event: ItemsEvent | undefined;
}

export interface ItemView {
  id: string;
  /** Only when the node exposes publishers (pubsub#itemreply = publisher). */
  publisher?: string;
  payload: string;
  publishedAt: number;
}

export interface RsmRequest {
  max?: number;
  after?: string;
  /** '' = the last page (XEP-0059 §2.5). */
  before?: string;
  index?: number;
}

export interface RsmResult {
  count: number;
  first?: string;
  firstIndex?: number;
  last?: string;
}

export interface GetItemsOptions {
  ids?: string[];
  /** XEP-0060 §6.5.7 max_items: the N most recent. */
  max?: number;
  rsm?: RsmRequest;
}

export interface GetItemsResult {
  node: string;
  /** Newest first. */
  items: ItemView[];
  /** Present when the request used RSM. */
  rsm?: RsmResult;
}

export interface NodeListing {
  node: string;
  title?: string;
}

export interface AffiliationEntry {
  jid: string;
  affiliation: Affiliation;
}

export interface SubscriptionEntry {
  node: string;
  jid: string;
  subscription: SubscriptionState;
}

export interface CancelledSubscription {
  node: string;
  jid: string;
}

export interface SubscribeResult extends SubscriptionEntry {
  /**
   * XEP-0060 §6.1.7: when send_last_published_item is not "never", the last item to send to the new
   * subscriber (as an items event for that subscriber only).
   */
  lastItem: ItemsEvent | undefined;
}

const AFFILIATIONS: readonly Affiliation[] = ['owner', 'publisher', 'publish-only', 'member', 'none', 'outcast'];

interface CacheEntry {
  relationship?: Relationship;
  nodes: Map<string, boolean>;
}

interface ServiceCache {
  generation: number;
  recipients: Map<string, CacheEntry>;
}

export class PubsubEngine {
  private readonly store: PubsubStore;
  private readonly relationshipOf: PubsubEngineDeps['relationship'];
  private readonly limits: PubsubLimits;
  private readonly clock: () => number;
  private readonly newId: () => string;
  private readonly defaults: NodeConfig;
  private readonly cacheCap: number;
  private readonly onListenerError: ((e: unknown) => void) | undefined;
  private readonly listeners = new Set<PubsubEventListener>();
  private readonly cache = new Map<string, ServiceCache>();
  private cachedDecisions = 0;
  private readonly configs = new WeakMap<PubsubNodeRecord, { config: NodeConfig; typed: TypedConfig }>();

  constructor(deps: PubsubEngineDeps) {
    this.store = deps.store;
    this.relationshipOf = deps.relationship;
    this.limits = deps.limits;
    this.clock = deps.clock ?? Date.now;
    this.newId = deps.idGenerator ?? randomUUID;
    this.cacheCap = deps.accessCacheSize ?? 100_000;
    this.onListenerError = deps.onListenerError;
    const overrides = normalizeConfig(deps.defaults ?? {});
    if (!overrides.ok) throw new Error(`invalid pubsub default configuration: ${describeProblem(overrides.problem)}`);
    this.defaults = effectiveConfig(overrides.config, PEP_DEFAULT_CONFIG);
  }

  // ------------------------------------------------------------------ events
  /** Registers a listener for every event; returns a function that removes it. */
  on(listener: PubsubEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit<E extends PubsubEvent>(event: E | undefined): E | undefined {
    if (!event) return event;
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (e) {
        this.onListenerError?.(e);
      }
    }
    return event;
  }

  // ------------------------------------------------------------------ configuration
  /**
   * A stored node's effective configuration and its typed view, computed once per record: records come
   * frozen from the cache and are replaced, not changed, when the node is reconfigured, so the identity is
   * the key (a publish used to rebuild both, ~10 µs of its time). Both are frozen: callers only read them.
   */
  private configOf(record: PubsubNodeRecord): { config: NodeConfig; typed: TypedConfig } {
    let entry = this.configs.get(record);
    if (!entry) {
      const config = effectiveConfig(record.config, this.defaults);
      for (const v of Object.values(config)) if (Array.isArray(v)) Object.freeze(v);
      entry = { config: Object.freeze(config), typed: Object.freeze(typedConfig(config)) };
      this.configs.set(record, entry);
    }
    return entry;
  }

  /** XEP-0060 §8.3: the default configuration of a new (leaf) node. */
  defaultConfig(): NodeConfig {
    return effectiveConfig({}, this.defaults);
  }

  // ------------------------------------------------------------------ publish (§7.1)
  /**
   * `ordered` is called once every write of this publish has been issued to the store (which settles writes
   * in issue order), before waiting for them: a caller may start its next publish then (see
   * core/pipeline.ts). It is not called when the publish fails before that point.
   */
  async publish(
    service: string, node: string, requester: string, item?: PublishItemInput, publishOptions?: NodeConfig, ordered?: () => void,
  ): Promise<PublishResult> {
    service = bareJid(service);
    const requesterBare = bareJid(requester);
    requireNodeId(node);
    const prepared = publishOptions ? preparePublishOptions(publishOptions) : undefined;
    // Checks that need no node: §7.1.3.4 payload size.
    if (item?.payload !== undefined && Buffer.byteLength(item.payload, 'utf8') > this.limits.maxPayloadBytes) {
      throw errors.payloadTooBig();
    }

    let record = await this.store.getNode(service, node);
    let created = false;
    let config: NodeConfig;
    let typed: TypedConfig;
    if (!record) {
      // XEP-0163 §3.2: the account owner is the only one who creates (and auto-creates) PEP nodes.
      if (requesterBare !== service) throw errors.forbidden('only the owner may create nodes');
      // §7.1.5 rule 3: auto-create with defaults except what the preconditions specify.
      if (prepared && !prepared.ok) throw prepared.error;
      config = effectiveConfig(prepared?.ok ? prepared.options : {}, this.defaults);
      typed = typedConfig(config);
      checkItemAgainstConfig(typed, item);
      await this.checkNodeQuota(service);
      created = await this.store.createNode({ service, node, config, createdAt: this.clock() });
      if (created) {
        this.invalidateNode(service, node);
      } else {
        // Lost a creation race: publish to the node that now exists, preconditions and all.
        record = await this.store.getNode(service, node);
        if (!record) throw errors.nodeNotFound();
      }
    }
    if (record) {
      const facts = await this.facts(record, requesterBare);
      // §7.1.3.1
      if (!canPublish(facts)) throw errors.forbidden('not a publisher');
      ({ config, typed } = this.configOf(record));
      // §7.1.5 rule 1: each option must match the existing node's configuration.
      if (prepared) {
        const err = checkPreconditions(prepared, config);
        if (err) throw err;
      }
      checkItemAgainstConfig(typed, item);
    }
    const t = typed!;

    let id: string | undefined;
    let evicted: string[] = [];
    let stored: PubsubItemRecord | undefined;
    let written: Promise<unknown> | undefined;
    if (item) {
      id = item.id !== undefined && item.id !== '' ? item.id : this.newId();
      stored = { service, node, id, publisher: requester, payload: item.payload ?? '', publishedAt: this.clock() };
      // §7.1.2: republishing an id overwrites it; max_items trimming drops the oldest (FIFO, §7.1.2.5).
      written = this.store.publishItem(stored, effectiveMaxItems(t, this.limits.maxItemsPerNode)).then((r) => {
        evicted = r.evicted;
      });
    }
    // The event's subscriptions and affiliations are read right behind the item write, so a group-committing
    // store answers both with the same commit instead of one commit after the other.
    const base = t.deliverNotifications ? this.eventBase(service, node, config!, t) : undefined;
    // Handled below (awaited, or dropped when the write failed); this keeps a failure meanwhile from
    // counting as an unhandled rejection.
    base?.catch(() => undefined);
    ordered?.();
    try {
      await written;
    } catch (e) {
      if (e instanceof NodeNotFoundError) throw errors.nodeNotFound('node was deleted');
      throw e;
    }
    let event: ItemsEvent | undefined;
    if (base) {
      event = { type: 'items', ...(await base), items: stored ? [toEventItem(stored, t)] : [] };
    }
    return { node, id, created, evicted, event: this.emit(event) };
  }

  // ------------------------------------------------------------------ retract (§7.2)
  async retract(service: string, node: string, requester: string, id: string, notify?: boolean): Promise<{ event: ItemsEvent | undefined }> {
    service = bareJid(service);
    const requesterBare = bareJid(requester);
    requireNodeId(node);
    // §7.2.3.4
    if (!id) throw errors.itemRequired();
    const record = await this.requireNode(service, node);
    const facts = await this.facts(record, requesterBare);
    // §7.2.3.1
    if (!canPublish(facts)) throw errors.forbidden('not a publisher');
    const { config, typed: t } = this.configOf(record);
    // §7.2.3.5: transient nodes keep no items to delete.
    if (!t.persistItems) throw errors.unsupported('persistent-items');
    const [existing] = await this.store.getItems(service, node, { ids: [id] });
    // §7.2.3.2
    if (!existing) throw errors.itemNotFound();
    // §4.1 note: publish-only entities delete only their own items.
    if (facts.affiliation === 'publish-only' && !facts.isOwner && safeBare(existing.publisher) !== requesterBare) {
      throw errors.forbidden('not the publisher of this item');
    }
    if (!(await this.store.retractItem(service, node, id))) throw errors.itemNotFound();
    let event: ItemsEvent | undefined;
    // §7.2.2.1: notify='true' MUST notify; otherwise the node's pubsub#notify_retract decides.
    if (t.deliverNotifications && (notify === true || t.notifyRetract)) {
      event = { type: 'items', ...(await this.eventBase(service, node, config, t)), items: [], retracts: [id] };
    }
    return { event: this.emit(event) };
  }

  // ------------------------------------------------------------------ purge (§8.5)
  async purge(service: string, node: string, requester: string): Promise<{ event: PurgeEvent | undefined }> {
    service = bareJid(service);
    const record = await this.requireNode(service, requireNodeId(node));
    const facts = await this.facts(record, bareJid(requester));
    // §8.5.3.2; §4.1 table lets publishers purge too.
    if (!(isOwnerLike(facts) || facts.affiliation === 'publisher')) throw errors.forbidden('not an owner');
    const { config, typed: t } = this.configOf(record);
    // §8.5.3.3
    if (!t.persistItems) throw errors.unsupported('persistent-items');
    await this.store.purgeNode(service, node);
    let event: PurgeEvent | undefined;
    // §8.5.2: one <purge/> notification when the node notifies on item deletion.
    if (t.deliverNotifications && t.notifyRetract) event = { type: 'purge', ...(await this.eventBase(service, node, config, t)) };
    return { event: this.emit(event) };
  }

  // ------------------------------------------------------------------ create (§8.1)
  /** `node` undefined requests an instant node (§8.1.1). */
  async createNode(service: string, node: string | undefined, requester: string, config?: NodeConfig): Promise<{ node: string; config: NodeConfig }> {
    service = bareJid(service);
    // XEP-0163 §3.2: only the account owner creates nodes at its PEP service (§8.1.1 forbidden).
    if (bareJid(requester) !== service) throw errors.forbidden('only the owner may create nodes');
    let overrides: NodeConfig = {};
    if (config) {
      const input: NodeConfig = {};
      for (const [k, v] of Object.entries(config)) if (k !== 'FORM_TYPE') input[k] = v;
      const r = normalizeConfig(input);
      if (!r.ok) throw configProblemError(r.problem);
      overrides = r.config;
    }
    const nodeId = node === undefined || node === '' ? this.newId() : node;
    const full = effectiveConfig(overrides, this.defaults);
    if (await this.store.getNode(service, nodeId)) throw errors.nodeExists();
    await this.checkNodeQuota(service);
    // §8.1.1: conflict when the NodeID exists (also covers a creation race).
    if (!(await this.store.createNode({ service, node: nodeId, config: full, createdAt: this.clock() }))) throw errors.nodeExists();
    this.invalidateNode(service, nodeId);
    return { node: nodeId, config: full };
  }

  // ------------------------------------------------------------------ delete (§8.4)
  async deleteNode(service: string, node: string, requester: string, redirect?: string): Promise<{ event: DeleteEvent | undefined }> {
    service = bareJid(service);
    const record = await this.requireNode(service, requireNodeId(node));
    const facts = await this.facts(record, bareJid(requester));
    // §8.4.3.1
    if (!isOwnerLike(facts)) throw errors.forbidden('not an owner');
    const { config, typed: t } = this.configOf(record);
    // Snapshot before deletion: subscriptions and affiliations go with the node (§8.4.2 notifies them).
    const base = await this.eventBase(service, node, config, t);
    if (!(await this.store.deleteNode(service, node))) throw errors.nodeNotFound();
    this.invalidateNode(service, node);
    let event: DeleteEvent | undefined;
    if (t.deliverNotifications && t.notifyDelete) event = { type: 'delete', ...base, ...(redirect ? { redirect } : {}) };
    return { event: this.emit(event) };
  }

  // ------------------------------------------------------------------ configure (§8.2)
  async getConfig(service: string, node: string, requester: string): Promise<NodeConfig> {
    service = bareJid(service);
    const record = await this.requireNode(service, requireNodeId(node));
    // §8.2.3.2
    if (!isOwnerLike(await this.facts(record, bareJid(requester)))) throw errors.forbidden('not an owner');
    return effectiveConfig(record.config, this.defaults);
  }

  /**
   * Applies a (possibly partial: XEP-0004 incomplete submission) configuration. Subscriptions that lose
   * access are cancelled (XEP-0163 §9.1) and reported.
   */
  async setConfig(
    service: string, node: string, requester: string, changes: NodeConfig,
  ): Promise<{ config: NodeConfig; event: ConfigEvent | undefined; cancelled: CancelledSubscription[] }> {
    service = bareJid(service);
    const record = await this.requireNode(service, requireNodeId(node));
    if (!isOwnerLike(await this.facts(record, bareJid(requester)))) throw errors.forbidden('not an owner');
    const input: NodeConfig = {};
    for (const [k, v] of Object.entries(changes)) if (k !== 'FORM_TYPE') input[k] = v;
    const r = normalizeConfig(input);
    // §8.2.5.2: not-acceptable; §8.1.2: unsupported-access-model.
    if (!r.ok) throw configProblemError(r.problem);
    const config = effectiveConfig({ ...effectiveConfig(record.config, this.defaults), ...r.config }, this.defaults);
    if (!(await this.store.updateConfig(service, node, config))) throw errors.nodeNotFound();
    this.invalidateNode(service, node);
    const t = typedConfig(config);
    await this.trimToMax(service, node, t);
    const cancelled = await this.recheckSubscriptions(service, undefined, node);
    let event: ConfigEvent | undefined;
    // §8.2.5.3
    if (t.deliverNotifications && t.notifyConfig) {
      event = { type: 'config', ...(await this.eventBase(service, node, config, t)), includeConfig: t.deliverPayloads };
    }
    return { config, event: this.emit(event), cancelled };
  }

  private async trimToMax(service: string, node: string, t: TypedConfig): Promise<void> {
    const max = effectiveMaxItems(t, this.limits.maxItemsPerNode);
    if ((await this.store.countItems(service, node)) <= max) return;
    const items = await this.store.getItems(service, node);
    for (const it of items.slice(max)) await this.store.retractItem(service, node, it.id);
  }

  // ------------------------------------------------------------------ retrieve (§6.5)
  async getItems(service: string, node: string, requester: string, opts: GetItemsOptions = {}): Promise<GetItemsResult> {
    service = bareJid(service);
    const record = await this.requireNode(service, requireNodeId(node));
    const { config, typed: t } = this.configOf(record);
    const decision = await this.decide(record, t, bareJid(requester));
    if (!decision.ok) throw decision.error;
    const view = (it: PubsubItemRecord): ItemView => ({
      id: it.id,
      ...(t.exposePublisher ? { publisher: it.publisher } : {}),
      payload: it.payload,
      publishedAt: it.publishedAt,
    });
    if (opts.ids && opts.ids.length > 0) {
      // §6.5.8; §6.5.9.12: unknown ids are simply absent.
      const items = await this.store.getItems(service, node, { ids: opts.ids });
      return { node, items: items.map(view) };
    }
    if (!opts.rsm) {
      const items = await this.store.getItems(service, node, opts.max !== undefined ? { max: opts.max } : {});
      return { node, items: items.map(view) };
    }
    // XEP-0059 over the newest-first list; max_items, when also given, bounds the full set.
    let all = await this.store.getItems(service, node);
    if (opts.max !== undefined) all = all.slice(0, Math.max(0, opts.max));
    const { page, firstIndex } = pageOf(all, opts.rsm);
    const rsm: RsmResult = { count: all.length };
    if (page.length > 0) {
      rsm.first = page[0].id;
      rsm.firstIndex = firstIndex;
      rsm.last = page[page.length - 1].id;
    }
    return { node, items: page.map(view), rsm };
  }

  // ------------------------------------------------------------------ discovery (XEP-0163 §7.2)
  /** Nodes the requester may access: XEP-0163 §7.2 disco#items lists only those. */
  async listNodes(service: string, requester: string): Promise<NodeListing[]> {
    service = bareJid(service);
    const requesterBare = bareJid(requester);
    const out: NodeListing[] = [];
    let rel: Promise<Relationship> | undefined;
    const relOnce = () => (rel ??= this.relationshipOf(service, requesterBare));
    for (const record of await this.store.listNodes(service)) {
      const t = this.configOf(record).typed;
      const facts = await this.facts(record, requesterBare);
      if (needsRelationship(t) && !isOwnerLike(facts)) facts.relationship = await relOnce();
      if (!canAccess(t, facts).ok) continue;
      out.push({ node: record.node, ...(t.title ? { title: t.title } : {}) });
    }
    return out;
  }

  /** The access decision for one requester, fresh (no cache): what retrieval and subscription use. */
  async canAccess(service: string, node: string, requester: string): Promise<AccessDecision> {
    service = bareJid(service);
    const record = await this.requireNode(service, requireNodeId(node));
    return this.decide(record, this.configOf(record).typed, bareJid(requester));
  }

  // ------------------------------------------------------------------ affiliations (§5.7, §8.9)
  async getAffiliations(service: string, node: string, requester: string): Promise<AffiliationEntry[]> {
    service = bareJid(service);
    const record = await this.requireNode(service, requireNodeId(node));
    // §8.9.1.3
    if (!isOwnerLike(await this.facts(record, bareJid(requester)))) throw errors.forbidden('not an owner');
    const affs = await this.store.getAffiliations(service, node);
    // The account owner is the node owner (XEP-0163 §3.2) whether or not it is stored.
    const out: AffiliationEntry[] = [{ jid: service, affiliation: 'owner' }];
    for (const [jid, affiliation] of [...affs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (jid !== service && affiliation !== 'none') out.push({ jid, affiliation });
    }
    return out;
  }

  /**
   * §8.9.2: applies a delta atomically (all entries are validated before any is stored). Subscriptions
   * that lose access (e.g. new outcasts) are cancelled and reported.
   */
  async setAffiliations(service: string, node: string, requester: string, changes: AffiliationEntry[]): Promise<{ cancelled: CancelledSubscription[] }> {
    service = bareJid(service);
    const record = await this.requireNode(service, requireNodeId(node));
    if (!isOwnerLike(await this.facts(record, bareJid(requester)))) throw errors.forbidden('not an owner');
    const normalized: AffiliationEntry[] = [];
    for (const c of changes) {
      const jid = tryBare(c.jid);
      // §8.9.2.4 multiple modifications: not-acceptable for an invalid entry.
      if (!jid || !AFFILIATIONS.includes(c.affiliation)) throw errors.configNotAcceptable(`invalid affiliation entry for ${c.jid}`);
      // §8.9.2.4: the (only) owner cannot be demoted; XEP-0163 §3.2: a PEP node has one owner, the account.
      if (jid === service) {
        if (c.affiliation !== 'owner') throw errors.configNotAcceptable('the account owner cannot lose ownership');
        continue;
      }
      if (c.affiliation === 'owner') throw errors.configNotAcceptable('a PEP node has a single owner, the account');
      normalized.push({ jid, affiliation: c.affiliation });
    }
    for (const c of normalized) await this.store.setAffiliation(service, node, c.jid, c.affiliation);
    this.invalidateNode(service, node);
    return { cancelled: await this.recheckSubscriptions(service, undefined, node) };
  }

  /** §5.7: the requester's own affiliations at this service, optionally at one node. */
  async getOwnAffiliations(service: string, requester: string, node?: string): Promise<{ node: string; affiliation: Affiliation }[]> {
    service = bareJid(service);
    const requesterBare = bareJid(requester);
    const records = node !== undefined ? [await this.requireNode(service, node)] : await this.store.listNodes(service);
    const out: { node: string; affiliation: Affiliation }[] = [];
    for (const r of records) {
      const f = await this.facts(r, requesterBare);
      const affiliation: Affiliation = f.isOwner ? 'owner' : f.affiliation;
      if (affiliation !== 'none') out.push({ node: r.node, affiliation });
    }
    return out;
  }

  // ------------------------------------------------------------------ subscriptions (§6.1, §6.2, §5.6, §8.8)
  async subscribe(service: string, node: string, requester: string, jid: string): Promise<SubscribeResult> {
    service = bareJid(service);
    const requesterBare = bareJid(requester);
    requireNodeId(node);
    // §6.1.3.1: the subscribed JID must share the requester's bare JID.
    const subJid = tryFull(jid);
    if (!subJid || bareJid(subJid) !== requesterBare) throw errors.invalidJid();
    const record = await this.requireNode(service, node);
    const { config, typed: t } = this.configOf(record);
    // §6.1.3.2-4, §6.1.3.8
    const decision = await this.decide(record, t, requesterBare);
    if (!decision.ok) throw decision.error;
    try {
      await this.store.setSubscription(service, node, subJid, 'subscribed');
    } catch (e) {
      if (e instanceof NodeNotFoundError) throw errors.nodeNotFound();
      throw e;
    }
    let lastItem: ItemsEvent | undefined;
    // §6.1.7: send the last published item on subscription unless the node says never.
    if (t.sendLastPublishedItem !== 'never' && t.deliverNotifications) {
      const [last] = await this.store.getItems(service, node, { max: 1 });
      if (last) lastItem = { type: 'items', ...(await this.eventBase(service, node, config, t)), items: [toEventItem(last, t)] };
    }
    return { node, jid: subJid, subscription: 'subscribed', lastItem };
  }

  /**
   * XEP-0163 §4.3.4 / XEP-0060 §6.1.7: the last item of every node of the service whose
   * send_last_published_item is on_sub_and_presence and that `recipient` may read, as events ready to send
   * to a newly available (or newly subscribed) resource. `wants` filters by node (entity caps +notify).
   */
  async lastPublishedItems(service: string, recipient: string, wants: (node: string) => boolean): Promise<ItemsEvent[]> {
    service = bareJid(service);
    const out: ItemsEvent[] = [];
    for (const record of await this.store.listNodes(service)) {
      if (!wants(record.node)) continue;
      const { config, typed: t } = this.configOf(record);
      if (t.sendLastPublishedItem !== 'on_sub_and_presence' || !t.deliverNotifications) continue;
      if (!(await this.mayReceive(service, record.node, recipient))) continue;
      const [last] = await this.store.getItems(service, record.node, { max: 1 });
      if (last) out.push({ type: 'items', ...(await this.eventBase(service, record.node, config, t)), items: [toEventItem(last, t)] });
    }
    return out;
  }

  async unsubscribe(service: string, node: string, requester: string, jid: string): Promise<void> {
    service = bareJid(service);
    const requesterBare = bareJid(requester);
    requireNodeId(node);
    const record = await this.requireNode(service, node);
    const subJid = tryFull(jid);
    // §6.2.3.3: only the subscriber's own bare JID (or the owner) may unsubscribe it.
    if (!subJid || (bareJid(subJid) !== requesterBare && !isOwnerLike(await this.facts(record, requesterBare)))) {
      throw errors.forbidden('cannot unsubscribe another entity');
    }
    const subs = await this.store.getSubscriptions(service, node);
    // §6.2.3.2
    if (!subs.has(subJid)) throw errors.notSubscribed();
    await this.store.setSubscription(service, node, subJid, 'none');
  }

  /** §5.6: the requester's subscriptions (any JID with its bare JID), optionally at one node. */
  async getSubscriptions(service: string, requester: string, node?: string): Promise<SubscriptionEntry[]> {
    service = bareJid(service);
    const requesterBare = bareJid(requester);
    const records = node !== undefined ? [await this.requireNode(service, node)] : await this.store.listNodes(service);
    const out: SubscriptionEntry[] = [];
    for (const r of records) {
      for (const [jid, subscription] of await this.store.getSubscriptions(service, r.node)) {
        if (safeBare(jid) === requesterBare && subscription !== 'none') out.push({ node: r.node, jid, subscription });
      }
    }
    return out;
  }

  /** §8.8.1: owner view; "subscribed"/"unconfigured" only (pending SHOULD NOT, none MUST NOT appear). */
  async getNodeSubscriptions(service: string, node: string, requester: string): Promise<{ jid: string; subscription: SubscriptionState }[]> {
    service = bareJid(service);
    const record = await this.requireNode(service, requireNodeId(node));
    if (!isOwnerLike(await this.facts(record, bareJid(requester)))) throw errors.forbidden('not an owner');
    const out: { jid: string; subscription: SubscriptionState }[] = [];
    for (const [jid, subscription] of await this.store.getSubscriptions(service, node)) {
      if (subscription === 'subscribed' || subscription === 'unconfigured') out.push({ jid, subscription });
    }
    return out.sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
  }

  /** §8.8.2: owner delta; only "subscribed" and "none" (delete, §8.8.3) are accepted. */
  async setNodeSubscriptions(service: string, node: string, requester: string, changes: { jid: string; subscription: SubscriptionState }[]): Promise<void> {
    service = bareJid(service);
    const record = await this.requireNode(service, requireNodeId(node));
    if (!isOwnerLike(await this.facts(record, bareJid(requester)))) throw errors.forbidden('not an owner');
    const valid: { jid: string; subscription: SubscriptionState }[] = [];
    for (const c of changes) {
      const jid = tryFull(c.jid);
      // §8.8.2.4: not-acceptable for an invalid entry.
      if (!jid || (c.subscription !== 'subscribed' && c.subscription !== 'none')) {
        throw errors.configNotAcceptable(`invalid subscription entry for ${c.jid}`);
      }
      valid.push({ jid, subscription: c.subscription });
    }
    for (const c of valid) await this.store.setSubscription(service, node, c.jid, c.subscription);
  }

  /** Explicit subscribers in state "subscribed" (no access check: combine with mayReceive). */
  async subscribers(service: string, node: string): Promise<string[]> {
    service = bareJid(service);
    const out: string[] = [];
    for (const [jid, state] of await this.store.getSubscriptions(service, node)) if (state === 'subscribed') out.push(jid);
    return out.sort();
  }

  /**
   * Cancels explicit subscriptions that no longer pass the access model (XEP-0163 §9.1), for one requester
   * (bare JID) or everyone, at one node or all nodes of the service. Call after roster changes.
   */
  async recheckSubscriptions(service: string, requesterBare?: string, node?: string): Promise<CancelledSubscription[]> {
    service = bareJid(service);
    const onlyBare = requesterBare !== undefined ? bareJid(requesterBare) : undefined;
    const records = node !== undefined ? [await this.store.getNode(service, node)] : await this.store.listNodes(service);
    const cancelled: CancelledSubscription[] = [];
    const rels = new Map<string, Promise<Relationship>>();
    for (const record of records) {
      if (!record) continue;
      const t = this.configOf(record).typed;
      const affs = await this.store.getAffiliations(service, record.node);
      for (const [jid, state] of await this.store.getSubscriptions(service, record.node)) {
        if (state === 'none') continue;
        const b = safeBare(jid);
        if (onlyBare !== undefined && b !== onlyBare) continue;
        const facts: AccessFacts = { isOwner: b === service, affiliation: affs.get(b) ?? 'none' };
        if (needsRelationship(t) && !isOwnerLike(facts)) {
          let p = rels.get(b);
          if (!p) rels.set(b, (p = this.relationshipOf(service, b)));
          facts.relationship = await p;
        }
        if (!canAccess(t, facts).ok) {
          await this.store.setSubscription(service, record.node, jid, 'none');
          cancelled.push({ node: record.node, jid });
        }
      }
    }
    return cancelled;
  }

  /** Removes every node of a service (account deletion) and forgets its cached access decisions. */
  async deleteService(service: string): Promise<void> {
    service = bareJid(service);
    await this.store.deleteService(service);
    this.invalidateAccess(service);
  }

  // ------------------------------------------------------------------ notification filtering
  /**
   * May `recipient` (any JID; its bare JID decides) receive notifications from this node now? Cached per
   * service+node+recipient; call `invalidateAccess` when the owner's roster changes.
   */
  async mayReceive(service: string, node: string, recipient: string): Promise<boolean> {
    service = bareJid(service);
    const recipientBare = safeBare(recipient);
    const svc = this.serviceCache(service);
    const generation = svc.generation;
    const hit = svc.recipients.get(recipientBare)?.nodes.get(node);
    if (hit !== undefined) return hit;
    const record = await this.store.getNode(service, node);
    if (!record) return false;
    const t = this.configOf(record).typed;
    const facts = await this.facts(record, recipientBare);
    if (needsRelationship(t) && !isOwnerLike(facts)) facts.relationship = await this.cachedRelationship(service, recipientBare);
    const ok = canAccess(t, facts).ok;
    // Store only if no invalidation happened meanwhile (the answer might be stale).
    if (this.cache.get(service) === svc && svc.generation === generation) {
      if (this.cachedDecisions >= this.cacheCap) this.clearCache();
      else {
        this.entry(svc, recipientBare).nodes.set(node, ok);
        this.cachedDecisions++;
      }
    }
    return ok;
  }

  /**
   * Decides a recipient for a given event from the access snapshot it carries: works after the node is
   * gone (delete events) and answers exactly as of the event.
   */
  async mayReceiveEvent(event: PubsubEvent, recipient: string): Promise<boolean> {
    const recipientBare = safeBare(recipient);
    const facts: AccessFacts = { isOwner: recipientBare === event.service, affiliation: event.access.affiliations[recipientBare] ?? 'none' };
    const model = { accessModel: event.access.accessModel as TypedConfig['accessModel'], rosterGroupsAllowed: event.access.rosterGroupsAllowed };
    if (needsRelationship(model) && !isOwnerLike(facts)) facts.relationship = await this.cachedRelationship(event.service, recipientBare);
    return canAccess(model, facts).ok;
  }

  /**
   * Drops cached access decisions for a service (or one requester there). Call on roster changes of the
   * owner (subscription state, groups) — XEP-0163 §9.1 — and then `recheckSubscriptions` if needed.
   */
  invalidateAccess(service: string, requester?: string): void {
    const s = safeBare(service);
    const svc = this.cache.get(s);
    if (!svc) return;
    svc.generation++;
    if (requester === undefined) {
      for (const e of svc.recipients.values()) this.cachedDecisions -= e.nodes.size;
      this.cache.delete(s);
      return;
    }
    const r = safeBare(requester);
    const e = svc.recipients.get(r);
    if (e) {
      this.cachedDecisions -= e.nodes.size;
      svc.recipients.delete(r);
    }
  }

  // ------------------------------------------------------------------ internals
  private serviceCache(service: string): ServiceCache {
    let svc = this.cache.get(service);
    if (!svc) this.cache.set(service, (svc = { generation: 0, recipients: new Map() }));
    return svc;
  }

  private entry(svc: ServiceCache, recipient: string): CacheEntry {
    let e = svc.recipients.get(recipient);
    if (!e) svc.recipients.set(recipient, (e = { nodes: new Map() }));
    return e;
  }

  private clearCache(): void {
    for (const svc of this.cache.values()) svc.generation++;
    this.cache.clear();
    this.cachedDecisions = 0;
  }

  private invalidateNode(service: string, node: string): void {
    const svc = this.cache.get(service);
    if (!svc) return;
    svc.generation++;
    for (const e of svc.recipients.values()) if (e.nodes.delete(node)) this.cachedDecisions--;
  }

  private async cachedRelationship(service: string, recipientBare: string): Promise<Relationship> {
    const svc = this.serviceCache(service);
    const generation = svc.generation;
    const cached = svc.recipients.get(recipientBare)?.relationship;
    if (cached) return cached;
    const rel = await this.relationshipOf(service, recipientBare);
    if (this.cache.get(service) === svc && svc.generation === generation) this.entry(svc, recipientBare).relationship = rel;
    return rel;
  }

  private async requireNode(service: string, node: string): Promise<PubsubNodeRecord> {
    const record = await this.store.getNode(service, node);
    if (!record) throw errors.nodeNotFound();
    return record;
  }

  private async facts(record: PubsubNodeRecord, requesterBare: string): Promise<AccessFacts> {
    const isOwner = requesterBare === record.service;
    const affiliation = isOwner ? 'owner' : ((await this.store.getAffiliations(record.service, record.node)).get(requesterBare) ?? 'none');
    return { isOwner, affiliation };
  }

  /** Fresh decision for IQ requests: the relationship is asked each time (no cache). */
  private async decide(record: PubsubNodeRecord, t: TypedConfig, requesterBare: string): Promise<AccessDecision> {
    const facts = await this.facts(record, requesterBare);
    if (needsRelationship(t) && !isOwnerLike(facts)) facts.relationship = await this.relationshipOf(record.service, requesterBare);
    return canAccess(t, facts);
  }

  private async checkNodeQuota(service: string): Promise<void> {
    if ((await this.store.listNodes(service)).length >= this.limits.maxNodesPerService) throw errors.tooManyNodes();
  }

  private async eventBase(service: string, node: string, config: NodeConfig, t: TypedConfig) {
    const [subs, affs] = await Promise.all([this.store.getSubscriptions(service, node), this.store.getAffiliations(service, node)]);
    const affiliations: Record<string, Affiliation> = {};
    for (const [jid, a] of affs) if (a !== 'none') affiliations[jid] = a;
    const access: AccessSnapshot = { accessModel: t.accessModel, rosterGroupsAllowed: [...t.rosterGroupsAllowed], affiliations };
    const subscribers = [...subs].filter(([, s]) => s === 'subscribed').map(([j]) => j).sort();
    return { service, node, config, messageType: t.notificationType, subscribers, access };
  }
}

// ------------------------------------------------------------------ helpers
function toEventItem(it: PubsubItemRecord, t: TypedConfig): EventItem {
  const out: EventItem = { id: it.id };
  if (t.exposePublisher) out.publisher = it.publisher;
  // §4.3 table: notification-only nodes never carry the payload in notifications.
  if (t.deliverPayloads && it.payload !== '') out.payload = it.payload;
  return out;
}

/** XEP-0060 §7.1.3.6: the request must match the node's event type. */
function checkItemAgainstConfig(t: TypedConfig, item: PublishItemInput | undefined): void {
  if (!item) {
    if (t.persistItems) throw errors.itemRequired();
    if (t.deliverPayloads) throw errors.payloadRequired();
    return;
  }
  if (!t.persistItems && !t.deliverPayloads) throw errors.itemForbidden();
  if (t.deliverPayloads && (item.payload === undefined || item.payload === '')) throw errors.payloadRequired();
}

function configProblemError(p: ConfigProblem): PubsubError {
  if (p.kind === 'unsupported-access-model') return errors.unsupportedAccessModel(p.value);
  return errors.configNotAcceptable(describeProblem(p));
}

function describeProblem(p: ConfigProblem): string {
  return p.kind === 'unknown-field' ? `unknown field pubsub#${p.field}` : `invalid value for pubsub#${p.field}`;
}

function requireNodeId(node: string): string {
  // §7.2.3.3 / §8.2.3.3: a NodeID is required.
  if (typeof node !== 'string' || node === '') throw errors.nodeIdRequired();
  return node;
}

function bareJid(j: string): string {
  try {
    return parseJid(j).bare;
  } catch {
    throw new PubsubError('bad-request', { pubsubCondition: 'invalid-jid', text: `invalid JID ${j}` });
  }
}

function tryBare(j: string): string | undefined {
  try {
    return parseJid(j).bare;
  } catch {
    return undefined;
  }
}

function tryFull(j: string): string | undefined {
  try {
    return parseJid(j).full;
  } catch {
    return undefined;
  }
}

/** Bare JID for stored values that should be valid; falls back to the raw string. */
function safeBare(j: string): string {
  return tryBare(j) ?? j;
}

/** XEP-0059 paging over a newest-first list. */
function pageOf<T extends { id: string }>(all: T[], rsm: RsmRequest): { page: T[]; firstIndex: number } {
  const max = rsm.max === undefined ? all.length : Math.max(0, rsm.max);
  if (rsm.index !== undefined) {
    // §2.6: index of the first item; past the end yields an empty page.
    const start = Math.max(0, rsm.index);
    return { page: all.slice(start, start + max), firstIndex: start };
  }
  if (rsm.after !== undefined) {
    const i = all.findIndex((x) => x.id === rsm.after);
    // XEP-0059 §2.5: the anchor item is gone and its position unknown.
    if (i < 0) throw new PubsubError('item-not-found', { text: 'RSM <after/> item not found' });
    return { page: all.slice(i + 1, i + 1 + max), firstIndex: i + 1 };
  }
  if (rsm.before !== undefined) {
    let end = all.length;
    if (rsm.before !== '') {
      end = all.findIndex((x) => x.id === rsm.before);
      if (end < 0) throw new PubsubError('item-not-found', { text: 'RSM <before/> item not found' });
    }
    const start = Math.max(0, end - max);
    return { page: all.slice(start, end), firstIndex: start };
  }
  return { page: all.slice(0, max), firstIndex: 0 };
}

export function createPubsubEngine(deps: PubsubEngineDeps): PubsubEngine {
  return new PubsubEngine(deps);
}
