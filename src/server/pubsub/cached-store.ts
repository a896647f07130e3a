// A PubsubStore that keeps node records, affiliation lists and explicit subscription lists in memory in front
// of the real one, so that a retrieval or a publish does not read them from storage every time (they change
// rarely; items do not go through here). Every write that can change a node's record, affiliations or
// subscriptions drops the node's entries as it is issued and again once it has settled, and a read only
// fills the cache if no such write began while it was in flight (per-node generation), so a read never
// answers older than a write issued before it — the same guarantee group commit gives by queueing reads
// behind writes. The engine must be the only writer in
// this process; a write by another process (CLI account deletion) is not seen until the entry is evicted.
import type { Affiliation, NodeConfig, PubsubItemRecord, PubsubNodeRecord, PubsubStore, SubscriptionState } from '../../storage/types.ts';

interface Entry {
  /** undefined: not cached; null: cached as absent. */
  record?: PubsubNodeRecord | null;
  affiliations?: ReadonlyMap<string, Affiliation>;
  subscriptions?: ReadonlyMap<string, SubscriptionState>;
  generation: number;
}

const key = (service: string, node: string) => `${service}\u0000${node}`;

function freezeRecord(r: PubsubNodeRecord): PubsubNodeRecord {
  for (const v of Object.values(r.config)) if (Array.isArray(v)) Object.freeze(v);
  Object.freeze(r.config);
  return Object.freeze(r);
}

/** A cached store that other cluster nodes can keep coherent (cluster/coherence.ts). */
export interface CoherentPubsubStore extends PubsubStore {
  /** Drops what is cached of a node, of a service (node undefined), or everything (both undefined). */
  forget(service?: string, node?: string): void;
}

export interface CachedStoreOptions {
  maxNodes?: number;
  /**
   * Called once a write that changed nodes has settled, before it resolves: a cluster tells the other nodes
   * to forget them, and the change is not acknowledged until they have.
   */
  written?(nodes: { service: string; node?: string }[]): Promise<void>;
}

export function cachedPubsubStore(store: PubsubStore, options: CachedStoreOptions | number = {}): CoherentPubsubStore {
  const opts = typeof options === 'number' ? { maxNodes: options } : options;
  const maxNodes = opts.maxNodes ?? 10_000;
  const entries = new Map<string, Entry>();
  /** Writes in flight per node: while any is, nothing is cached for it. */
  const writing = new Map<string, number>();

  const entry = (k: string): Entry => {
    let e = entries.get(k);
    if (!e) {
      // Oldest first out (Map order), bounded.
      if (entries.size >= maxNodes) entries.delete(entries.keys().next().value!);
      e = { generation: 0 };
      entries.set(k, e);
    }
    return e;
  };
  const drop = (k: string) => {
    const e = entries.get(k);
    if (e) {
      e.record = undefined;
      e.affiliations = undefined;
      e.subscriptions = undefined;
      e.generation++;
    }
  };
  /** Runs a write that may change the nodes `keys()` names (taken when it is issued). */
  function write<T>(keys: () => string[], run: () => Promise<T>, whole?: string): Promise<T> {
    const ks = keys();
    for (const k of ks) {
      drop(k);
      writing.set(k, (writing.get(k) ?? 0) + 1);
    }
    const done = run().finally(() => {
      for (const k of ks) {
        drop(k);
        const n = writing.get(k)! - 1;
        if (n === 0) writing.delete(k);
        else writing.set(k, n);
      }
    });
    const written = opts.written;
    if (!written) return done;
    // A whole service goes as one: other nodes may cache nodes of it this one does not.
    const nodes = whole !== undefined ? [{ service: whole }] : ks.map((k) => ({ service: k.slice(0, k.indexOf('\u0000')), node: k.slice(k.indexOf('\u0000') + 1) }));
    return done.then(async (r) => {
      await written(nodes);
      return r;
    });
  }
  const serviceKeys = (service: string) => () => [...entries.keys()].filter((k) => k.startsWith(`${service}\u0000`));
  async function read<T>(k: string, get: (e: Entry) => T | undefined, load: () => Promise<T>, put: (e: Entry, v: T) => void): Promise<T> {
    const hit = entries.get(k);
    if (hit) {
      const v = get(hit);
      if (v !== undefined) return v;
    }
    const e = entry(k);
    const generation = e.generation;
    const v = await load();
    if (entries.get(k) === e && e.generation === generation && !writing.has(k)) put(e, v);
    return v;
  }

  return {
    forget(service, node) {
      if (service === undefined) for (const k of entries.keys()) drop(k);
      else if (node === undefined) for (const k of serviceKeys(service)()) drop(k);
      else drop(key(service, node));
    },
    getNode(service, node) {
      return read(
        key(service, node),
        (e) => (e.record === null ? (null as never) : e.record),
        () => store.getNode(service, node),
        (e, r) => (e.record = r ? freezeRecord(r) : null),
      ).then((r) => r ?? undefined);
    },
    async getAffiliations(service, node) {
      // Callers get their own Map.
      return new Map(await read(key(service, node), (e) => e.affiliations, () => store.getAffiliations(service, node), (e, a) => (e.affiliations = a)));
    },
    listNodes: (service) => store.listNodes(service),
    createNode: (record) => write(() => [key(record.service, record.node)], () => store.createNode(record)),
    updateConfig: (service, node, config: NodeConfig) => write(() => [key(service, node)], () => store.updateConfig(service, node, config)),
    deleteNode: (service, node, log) => write(() => [key(service, node)], () => store.deleteNode(service, node, log)),
    setAffiliation: (service, node, jid, affiliation) => write(() => [key(service, node)], () => store.setAffiliation(service, node, jid, affiliation)),
    deleteService: (service) => write(serviceKeys(service), () => store.deleteService(service), service),
    publishItem: (item: PubsubItemRecord, maxItems, log) => store.publishItem(item, maxItems, log),
    getItems: (service, node, query) => store.getItems(service, node, query),
    countItems: (service, node) => store.countItems(service, node),
    retractItem: (service, node, id, log) => store.retractItem(service, node, id, log),
    purgeNode: (service, node, log) => store.purgeNode(service, node, log),
    async getSubscriptions(service, node) {
      // Every publish reads them to address its notifications.
      return new Map(await read(key(service, node), (e) => e.subscriptions, () => store.getSubscriptions(service, node), (e, m) => (e.subscriptions = m)));
    },
    setSubscription: (service, node, jid, state) => write(() => [key(service, node)], () => store.setSubscription(service, node, jid, state)),
  };
}
