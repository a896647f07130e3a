// Messages between the event loop's journal (kt-journal.ts) and the key-log process (kt-process.ts).
import type { SerializedError } from './worker-protocol.ts';

export interface KtThreadInit {
  /** The main database file (its journal is read, never written, by the key-log process). */
  mainPath: string;
  /** The transparency file (kt-file.ts), written only by the key-log process. */
  ktPath: string;
}

export type KtReadMethod = 'size' | 'nodes' | 'entries' | 'entriesOf';
export type KtMapMethod = 'range' | 'get' | 'inserted' | 'versions' | 'latestVersion' | 'addEpoch' | 'latestEpoch' | 'epoch';

export type KtToThread =
  /** Journal records up to `upTo` belong to durable batches: drain them. */
  | { type: 'journal'; upTo: number }
  /** A read of the log, answered once every record up to `after` is appended. */
  | { type: 'call'; id: number; method: KtReadMethod; args: unknown[]; after: number }
  /** A call of the verifiable map's store (storage/kt-map.ts), whose tables the key-log process keeps too. */
  | { type: 'map'; id: number; method: KtMapMethod; args: unknown[] }
  /** Start a module beside the log (storage/log-host.ts) as host number `host`; the reply says it started. */
  | { type: 'host'; id: number; host: number; url: string; init: unknown }
  /** A call of hosted module `host`; the reply carries its result. */
  | { type: 'hosted'; id: number; host: number; message: unknown }
  | { type: 'close' };

export type KtFromThread =
  | { type: 'ready'; cursor: number }
  | { type: 'open-failed'; error: SerializedError }
  /** Every journal record up to `cursor` is appended (and synced) in the transparency file. */
  | { type: 'drained'; cursor: number }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: SerializedError }
  | { type: 'fatal'; error: SerializedError }
  /** A message hosted module `host` posted of its own accord. */
  | { type: 'hosted'; host: number; message: unknown }
  | { type: 'closed' };
