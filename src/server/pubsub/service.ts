// One pubsub service (PEP: an account, XEP-0163 §3.2) and every XEP-0060 operation on its nodes. Each
// method takes the node first and the acting entity (`actor`, a parsed JID) second, then what the operation
// needs; an optional node filter goes in an options object. Every request naming a node finds it through
// `lookup` (absent and hidden-from-a-stranger look alike there, access.ts `hidden`), every operation asks
// `denied` (access.ts) and throws PubsubError with the XEP-0060 condition; state changes return their events
// as plain data.
import { tryParseJid, type Jid } from '../../jid/index.ts';
import { pageOf, type RsmQuery, type RsmResponse } from '../../protocol/xep0059.ts';
import { NodeNotFoundError } from '../../storage/errors.ts';
import type { Affiliation, LogAppend, NodeConfig, PubsubItemRecord, PubsubNodeRecord, SubscriptionState } from '../../storage/types.ts';
import { denied, hidden, mayHide, needsRelationship, refusal, type Action, type Relationship, type Standing } from './access.ts';
import { effectiveConfig, effectiveMaxItems, normalizeConfig, typedConfig, type TypedConfig } from './config.ts';
import type { EngineShared, KeyWrite } from './engine.ts';
import { configProblemError, errors, type PubsubError } from './errors.ts';
import type { ConfigEvent, DeleteEvent, EventItem, ItemsEvent, PurgeEvent } from './events.ts';
import { checkPreconditions } from './preconditions.ts';
import { cachedPrepare } from './options-cache.ts';

export interface PublishItemInput {
  /** ItemID; generated when absent (XEP-0060 §7.1.1). */
  id?: string;
  /** Serialised payload element; absent or '' for an item without payload. */
  payload?: string;
}

export interface PublishOptions {
  /** XEP-0060 §7.1.5 publish-options: preconditions, and the configuration of an auto-created node. */
  options?: NodeConfig;
  /**
   * Called once every write of this publish has been issued to the store (which settles writes in issue
   * order), before waiting for them: the session may start its next stanza then (core/pipeline.ts). Not
   * called when the publish fails before that point.
   */
  proceed?: () => void;
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

export interface ItemsQuery {
  ids?: string[];
  /** XEP-0060 §6.5.7 max_items: the N most recent. */
  max?: number;
  rsm?: RsmQuery;
}

export interface ItemsResult {
  node: string;
  /** Newest first. */
  items: ItemView[];
  /** Present when the request used RSM. */
  rsm?: RsmResponse & { count: number };
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

/** Restricts an entity-wide listing (§5.6, §5.7) to one node. */
export interface NodeFilter {
  node?: string;
}

const AFFILIATIONS: readonly Affiliation[] = ['owner', 'publisher', 'publish-only', 'member', 'none', 'outcast'];

export class PubsubService {
  /** @param jid the service's bare JID */
  constructor(private readonly shared: EngineShared, readonly jid: string) {}

  // ------------------------------------------------------------------ publish (§7.1)
  async publish(node: string, actor: Jid, item?: PublishItemInput, opts: PublishOptions = {}): Promise<PublishResult> {
    const { store, limits } = this.shared;
    const service = this.jid;
    requireNodeId(node);
    const prepared = opts.options ? cachedPrepare(opts.options) : undefined;
    // Checks that need no node: §7.1.3.4 payload size.
    if (item?.payload !== undefined && Buffer.byteLength(item.payload, 'utf8') > limits.maxPayloadBytes) {
      throw errors.payloadTooBig();
    }

    let record = await store.getNode(service, node);
    let created = false;
    let config: NodeConfig;
    let typed: TypedConfig;
    // XEP-0163 §3.2: only the owner auto-creates; anyone else is told the node does not exist (§7.1.3.3),
    // exactly as when it exists and is hidden from them.
    if (!record && actor.bare !== service) await this.found(undefined, actor);
    if (!record) {
      // §7.1.5 rule 3: auto-create with defaults except what the preconditions specify.
      if (prepared && !prepared.ok) throw prepared.error;
      config = effectiveConfig(prepared?.ok ? prepared.options : {}, this.shared.defaults);
      typed = typedConfig(config);
      checkItemAgainstConfig(typed, item);
      await this.checkNodeQuota();
      created = await store.createNode({ service, node, config, createdAt: this.shared.clock() });
      if (created) {
        this.shared.cache.invalidateNode(service, node);
      } else {
        // Lost a creation race: publish to the node that now exists, preconditions and all.
        record = await store.getNode(service, node);
        if (!record) throw errors.nodeNotFound();
      }
    }
    if (record) {
      ({ config, typed } = this.shared.configOf(record));
      // §7.1.3.1
      refuse(denied('publish', (await this.found(record, actor)).standing));
      // §7.1.5 rule 1: each option must match the existing node's configuration.
      if (prepared) refuse(checkPreconditions(prepared, config));
      checkItemAgainstConfig(typed, item);
    }
    const t = typed!;

    let id: string | undefined;
    let evicted: string[] = [];
    let stored: PubsubItemRecord | undefined;
    let written: Promise<unknown> | undefined;
    if (item) {
      id = item.id !== undefined && item.id !== '' ? item.id : this.shared.newId();
      stored = { service, node, id, publisher: actor.full, payload: item.payload ?? '', publishedAt: this.shared.clock() };
      const log = this.keyLog('publish', node, id, stored.payload);
      // §7.1.2: republishing an id overwrites it; max_items trimming drops the oldest (FIFO, §7.1.2.5).
      written = store.publishItem(stored, effectiveMaxItems(t, limits.maxItemsPerNode), log).then((r) => {
        evicted = r.evicted;
      });
    }
    // The event's subscriptions and affiliations are read right behind the item write, so a group-committing
    // store answers both with the same commit instead of one commit after the other.
    const base = t.deliverNotifications ? this.eventBase(node, config!, t) : undefined;
    // Handled below (awaited, or dropped when the write failed); this keeps a failure meanwhile from
    // counting as an unhandled rejection.
    base?.catch(() => undefined);
    opts.proceed?.();
    try {
      await written;
    } catch (e) {
      if (e instanceof NodeNotFoundError) throw errors.nodeNotFound('node was deleted');
      throw e;
    }
    let event: ItemsEvent | undefined;
    if (base) event = { type: 'items', ...(await base), items: stored ? [toEventItem(stored, t)] : [] };
    return { node, id, created, evicted, event };
  }

  // ------------------------------------------------------------------ retract (§7.2)
  async retract(node: string, actor: Jid, id: string, notify?: boolean): Promise<{ event: ItemsEvent | undefined }> {
    const { store } = this.shared;
    requireNodeId(node);
    // §7.2.3.4
    if (!id) throw errors.itemRequired();
    const { record, standing } = await this.lookup(node, actor);
    // §7.2.3.1
    refuse(denied('retract', standing));
    const { config, typed: t } = this.shared.configOf(record);
    // §7.2.3.5: transient nodes keep no items to delete.
    if (!t.persistItems) throw errors.unsupported('persistent-items');
    const [existing] = await store.getItems(this.jid, node, { ids: [id] });
    // §7.2.3.2
    if (!existing) throw errors.itemNotFound();
    if (safeBare(existing.publisher) !== actor.bare) refuse(denied('retract-any', standing));
    if (!(await store.retractItem(this.jid, node, id, this.keyLog('retract', node, id)))) throw errors.itemNotFound();
    let event: ItemsEvent | undefined;
    // §7.2.2.1: notify='true' MUST notify; otherwise the node's pubsub#notify_retract decides.
    if (t.deliverNotifications && (notify === true || t.notifyRetract)) {
      event = { type: 'items', ...(await this.eventBase(node, config, t)), items: [], retracts: [id] };
    }
    return { event };
  }

  // ------------------------------------------------------------------ purge (§8.5)
  async purge(node: string, actor: Jid): Promise<{ event: PurgeEvent | undefined }> {
    const record = await this.authorized(node, actor, 'purge');
    const { config, typed: t } = this.shared.configOf(record);
    // §8.5.3.3
    if (!t.persistItems) throw errors.unsupported('persistent-items');
    await this.shared.store.purgeNode(this.jid, node, this.keyLog('purge', node, ''));
    let event: PurgeEvent | undefined;
    // §8.5.2: one <purge/> notification when the node notifies on item deletion.
    if (t.deliverNotifications && t.notifyRetract) event = { type: 'purge', ...(await this.eventBase(node, config, t)) };
    return { event };
  }

  // ------------------------------------------------------------------ create (§8.1)
  /** `node` undefined requests an instant node (§8.1.1). */
  async create(node: string | undefined, actor: Jid, config?: NodeConfig): Promise<{ node: string; config: NodeConfig }> {
    const { store } = this.shared;
    // §8.1.1 forbidden
    refuse(denied('create', this.ownStanding(actor)));
    let overrides: NodeConfig = {};
    if (config) {
      const r = normalizeConfig(withoutFormType(config));
      if (!r.ok) throw configProblemError(r.problem);
      overrides = r.config;
    }
    const nodeId = node === undefined || node === '' ? this.shared.newId() : node;
    const full = effectiveConfig(overrides, this.shared.defaults);
    if (await store.getNode(this.jid, nodeId)) throw errors.nodeExists();
    await this.checkNodeQuota();
    // §8.1.1: conflict when the NodeID exists (also covers a creation race).
    if (!(await store.createNode({ service: this.jid, node: nodeId, config: full, createdAt: this.shared.clock() }))) throw errors.nodeExists();
    this.shared.cache.invalidateNode(this.jid, nodeId);
    return { node: nodeId, config: full };
  }

  // ------------------------------------------------------------------ delete (§8.4)
  async delete(node: string, actor: Jid, redirect?: string): Promise<{ event: DeleteEvent | undefined }> {
    const record = await this.authorized(node, actor, 'delete');
    const { config, typed: t } = this.shared.configOf(record);
    // Snapshot before deletion: subscriptions and affiliations go with the node (§8.4.2 notifies them).
    const base = await this.eventBase(node, config, t);
    if (!(await this.shared.store.deleteNode(this.jid, node, this.keyLog('delete', node, '')))) throw errors.nodeNotFound();
    this.shared.cache.invalidateNode(this.jid, node);
    let event: DeleteEvent | undefined;
    if (t.deliverNotifications && t.notifyDelete) event = { type: 'delete', ...base, ...(redirect ? { redirect } : {}) };
    return { event };
  }

  // ------------------------------------------------------------------ configure (§8.2)
  async configuration(node: string, actor: Jid): Promise<NodeConfig> {
    // §8.2.3.2
    const record = await this.authorized(node, actor, 'configure');
    return effectiveConfig(record.config, this.shared.defaults);
  }

  /**
   * Applies a (possibly partial: XEP-0004 incomplete submission) configuration. Subscriptions that lose
   * access are cancelled (XEP-0163 §9.1) and reported.
   */
  async configure(
    node: string, actor: Jid, changes: NodeConfig,
  ): Promise<{ config: NodeConfig; event: ConfigEvent | undefined; cancelled: CancelledSubscription[] }> {
    const { defaults, store } = this.shared;
    const record = await this.authorized(node, actor, 'configure');
    const r = normalizeConfig(withoutFormType(changes));
    // §8.2.5.2: not-acceptable; §8.1.2: unsupported-access-model.
    if (!r.ok) throw configProblemError(r.problem);
    const config = effectiveConfig({ ...effectiveConfig(record.config, defaults), ...r.config }, defaults);
    if (!(await store.updateConfig(this.jid, node, config))) throw errors.nodeNotFound();
    this.shared.cache.invalidateNode(this.jid, node);
    const t = typedConfig(config);
    await this.trimToMax(node, t);
    const cancelled = await this.recheckSubscriptions(undefined, node);
    let event: ConfigEvent | undefined;
    // §8.2.5.3
    if (t.deliverNotifications && t.notifyConfig) {
      event = { type: 'config', ...(await this.eventBase(node, config, t)), includeConfig: t.deliverPayloads };
    }
    return { config, event, cancelled };
  }

  // ------------------------------------------------------------------ retrieve (§6.5)
  async items(node: string, actor: Jid, query: ItemsQuery = {}): Promise<ItemsResult> {
    const { store } = this.shared;
    const { record, standing } = await this.lookup(requireNodeId(node), actor);
    const t = this.shared.configOf(record).typed;
    refuse(denied('retrieve', standing, t));
    const view = (it: PubsubItemRecord): ItemView => ({
      id: it.id,
      ...(t.exposePublisher ? { publisher: it.publisher } : {}),
      payload: it.payload,
      publishedAt: it.publishedAt,
    });
    if (query.ids && query.ids.length > 0) {
      // §6.5.8; §6.5.9.12: unknown ids are simply absent.
      const items = await store.getItems(this.jid, node, { ids: query.ids });
      return { node, items: items.map(view) };
    }
    if (!query.rsm) {
      const items = await store.getItems(this.jid, node, query.max !== undefined ? { max: query.max } : {});
      return { node, items: items.map(view) };
    }
    // XEP-0059 over the newest-first list; max_items, when also given, bounds the full set.
    let all = await store.getItems(this.jid, node);
    if (query.max !== undefined) all = all.slice(0, Math.max(0, query.max));
    const { page, response } = pageOf(all, query.rsm);
    return { node, items: page.map(view), rsm: response };
  }

  // ------------------------------------------------------------------ discovery (XEP-0163 §7.2)
  /** Nodes the actor may access: XEP-0163 §7.2 disco#items lists only those. */
  async nodes(actor: Jid): Promise<NodeListing[]> {
    const out: NodeListing[] = [];
    let rel: Promise<Relationship> | undefined;
    const relOnce = () => (rel ??= this.shared.relationship(this.jid, actor.bare));
    for (const record of await this.shared.store.listNodes(this.jid)) {
      const t = this.shared.configOf(record).typed;
      if (await this.decide(record, t, actor.bare, 'retrieve', relOnce)) continue;
      out.push({ node: record.node, ...(t.title ? { title: t.title } : {}) });
    }
    return out;
  }

  /** May the actor do `action` at this node now? Fresh (no cache); false when the node does not exist. */
  async may(node: string, actor: Jid, action: Action): Promise<boolean> {
    const record = node === '' ? undefined : await this.shared.store.getNode(this.jid, node);
    if (!record) return false;
    return !(await this.fresh(record, this.shared.configOf(record).typed, actor.bare, action));
  }

  // ------------------------------------------------------------------ affiliations (§5.7, §8.9)
  /** §8.9.1: the owner's view of a node's affiliations. */
  async nodeAffiliations(node: string, actor: Jid): Promise<AffiliationEntry[]> {
    // §8.9.1.3
    await this.authorized(node, actor, 'manage-affiliations');
    const affs = await this.shared.store.getAffiliations(this.jid, node);
    // The account owner is the node owner (XEP-0163 §3.2) whether or not it is stored.
    const out: AffiliationEntry[] = [{ jid: this.jid, affiliation: 'owner' }];
    for (const [jid, affiliation] of [...affs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (jid !== this.jid && affiliation !== 'none') out.push({ jid, affiliation });
    }
    return out;
  }

  /**
   * §8.9.2: applies a delta atomically (all entries are validated before any is stored). Subscriptions
   * that lose access (e.g. new outcasts) are cancelled and reported.
   */
  async setNodeAffiliations(node: string, actor: Jid, changes: AffiliationEntry[]): Promise<{ cancelled: CancelledSubscription[] }> {
    await this.authorized(node, actor, 'manage-affiliations');
    const normalized: AffiliationEntry[] = [];
    for (const c of changes) {
      const jid = tryBare(c.jid);
      // §8.9.2.4 multiple modifications: not-acceptable for an invalid entry.
      if (!jid || !AFFILIATIONS.includes(c.affiliation)) throw errors.configNotAcceptable(`invalid affiliation entry for ${c.jid}`);
      // §8.9.2.4: the (only) owner cannot be demoted; XEP-0163 §3.2: a PEP node has one owner, the account.
      if (jid === this.jid) {
        if (c.affiliation !== 'owner') throw errors.configNotAcceptable('the account owner cannot lose ownership');
        continue;
      }
      if (c.affiliation === 'owner') throw errors.configNotAcceptable('a PEP node has a single owner, the account');
      normalized.push({ jid, affiliation: c.affiliation });
    }
    for (const c of normalized) await this.shared.store.setAffiliation(this.jid, node, c.jid, c.affiliation);
    this.shared.cache.invalidateNode(this.jid, node);
    return { cancelled: await this.recheckSubscriptions(undefined, node) };
  }

  /** §5.7: the actor's own affiliations at this service. */
  async affiliations(actor: Jid, filter: NodeFilter = {}): Promise<{ node: string; affiliation: Affiliation }[]> {
    const out: { node: string; affiliation: Affiliation }[] = [];
    for (const r of await this.records(filter, actor)) {
      const { affiliation } = await this.standing(r, actor.bare);
      if (affiliation !== 'none') out.push({ node: r.node, affiliation });
    }
    return out;
  }

  // ------------------------------------------------------------------ subscriptions (§6.1, §6.2, §5.6, §8.8)
  /** §6.1: subscribes `jid` (sharing the actor's bare JID). */
  async subscribe(node: string, actor: Jid, jid: string): Promise<SubscribeResult> {
    const { store } = this.shared;
    requireNodeId(node);
    // §6.1.3.1: the subscribed JID must share the requester's bare JID.
    const subJid = tryFull(jid);
    if (!subJid || safeBare(subJid) !== actor.bare) throw errors.invalidJid();
    const { record, standing } = await this.lookup(node, actor);
    const { config, typed: t } = this.shared.configOf(record);
    // §6.1.3.2-4, §6.1.3.8
    refuse(denied('subscribe', standing, t));
    try {
      await store.setSubscription(this.jid, node, subJid, 'subscribed');
    } catch (e) {
      if (e instanceof NodeNotFoundError) throw errors.nodeNotFound();
      throw e;
    }
    let lastItem: ItemsEvent | undefined;
    // §6.1.7: send the last published item on subscription unless the node says never.
    if (t.sendLastPublishedItem !== 'never' && t.deliverNotifications) {
      const [last] = await store.getItems(this.jid, node, { max: 1 });
      if (last) lastItem = { type: 'items', ...(await this.eventBase(node, config, t)), items: [toEventItem(last, t)] };
    }
    return { node, jid: subJid, subscription: 'subscribed', lastItem };
  }

  /** §6.2: cancels the subscription of `jid`: the actor's own, or anyone's for the owner. */
  async unsubscribe(node: string, actor: Jid, jid: string): Promise<void> {
    const { store } = this.shared;
    const { standing } = await this.lookup(requireNodeId(node), actor);
    const subJid = tryFull(jid);
    // §6.2.3.3: an unparsable JID is nobody's own, not even the owner's to cancel.
    if (!subJid) throw refusal('unsubscribe-other');
    if (safeBare(subJid) !== actor.bare) refuse(denied('unsubscribe-other', standing));
    const subs = await store.getSubscriptions(this.jid, node);
    // §6.2.3.2
    if (!subs.has(subJid)) throw errors.notSubscribed();
    await store.setSubscription(this.jid, node, subJid, 'none');
  }

  /** §5.6: the actor's subscriptions (any JID with its bare JID). */
  async subscriptions(actor: Jid, filter: NodeFilter = {}): Promise<SubscriptionEntry[]> {
    const out: SubscriptionEntry[] = [];
    for (const r of await this.records(filter, actor)) {
      for (const [jid, subscription] of await this.shared.store.getSubscriptions(this.jid, r.node)) {
        if (safeBare(jid) === actor.bare && subscription !== 'none') out.push({ node: r.node, jid, subscription });
      }
    }
    return out;
  }

  /** §8.8.1: owner view; "subscribed"/"unconfigured" only (pending SHOULD NOT, none MUST NOT appear). */
  async nodeSubscriptions(node: string, actor: Jid): Promise<{ jid: string; subscription: SubscriptionState }[]> {
    await this.authorized(node, actor, 'manage-subscriptions');
    const out: { jid: string; subscription: SubscriptionState }[] = [];
    for (const [jid, subscription] of await this.shared.store.getSubscriptions(this.jid, node)) {
      if (subscription === 'subscribed' || subscription === 'unconfigured') out.push({ jid, subscription });
    }
    return out.sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
  }

  /** §8.8.2: owner delta; only "subscribed" and "none" (delete, §8.8.3) are accepted. */
  async setNodeSubscriptions(node: string, actor: Jid, changes: { jid: string; subscription: SubscriptionState }[]): Promise<void> {
    await this.authorized(node, actor, 'manage-subscriptions');
    const valid: { jid: string; subscription: SubscriptionState }[] = [];
    for (const c of changes) {
      const jid = tryFull(c.jid);
      // §8.8.2.4: not-acceptable for an invalid entry.
      if (!jid || (c.subscription !== 'subscribed' && c.subscription !== 'none')) {
        throw errors.configNotAcceptable(`invalid subscription entry for ${c.jid}`);
      }
      valid.push({ jid, subscription: c.subscription });
    }
    for (const c of valid) await this.shared.store.setSubscription(this.jid, node, c.jid, c.subscription);
  }

  /**
   * XEP-0163 §4.3.4 / XEP-0060 §6.1.7: the last item of every node whose send_last_published_item is
   * on_sub_and_presence and that `actor` may read, as events ready to send to a newly available (or newly
   * subscribed) resource. `wants` filters by node (entity caps +notify).
   */
  async lastPublishedItems(actor: Jid, wants: (node: string) => boolean): Promise<ItemsEvent[]> {
    const out: ItemsEvent[] = [];
    for (const record of await this.shared.store.listNodes(this.jid)) {
      if (!wants(record.node)) continue;
      const { config, typed: t } = this.shared.configOf(record);
      if (t.sendLastPublishedItem !== 'on_sub_and_presence' || !t.deliverNotifications) continue;
      if (!(await this.mayReceive(record.node, actor))) continue;
      const [last] = await this.shared.store.getItems(this.jid, record.node, { max: 1 });
      if (last) out.push({ type: 'items', ...(await this.eventBase(record.node, config, t)), items: [toEventItem(last, t)] });
    }
    return out;
  }

  // ------------------------------------------------------------------ notification filtering
  /**
   * May the actor (its bare JID decides) receive notifications from this node now? Cached; the owner's
   * roster changes reach the cache through `relationshipChanged`.
   */
  async mayReceive(node: string, actor: Jid): Promise<boolean> {
    const bare = actor.bare;
    return this.shared.cache.decision(this.jid, bare, node, async () => {
      const record = await this.shared.store.getNode(this.jid, node);
      if (!record) return false;
      const t = this.shared.configOf(record).typed;
      return !(await this.decide(record, t, bare, 'retrieve', () => this.shared.cachedRelationship(this.jid, bare)));
    });
  }

  /**
   * The owner's roster entry about `contact` (bare JID; everyone when absent) changed (XEP-0163 §9.1): its
   * cached decisions go, and its subscriptions that no longer pass the access model are cancelled.
   */
  async relationshipChanged(contact?: string): Promise<CancelledSubscription[]> {
    const bare = contact === undefined ? undefined : safeBare(contact);
    this.shared.cache.invalidate(this.jid, bare);
    return this.recheckSubscriptions(bare);
  }

  /**
   * Forgets cached access decisions another cluster node made stale (about one recipient, one node, or all
   * of this service's). Nothing is written: the node that made the change did that.
   */
  forget(scope: { recipient?: string; node?: string } = {}): void {
    if (scope.node !== undefined) this.shared.cache.invalidateNode(this.jid, scope.node);
    else this.shared.cache.invalidate(this.jid, scope.recipient);
  }

  /** Removes every node of the service (account deletion) and forgets its cached access decisions. */
  async deleteAll(): Promise<void> {
    await this.shared.store.deleteService(this.jid);
    this.shared.cache.invalidate(this.jid);
  }

  // ------------------------------------------------------------------ internals
  /**
   * Cancels explicit subscriptions that no longer pass the access model, for one bare JID or everyone, at
   * one node or all nodes of the service.
   */
  private async recheckSubscriptions(onlyBare: string | undefined, node?: string): Promise<CancelledSubscription[]> {
    const { store } = this.shared;
    const records = node !== undefined ? [await store.getNode(this.jid, node)] : await store.listNodes(this.jid);
    const cancelled: CancelledSubscription[] = [];
    const rels = new Map<string, Promise<Relationship>>();
    for (const record of records) {
      if (!record) continue;
      const t = this.shared.configOf(record).typed;
      const affs = await store.getAffiliations(this.jid, record.node);
      for (const [jid, state] of await store.getSubscriptions(this.jid, record.node)) {
        if (state === 'none') continue;
        const b = safeBare(jid);
        if (onlyBare !== undefined && b !== onlyBare) continue;
        const standing: Standing = { affiliation: b === this.jid ? 'owner' : (affs.get(b) ?? 'none') };
        if (needsRelationship('subscribe', standing.affiliation, t)) {
          let p = rels.get(b);
          if (!p) rels.set(b, (p = this.shared.relationship(this.jid, b)));
          standing.relationship = await p;
        }
        if (denied('subscribe', standing, t)) {
          await store.setSubscription(this.jid, record.node, jid, 'none');
          cancelled.push({ node: record.node, jid });
        }
      }
    }
    return cancelled;
  }

  private async trimToMax(node: string, t: TypedConfig): Promise<void> {
    const { store, limits } = this.shared;
    const max = effectiveMaxItems(t, limits.maxItemsPerNode);
    if ((await store.countItems(this.jid, node)) <= max) return;
    const items = await store.getItems(this.jid, node);
    // Dropped by the owner's configuration: logged as retractions.
    for (const it of items.slice(max)) await store.retractItem(this.jid, node, it.id, this.keyLog('retract', node, it.id));
  }

  /** The transparency log's leaf for this write, when it is a key event (engine.ts KeyLog). */
  private keyLog(type: KeyWrite['type'], node: string, itemId: string, payload?: string): LogAppend | undefined {
    return this.shared.keyLog?.({ type, service: this.jid, node, itemId, payload, time: this.shared.clock() });
  }

  /** The node's record, once the actor is found allowed to do `action` there. */
  private async authorized(node: string, actor: Jid, action: Action): Promise<PubsubNodeRecord> {
    const { record, standing } = await this.lookup(requireNodeId(node), actor);
    refuse(denied(action, standing));
    return record;
  }

  /** A decision for IQ requests: the relationship is asked each time (no cache). */
  private fresh(record: PubsubNodeRecord, t: TypedConfig, bare: string, action: Action): Promise<PubsubError | undefined> {
    return this.decide(record, t, bare, action, () => this.shared.relationship(this.jid, bare));
  }

  /**
   * The node an IQ request names, and where the actor stands there (the owner's roster read fresh, no
   * cache). Every request naming a node comes here, so the policy of access.ts `hidden` holds for every
   * operation: a node absent, or hidden from a stranger, throws the same item-not-found.
   */
  private async lookup(node: string, actor: Jid): Promise<{ record: PubsubNodeRecord; standing: Standing }> {
    return this.found(await this.shared.store.getNode(this.jid, node), actor);
  }

  private async found(record: PubsubNodeRecord | undefined, actor: Jid): Promise<{ record: PubsubNodeRecord; standing: Standing }> {
    const bare = actor.bare;
    if (!record) {
      // The same work as for a hidden node (the owner's roster is read), so the answer does not come sooner.
      if (bare !== this.jid) await this.shared.relationship(this.jid, bare);
      throw errors.nodeNotFound();
    }
    const standing = await this.standing(record, bare);
    const t = this.shared.configOf(record).typed;
    if (mayHide(standing.affiliation, t)) {
      standing.relationship = await this.shared.relationship(this.jid, bare);
      if (hidden(standing, t)) throw errors.nodeNotFound();
    }
    return { record, standing };
  }

  private async decide(
    record: PubsubNodeRecord, t: TypedConfig, bare: string, action: Action, relationship: () => Promise<Relationship>,
  ): Promise<PubsubError | undefined> {
    const standing = await this.standing(record, bare);
    if (needsRelationship(action, standing.affiliation, t)) standing.relationship = await relationship();
    return denied(action, standing, t);
  }

  private async standing(record: PubsubNodeRecord, bare: string): Promise<Standing> {
    if (bare === this.jid) return { affiliation: 'owner' };
    return { affiliation: (await this.shared.store.getAffiliations(this.jid, record.node)).get(bare) ?? 'none' };
  }

  /** Where the actor stands before a node exists: the account owns its PEP service (XEP-0163 §3.2). */
  private ownStanding(actor: Jid): Standing {
    return { affiliation: actor.bare === this.jid ? 'owner' : 'none' };
  }

  private async records(filter: NodeFilter, actor: Jid): Promise<PubsubNodeRecord[]> {
    return filter.node !== undefined ? [(await this.lookup(filter.node, actor)).record] : this.shared.store.listNodes(this.jid);
  }

  private async checkNodeQuota(): Promise<void> {
    if ((await this.shared.store.listNodes(this.jid)).length >= this.shared.limits.maxNodesPerService) throw errors.tooManyNodes();
  }

  private eventBase(node: string, config: NodeConfig, t: TypedConfig) {
    return this.shared.eventBase(this.jid, node, config, t);
  }
}

function refuse(error: PubsubError | undefined): void {
  if (error) throw error;
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

function requireNodeId(node: string): string {
  // §7.2.3.3 / §8.2.3.3: a NodeID is required.
  if (typeof node !== 'string' || node === '') throw errors.nodeIdRequired();
  return node;
}

/** FORM_TYPE (XEP-0068) belongs to the form, not to the configuration. */
function withoutFormType(config: NodeConfig): NodeConfig {
  const input: NodeConfig = {};
  for (const [k, v] of Object.entries(config)) if (k !== 'FORM_TYPE') input[k] = v;
  return input;
}

function toEventItem(it: PubsubItemRecord, t: TypedConfig): EventItem {
  const out: EventItem = { id: it.id };
  if (t.exposePublisher) out.publisher = it.publisher;
  // §4.3 table: notification-only nodes never carry the payload in notifications.
  if (t.deliverPayloads && it.payload !== '') out.payload = it.payload;
  return out;
}

const tryBare = (j: string) => tryParseJid(j)?.bare;
const tryFull = (j: string) => tryParseJid(j)?.full;
/** Bare JID for stored values that should be valid; falls back to the raw string. */
const safeBare = (j: string) => tryBare(j) ?? j;
