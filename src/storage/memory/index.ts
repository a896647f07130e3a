// In-process storage on Maps, for unit tests and throwaway servers. Nothing survives the process.
// Every value is cloned on the way in and out so callers can never mutate stored state by accident, which
// keeps this adapter honest against the same contract as the SQL ones.
import {
  AccountExistsError,
  type AccountCredentials,
  type AccountRecord,
  type AccountStore,
  type Affiliation,
  type ArchivedMessage,
  type ArchivePrefs,
  type ArchiveStore,
  type CapsInfo,
  type CapsStore,
  type ItemQuery,
  type NodeConfig,
  type OfflineMessage,
  type OfflineStore,
  type PendingSubscription,
  type PubsubItemRecord,
  type PubsubNodeRecord,
  type PubsubStore,
  type Roster,
  type RosterItem,
  type RosterStore,
  type Storage,
  type LogAppend,
  type SubscriptionState,
} from '../types.ts';
import { NodeNotFoundError, StorageClosedError } from '../errors.ts';
import { pickItems } from '../item-query.ts';
import { pageArchive } from '../archive-page.ts';
import { domainOf } from '../../jid/index.ts';
import { createMemoryBlocklist } from './blocklist.ts';
import { createMemoryTransparency } from './transparency.ts';
import { createMemoryKtMap } from './kt-map.ts';

const clone = <T>(value: T): T => structuredClone(value);

/** Affiliations and subscriptions: 'none' is no entry. */
function setOrNone<V extends string>(m: Map<string, V>, jid: string, value: V): void {
  if (value === 'none') m.delete(jid);
  else m.set(jid, value);
}

/** Deletes outer[key][inner], and outer[key] once it is empty; reports whether there was such an entry. */
function deleteNested<K, I>(outer: Map<K, Map<I, unknown>>, key: K, inner: I): boolean {
  const m = outer.get(key);
  if (!m || !m.delete(inner)) return false;
  if (m.size === 0) outer.delete(key);
  return true;
}

interface MemoryNode {
  record: PubsubNodeRecord;
  /** Map iteration order is insertion order, so oldest first; a republish deletes then re-inserts. */
  items: Map<string, PubsubItemRecord>;
  affiliations: Map<string, Affiliation>;
  subscriptions: Map<string, SubscriptionState>;
}

interface MemoryRoster {
  version: number;
  items: Map<string, RosterItem>;
}

export function createMemoryStorage(): Storage {
  let closed = false;
  const accounts = new Map<string, AccountRecord>();
  const rosters = new Map<string, MemoryRoster>();
  const pendingIn = new Map<string, Map<string, PendingSubscription>>();
  const offline = new Map<string, OfflineMessage[]>();
  const caps = new Map<string, CapsInfo>();
  // service -> node name -> node
  const services = new Map<string, Map<string, MemoryNode>>();
  // owner -> messages, oldest first
  const archives = new Map<string, ArchivedMessage[]>();
  const archivePrefs = new Map<string, ArchivePrefs>();

  // Every call goes through here so a closed store fails the same way the SQL adapters do, and results
  // arrive asynchronously like theirs (no test can come to depend on synchronous resolution).
  async function op<T>(fn: () => T): Promise<T> {
    if (closed) throw new StorageClosedError();
    return fn();
  }

  const blocklist = createMemoryBlocklist(op);
  const transparency = createMemoryTransparency(op);
  /** Appends the key event when the write it goes with changed something, in the same synchronous step. */
  const logged = <T>(log: LogAppend | undefined, changed: boolean, result: T): T => {
    if (log && changed) transparency.append(log);
    return result;
  };

  const findNode = (service: string, node: string) => services.get(service)?.get(node);
  const requireNode = (service: string, node: string) => {
    const n = findNode(service, node);
    if (!n) throw new NodeNotFoundError(service, node);
    return n;
  };
  const rosterOf = (owner: string) => {
    let r = rosters.get(owner);
    if (!r) rosters.set(owner, (r = { version: 0, items: new Map() }));
    return r;
  };

  const accountStore: AccountStore = {
    create: (jid: string, credentials: AccountCredentials) =>
      op(() => {
        if (accounts.has(jid)) throw new AccountExistsError(jid);
        accounts.set(jid, { jid, credentials: clone(credentials), createdAt: Date.now() });
      }),
    get: (jid) => op(() => clone(accounts.get(jid))),
    setCredentials: (jid, credentials) =>
      op(() => {
        const a = accounts.get(jid);
        if (!a) return false;
        a.credentials = clone(credentials);
        return true;
      }),
    delete: (jid) =>
      op(() => {
        if (!accounts.delete(jid)) return false;
        rosters.delete(jid);
        pendingIn.delete(jid);
        offline.delete(jid);
        services.delete(jid);
        archives.delete(jid);
        archivePrefs.delete(jid);
        blocklist.deleteOwner(jid);
        return true;
      }),
    list: (domain) =>
      op(() =>
        [...accounts.keys()].filter((jid) => domain === undefined || domainOf(jid) === domain).sort(),
      ),
  };

  const rosterStore: RosterStore = {
    get: (owner) =>
      op((): Roster => {
        const r = rosters.get(owner);
        if (!r) return { version: '0', items: [] };
        const items = [...r.items.values()].sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
        return { version: String(r.version), items: clone(items) };
      }),
    getItem: (owner, contact) => op(() => clone(rosters.get(owner)?.items.get(contact))),
    putItem: (owner, item) =>
      op(() => {
        const r = rosterOf(owner);
        r.items.set(item.jid, clone(item));
        return String(++r.version);
      }),
    removeItem: (owner, contact) =>
      op(() => {
        const r = rosters.get(owner);
        if (!r || !r.items.delete(contact)) return undefined;
        return String(++r.version);
      }),
    addPendingIn: (owner, pending) =>
      op(() => {
        let m = pendingIn.get(owner);
        if (!m) pendingIn.set(owner, (m = new Map()));
        // A repeated request replaces the stored stanza but keeps its place in line.
        m.set(pending.from, clone(pending));
      }),
    removePendingIn: (owner, from) => op(() => deleteNested(pendingIn, owner, from)),
    listPendingIn: (owner) => op(() => clone([...(pendingIn.get(owner)?.values() ?? [])])),
  };

  const offlineStore: OfflineStore = {
    push: (owner, message) =>
      op(() => {
        let list = offline.get(owner);
        if (!list) offline.set(owner, (list = []));
        list.push(clone(message));
      }),
    takeAll: (owner) =>
      op(() => {
        const list = offline.get(owner) ?? [];
        offline.delete(owner);
        return list;
      }),
    count: (owner) => op(() => offline.get(owner)?.length ?? 0),
    size: (owner) =>
      op(() => {
        const list = offline.get(owner) ?? [];
        let bytes = 0;
        for (const m of list) bytes += Buffer.byteLength(m.stanza);
        return { messages: list.length, bytes };
      }),
  };

  // Map order is the use order, least recent first: put and touch re-insert.
  const capsStore: CapsStore = {
    get: (key) => op(() => clone(caps.get(key))),
    put: (key, info) =>
      op(() => {
        caps.delete(key);
        caps.set(key, clone(info));
      }),
    touch: (key) =>
      op(() => {
        const info = caps.get(key);
        if (info === undefined) return;
        caps.delete(key);
        caps.set(key, info);
      }),
    prune: (maxEntries) =>
      op(() => {
        let n = 0;
        for (const key of caps.keys()) {
          if (caps.size <= maxEntries) break;
          caps.delete(key);
          n++;
        }
        return n;
      }),
  };

  const pubsubStore: PubsubStore = {
    getNode: (service, node) => op(() => clone(findNode(service, node)?.record)),
    listNodes: (service) =>
      op(() => {
        const nodes = [...(services.get(service)?.values() ?? [])].map((n) => n.record);
        return clone(nodes.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)));
      }),
    createNode: (record) =>
      op(() => {
        let nodes = services.get(record.service);
        if (!nodes) services.set(record.service, (nodes = new Map()));
        if (nodes.has(record.node)) return false;
        nodes.set(record.node, {
          record: clone(record),
          items: new Map(),
          affiliations: new Map(),
          subscriptions: new Map(),
        });
        return true;
      }),
    updateConfig: (service, node, config: NodeConfig) =>
      op(() => {
        const n = findNode(service, node);
        if (!n) return false;
        n.record.config = clone(config);
        return true;
      }),
    deleteNode: (service, node, log) =>
      op(() => {
        const deleted = deleteNested(services, service, node);
        return logged(log, deleted, deleted);
      }),
    publishItem: (item, maxItems, log) =>
      op(() => {
        const n = requireNode(item.service, item.node);
        n.items.delete(item.id);
        n.items.set(item.id, clone(item));
        const evicted: string[] = [];
        if (maxItems !== undefined) {
          // Oldest first, matching the order the SQL adapters report.
          for (const id of n.items.keys()) {
            if (n.items.size - evicted.length <= maxItems) break;
            evicted.push(id);
          }
          for (const id of evicted) n.items.delete(id);
        }
        return logged(log, true, { evicted });
      }),
    getItems: (service, node, { ids, max }: ItemQuery = {}) =>
      op(() => {
        const n = findNode(service, node);
        if (!n) return [];
        if (ids) return clone(pickItems(ids, max, (id) => n.items.get(id)));
        const newestFirst = [...n.items.values()].reverse();
        return clone(max === undefined ? newestFirst : newestFirst.slice(0, Math.max(0, max)));
      }),
    countItems: (service, node) => op(() => findNode(service, node)?.items.size ?? 0),
    retractItem: (service, node, id, log) =>
      op(() => {
        const retracted = findNode(service, node)?.items.delete(id) ?? false;
        return logged(log, retracted, retracted);
      }),
    purgeNode: (service, node, log) =>
      op(() => {
        const n = findNode(service, node);
        if (!n) return 0;
        const count = n.items.size;
        n.items.clear();
        return logged(log, true, count);
      }),
    getAffiliations: (service, node) => op(() => new Map(findNode(service, node)?.affiliations ?? [])),
    setAffiliation: (service, node, jid, affiliation) => op(() => setOrNone(requireNode(service, node).affiliations, jid, affiliation)),
    getSubscriptions: (service, node) => op(() => new Map(findNode(service, node)?.subscriptions ?? [])),
    setSubscription: (service, node, jid, state) => op(() => setOrNone(requireNode(service, node).subscriptions, jid, state)),
    deleteService: (service) =>
      op(() => {
        services.delete(service);
      }),
  };

  const archiveStore: ArchiveStore = {
    append: (owner, message) =>
      op(() => {
        let list = archives.get(owner);
        if (!list) archives.set(owner, (list = []));
        if (list.some((m) => m.id === message.id)) throw new Error(`archive id ${message.id} is taken in the archive of ${owner}`);
        list.push(clone(message));
      }),
    trim: (owner, maxItems) =>
      op(() => {
        const list = archives.get(owner);
        if (!list || list.length <= maxItems) return 0;
        return list.splice(0, list.length - Math.max(0, maxItems)).length;
      }),
    query: (owner, query) => op(() => pageArchive(owner, archives.get(owner) ?? [], query)),
    expire: (before) =>
      op(() => {
        let n = 0;
        for (const [owner, list] of archives) {
          const kept = list.filter((m) => m.storedAt >= before);
          n += list.length - kept.length;
          if (kept.length === 0) archives.delete(owner);
          else archives.set(owner, kept);
        }
        return n;
      }),
    removeOwner: (owner) =>
      op(() => {
        archives.delete(owner);
        archivePrefs.delete(owner);
      }),
    getPrefs: (owner) => op(() => clone(archivePrefs.get(owner))),
    setPrefs: (owner, prefs) =>
      op(() => {
        archivePrefs.set(owner, clone(prefs));
      }),
  };

  return {
    kind: 'memory',
    accounts: accountStore,
    roster: rosterStore,
    offline: offlineStore,
    caps: capsStore,
    pubsub: pubsubStore,
    archive: archiveStore,
    blocklist: blocklist.store,
    transparency: transparency.store,
    ktMap: createMemoryKtMap(op),
    async close() {
      closed = true;
    },
  };
}
