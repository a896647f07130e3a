// Messages between the server's thread and the SQLite storage worker (worker.ts). Calls travel in batches
// (every call made in one turn of the caller's event loop goes in one postMessage), replies likewise, so
// the per-message cost of crossing threads is paid once per batch rather than once per statement.
import { KtMapEpochError } from '../kt-map.ts';
import type { Storage } from '../types.ts';
import type { SqliteStorageOptions } from './index.ts';
import { AccountExistsError, ArchiveIdNotFoundError } from '../types.ts';
import { NodeNotFoundError, SchemaTooNewError, StorageClosedError, SubtreeNotFoundError } from '../errors.ts';

/** The stores of a Storage that a call may address, and their methods. */
export type StoreName = 'accounts' | 'roster' | 'offline' | 'caps' | 'pubsub' | 'archive' | 'blocklist' | 'transparency' | 'ktMap';

/** [call id, store, method, arguments] */
export type Call = [id: number, store: StoreName, method: string, args: unknown[]];

/** [call id, true, value] or [call id, false, error] */
export type Reply = [id: number, ok: true, value: unknown] | [id: number, ok: false, error: SerializedError];

export type ToWorker =
  | { type: 'calls'; calls: Call[] }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'open-failed'; error: SerializedError }
  | { type: 'replies'; replies: Reply[] }
  | { type: 'closed'; error?: SerializedError };

export interface WorkerInit {
  options: SqliteStorageOptions;
}

/**
 * Structured clone keeps an Error's message and stack but not its class or own fields, and callers test
 * storage errors with instanceof (NodeNotFoundError) or read their `code` (SQLite's SQLITE_BUSY, ...).
 */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, code: typeof code === 'string' ? code : undefined, stack: err.stack };
  }
  return { name: 'Error', message: String(err) };
}

// The storage errors callers tell apart by class, keyed by their stable code.
const CLASSES: Record<string, { prototype: Error }> = {
  ACCOUNT_EXISTS: AccountExistsError,
  ARCHIVE_ID_NOT_FOUND: ArchiveIdNotFoundError,
  PUBSUB_NODE_NOT_FOUND: NodeNotFoundError,
  STORAGE_CLOSED: StorageClosedError,
  STORAGE_SCHEMA_TOO_NEW: SchemaTooNewError,
  KT_SUBTREE_NOT_FOUND: SubtreeNotFoundError,
  KT_MAP_EPOCH: KtMapEpochError,
};

/** Rebuilds the error on the caller's side, with its class when it is one of ours. */
export function deserializeError(e: SerializedError): Error {
  const cls = e.code !== undefined ? CLASSES[e.code] : undefined;
  // The classes build their message from constructor arguments the worker no longer has, so the instance
  // is made from the prototype and given the original message.
  const err: Error & { code?: string } = cls ? Object.create(cls.prototype) : new Error(e.message);
  Object.defineProperty(err, 'message', { value: e.message, writable: true, configurable: true });
  if (!cls) {
    if (e.name !== 'Error') Object.defineProperty(err, 'name', { value: e.name, writable: true, configurable: true });
    if (e.code !== undefined) err.code = e.code;
  } else if (err.code === undefined) {
    // Own field initialisers did not run; `code` is an instance field on our classes.
    Object.defineProperty(err, 'code', { value: e.code, enumerable: true });
  }
  if (e.stack !== undefined) Object.defineProperty(err, 'stack', { value: e.stack, writable: true, configurable: true });
  return err;
}

/** The methods of each store, listed so the proxy can be built without a storage instance at hand. */
export const STORE_METHODS: { [S in StoreName]: readonly (keyof NonNullable<Storage[S]>)[] } = {
  accounts: ['create', 'get', 'setCredentials', 'delete', 'list'],
  roster: ['get', 'getItem', 'putItem', 'removeItem', 'addPendingIn', 'removePendingIn', 'listPendingIn'],
  offline: ['push', 'takeAll', 'count', 'size'],
  caps: ['get', 'put', 'touch', 'prune'],
  pubsub: [
    'getNode', 'listNodes', 'createNode', 'updateConfig', 'deleteNode', 'publishItem', 'getItems', 'countItems',
    'retractItem', 'purgeNode', 'getAffiliations', 'setAffiliation', 'getSubscriptions', 'setSubscription',
    'deleteService',
  ],
  archive: ['append', 'trim', 'query', 'expire', 'removeOwner', 'getPrefs', 'setPrefs'],
  blocklist: ['list', 'block', 'unblock', 'unblockAll'],
  transparency: ['size', 'nodes', 'entries', 'entriesOf'],
  ktMap: ['range', 'get', 'inserted', 'versions', 'latestVersion', 'addEpoch', 'latestEpoch', 'epoch'],
};
