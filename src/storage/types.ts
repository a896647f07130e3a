// Storage interfaces. Every adapter (memory, sqlite, postgres) implements these and passes the shared
// contract suite in test/contract/ (one file per store). JIDs are passed in normalised string form (bare
// unless noted). Every write resolves only once it is durable in the adapter's terms (committed for SQL
// adapters).
import type { MamFilter } from '../protocol/xep0313.ts';
import type { KeyEventInput } from '../transparency/key-events.ts';
import type { NodeRef } from '../transparency/tree.ts';
import type { KtMapStore } from './kt-map.ts';
import type { LogHost } from './log-host.ts';

// ---------------------------------------------------------------- accounts
export type ScramHash = 'SHA-1' | 'SHA-256';

/** RFC 5802 server-side SCRAM credentials: never the password itself. Binary values base64. */
export interface ScramCredential {
  salt: string;
  iterations: number;
  storedKey: string;
  serverKey: string;
}

export interface AccountCredentials {
  'SHA-1': ScramCredential;
  'SHA-256': ScramCredential;
}

export interface AccountRecord {
  jid: string;
  credentials: AccountCredentials;
  createdAt: number;
}

export class AccountExistsError extends Error {
  readonly code = 'ACCOUNT_EXISTS';
  constructor(jid: string) {
    super(`account ${jid} already exists`);
  }
}

export interface AccountStore {
  /** Throws AccountExistsError when the account exists. */
  create(jid: string, credentials: AccountCredentials): Promise<void>;
  get(jid: string): Promise<AccountRecord | undefined>;
  /** Returns false when there is no such account. */
  setCredentials(jid: string, credentials: AccountCredentials): Promise<boolean>;
  /** Removes the account and every record it owns in every store (roster, offline, pubsub service, archive, blocklist). */
  delete(jid: string): Promise<boolean>;
  /** Sorted bare JIDs, optionally only one domain. */
  list(domain?: string): Promise<string[]>;
}

// ---------------------------------------------------------------- roster (RFC 6121 §2, §3)
export type Subscription = 'none' | 'to' | 'from' | 'both';

export interface RosterItem {
  jid: string;
  name?: string;
  subscription: Subscription;
  /** Outbound subscription request sent and not yet answered (RFC 6121 "pending out"). */
  ask?: 'subscribe';
  /** Subscription pre-approved by the owner (RFC 6121 §3.4). */
  approved?: boolean;
  groups: string[];
}

export interface Roster {
  /** Opaque version string (RFC 6121 §2.6); changes on every modification. */
  version: string;
  items: RosterItem[];
}

export interface PendingSubscription {
  from: string;
  /** The original subscribe presence stanza, serialised, so it can be redelivered intact. */
  stanza: string;
}

export interface RosterStore {
  get(owner: string): Promise<Roster>;
  getItem(owner: string, contact: string): Promise<RosterItem | undefined>;
  /** Inserts or replaces the item; returns the new roster version. */
  putItem(owner: string, item: RosterItem): Promise<string>;
  /** Removes the item; returns the new roster version, or undefined when there was no item. */
  removeItem(owner: string, contact: string): Promise<string | undefined>;
  /** Inbound subscription requests awaiting the owner's answer (RFC 6121 §3.1.3 "pending in"). */
  addPendingIn(owner: string, pending: PendingSubscription): Promise<void>;
  removePendingIn(owner: string, from: string): Promise<boolean>;
  listPendingIn(owner: string): Promise<PendingSubscription[]>;
}

// ---------------------------------------------------------------- offline messages (XEP-0160)
export interface OfflineMessage {
  /** Serialised <message/> stanza. */
  stanza: string;
  /** Milliseconds since the epoch when the server stored it (for XEP-0203 delay). */
  storedAt: number;
  /**
   * Set when `stanza` is exactly what to deliver (delay stamp included, namespace-well-formed): replay writes
   * it as is, without a parse. Absent on messages stored before this existed, which are parsed.
   */
  verbatim?: true;
}

export interface OfflineStore {
  push(owner: string, message: OfflineMessage): Promise<void>;
  /** Returns and deletes every stored message, oldest first, atomically. */
  takeAll(owner: string): Promise<OfflineMessage[]>;
  count(owner: string): Promise<number>;
  /** Stored messages and their total size (UTF-8 bytes of `stanza`), for the per-account quotas. */
  size(owner: string): Promise<{ messages: number; bytes: number }>;
}

// ---------------------------------------------------------------- entity capabilities cache (XEP-0115)
export interface CapsIdentity {
  category: string;
  type: string;
  name?: string;
  lang?: string;
}

export interface CapsInfo {
  identities: CapsIdentity[];
  features: string[];
  /** XEP-0128 extended info forms, serialised <x/> elements. */
  forms: string[];
}

export interface CapsStore {
  /** Key is `${hash}:${ver}`; only verified entries are stored. */
  get(key: string): Promise<CapsInfo | undefined>;
  /** Stores (or replaces) an entry and marks it as the most recently used. */
  put(key: string, info: CapsInfo): Promise<void>;
  /** Marks an entry as the most recently used (no-op when absent); `get` alone does not. */
  touch(key: string): Promise<void>;
  /** Deletes the least recently used entries beyond the newest `maxEntries`; returns how many it deleted. */
  prune(maxEntries: number): Promise<number>;
}

// ---------------------------------------------------------------- pubsub / PEP (XEP-0060, XEP-0163, XEP-0222)
/** Node configuration as pubsub#node_config field values (var name without the `pubsub#` prefix). */
export type NodeConfig = Record<string, string | string[]>;

export type Affiliation = 'owner' | 'publisher' | 'publish-only' | 'member' | 'none' | 'outcast';
export type SubscriptionState = 'subscribed' | 'pending' | 'unconfigured' | 'none';

export interface PubsubNodeRecord {
  /** The pubsub service JID: the account's bare JID for PEP. */
  service: string;
  node: string;
  config: NodeConfig;
  createdAt: number;
}

export interface PubsubItemRecord {
  service: string;
  node: string;
  id: string;
  /** Full or bare JID of the publisher. */
  publisher: string;
  /** Serialised payload element. */
  payload: string;
  /** Milliseconds since the epoch of the last publish of this id. */
  publishedAt: number;
}

/** What getItems returns. XEP-0059 paging is the pubsub engine's, over the newest-first list. */
export interface ItemQuery {
  /** Only these ids (in the order given, each once, missing ids skipped), then at most `max`. */
  ids?: string[];
  /** At most this many, newest first. */
  max?: number;
}

/**
 * A key event to append to `domain`'s transparency log (issue 14) in the same transaction as the pubsub
 * write that carries it: the leaf exists exactly when the write committed. Given to a write that changes
 * nothing (no such node or item), it appends nothing.
 */
export interface LogAppend {
  domain: string;
  /** The leaf's payload hash and fingerprint are derived by the store (transparency/key-events.ts deriveKeyEvent). */
  event: KeyEventInput;
}

export interface PubsubStore {
  /** The record is the caller's to read, not to change (a caching wrapper hands out one frozen copy). */
  getNode(service: string, node: string): Promise<PubsubNodeRecord | undefined>;
  listNodes(service: string): Promise<PubsubNodeRecord[]>;
  /** Returns false when the node exists already. */
  createNode(record: PubsubNodeRecord): Promise<boolean>;
  updateConfig(service: string, node: string, config: NodeConfig): Promise<boolean>;
  /** Deletes the node with its items, affiliations and subscriptions. */
  deleteNode(service: string, node: string, log?: LogAppend): Promise<boolean>;
  /**
   * Stores (or replaces, moving it to newest) an item, then trims the node to `maxItems` newest items
   * (undefined = unlimited). Returns the ids removed by trimming. Atomic.
   */
  publishItem(item: PubsubItemRecord, maxItems: number | undefined, log?: LogAppend): Promise<{ evicted: string[] }>;
  /** Newest first. */
  getItems(service: string, node: string, query?: ItemQuery): Promise<PubsubItemRecord[]>;
  countItems(service: string, node: string): Promise<number>;
  retractItem(service: string, node: string, id: string, log?: LogAppend): Promise<boolean>;
  /** Removes every item; returns how many. A `log` is appended whenever the node exists. */
  purgeNode(service: string, node: string, log?: LogAppend): Promise<number>;
  getAffiliations(service: string, node: string): Promise<Map<string, Affiliation>>;
  /** 'none' removes the entry. */
  setAffiliation(service: string, node: string, jid: string, affiliation: Affiliation): Promise<void>;
  /** Explicit subscriptions (XEP-0060 §6.1); jid may be full or bare. */
  getSubscriptions(service: string, node: string): Promise<Map<string, SubscriptionState>>;
  /** 'none' removes the entry. */
  setSubscription(service: string, node: string, jid: string, state: SubscriptionState): Promise<void>;
  /** Removes every node of a service (account deletion). */
  deleteService(service: string): Promise<void>;
}

// ---------------------------------------------------------------- message archive (XEP-0313)
export interface ArchivedMessage {
  /** Archive id (the XEP-0359 stanza-id), chosen by the caller, unique within the owner's archive. */
  id: string;
  /** The other party as the stanza names it (full or bare JID). */
  with: string;
  /** Milliseconds since the epoch when archived. */
  storedAt: number;
  /** Serialised <message/>, namespace-well-formed on its own. */
  stanza: string;
}

/** Which messages of an archive a query is about: the XEP-0313 form's fields; all conditions must hold. */
export type ArchiveFilter = MamFilter;

/** One XEP-0059 page of a filtered archive. */
export interface ArchivePageQuery extends ArchiveFilter {
  /** At most this many messages. */
  max: number;
  /**
   * Where the page is: the first `max` messages after `after` (or from the oldest), or the last `max` before
   * `before` (or up to the newest, with `last`). An anchor names a message of the archive.
   */
  after?: string;
  before?: string;
  last?: boolean;
}

export interface ArchivePage {
  /** Oldest first. */
  messages: ArchivedMessage[];
  /** How many messages match the filter, whatever the page. */
  count: number;
  /** Position of the page's first message among them (0 = oldest). */
  index: number;
  /** The page reaches the end it pages towards: the newest match (forwards) or the oldest (backwards). */
  complete: boolean;
}

export interface ArchivePrefs {
  /** XEP-0313 §6 default for JIDs in neither list. */
  default: 'always' | 'never' | 'roster';
  always: string[];
  never: string[];
}

/** An id given as an anchor (RSM after/before, after-id/before-id) is not in the archive. */
export class ArchiveIdNotFoundError extends Error {
  readonly code = 'ARCHIVE_ID_NOT_FOUND';
  constructor(owner: string, id: string) {
    super(`message ${id} is not in the archive of ${owner}`);
  }
}

export interface ArchiveStore {
  /** Appends a message (newest). Throws when the id is taken in this archive. */
  append(owner: string, message: ArchivedMessage): Promise<void>;
  /**
   * Drops the owner's oldest messages beyond the newest `maxItems`; returns how many. It walks the owner's
   * newest `maxItems` entries of the index, so callers run it now and then, not at every append.
   */
  trim(owner: string, maxItems: number): Promise<number>;
  /** Throws ArchiveIdNotFoundError for an anchor not in the archive. */
  query(owner: string, query: ArchivePageQuery): Promise<ArchivePage>;
  /** Deletes every message archived before this instant, of every owner; returns how many. */
  expire(before: number): Promise<number>;
  /** Deletes the owner's messages and preferences (account deletion). */
  removeOwner(owner: string): Promise<void>;
  getPrefs(owner: string): Promise<ArchivePrefs | undefined>;
  setPrefs(owner: string, prefs: ArchivePrefs): Promise<void>;
}

// ---------------------------------------------------------------- blocklist (XEP-0191)
export interface BlocklistStore {
  /** The JIDs the owner blocks (bare, full or domain JIDs, normalised), sorted. */
  list(owner: string): Promise<string[]>;
  /** Adds JIDs; returns those that were not blocked yet, sorted. */
  block(owner: string, jids: string[]): Promise<string[]>;
  /** Removes JIDs; returns those that were blocked, sorted. */
  unblock(owner: string, jids: string[]): Promise<string[]>;
  /** Removes every JID; returns them, sorted. */
  unblockAll(owner: string): Promise<string[]>;
}

// ---------------------------------------------------------------- key transparency logs (issue 14)
/** One leaf of a log: its index and its encoded bytes (transparency/leaf.ts). */
export interface LogEntry {
  seq: number;
  leaf: Uint8Array;
}

/**
 * Each served domain's append-only log of key events. Appends happen only through the pubsub writes'
 * `log` argument; this store reads. Stored: every leaf, its hash, and the hash of every perfect subtree
 * (transparency/tree.ts), so a proof is O(log n) node reads.
 */
export interface TransparencyStore {
  /** Leaves in the domain's log (0 when it has none). */
  size(domain: string): Promise<number>;
  /** Hashes of perfect subtrees, in the order asked. Throws SubtreeNotFoundError for a subtree not complete yet. */
  nodes(domain: string, refs: NodeRef[]): Promise<Uint8Array[]>;
  /** Leaves [start, end) ∩ the log, in order. */
  entries(domain: string, start: number, end: number): Promise<LogEntry[]>;
  /** The leaves whose JID is `jid`, in order, with sequence number ≥ `from`, at most `max`. */
  entriesOf(domain: string, jid: string, from: number, max: number): Promise<LogEntry[]>;
}

// ---------------------------------------------------------------- the whole store
/**
 * Told of each group commit once it is durable: seconds since its batch began, and the operations in it
 * (metrics). Called on the storage's hot path: must be cheap and must not throw.
 */
export type CommitObserver = (seconds: number, operations: number) => void;

/**
 * Named locks shared by every server on one database: what a process's in-memory locks cannot serialise
 * across cluster nodes (roster/pair-lock.ts). Absent where one process owns the data (memory, SQLite).
 */
export interface StorageLocks {
  /**
   * Takes the lock named `key` (any string; hashed, so two keys may share a lock: more waiting, never less)
   * without holding a database connection blocked: it is tried and retried until free or `timeoutMs` passed.
   * Resolves to its release, or undefined when it was not taken in time (or the database did not answer).
   * A process takes one key once at a time: callers serialise their own requests in front.
   */
  acquire(key: string, timeoutMs: number): Promise<(() => Promise<void>) | undefined>;
}

export interface Storage {
  readonly kind: string;
  /** Cross-process locks, where several servers can share this store (PostgreSQL). */
  readonly locks?: StorageLocks;
  /**
   * Sets the one observer of group commits (replacing any); returns its removal. Absent where the commits
   * are not timed here (memory, SQLite on a worker thread).
   */
  observeCommits?(observer: CommitObserver): () => void;
  readonly accounts: AccountStore;
  readonly roster: RosterStore;
  readonly offline: OfflineStore;
  readonly caps: CapsStore;
  readonly pubsub: PubsubStore;
  readonly archive: ArchiveStore;
  readonly blocklist: BlocklistStore;
  readonly transparency: TransparencyStore;
  /** The verifiable maps of key transparency Stage 2 (storage/kt-map.ts); absent where not implemented. */
  readonly ktMap?: KtMapStore;
  /** Runs work beside the log, in its own process, where the storage keeps one (storage/log-host.ts). */
  readonly logHost?: LogHost;
  /** Waits for pending writes, then releases the database. */
  close(): Promise<void>;
}
