// Work run beside the key-transparency log, where a storage keeps it in a process of its own (SQLite's key-log
// process, storage/sqlite/kt-process.ts): a module there reads the log and the verifiable map's store
// locally, instead of through the event loop one message per read and per write. The transparency module
// builds its map epochs this way (server/modules/transparency/map-host.ts): each epoch's leaves, entries and
// reads of the stored map otherwise crossed the event loop, which is what publishes wait for.
import type { KtMapStore } from './kt-map.ts';
import type { TransparencyStore } from './types.ts';

/** The event loop's side of a hosted module. */
export interface LogHostChannel {
  /** Sends `message` to the module's call handler; settles with its result (or its error). */
  call<T = unknown>(message: unknown): Promise<T>;
  /** Messages the module posts of its own accord, in the order posted, each before a later call's reply. */
  onMessage(handler: (message: unknown) => void): void;
}

export interface LogHost {
  /**
   * Starts the module at `moduleUrl` (a file URL; it exports `startHosted(context)`) in the log's process, with
   * `init` (the structured clone of it). Calls wait until it has started; a module that fails to start fails them.
   */
  host(moduleUrl: string, init: unknown): LogHostChannel;
}

/** What a hosted module gets: the log and map stores of its process, and its channel to the event loop. */
export interface LogHostContext {
  log: TransparencyStore;
  map: KtMapStore;
  init: unknown;
  post(message: unknown): void;
  /** The handler of the event loop's calls (one per module). */
  onCall(handler: (message: unknown) => Promise<unknown>): void;
  /** Run, and awaited, before the log's process closes its files (a stop of the storage). */
  onClose(handler: () => Promise<void>): void;
}

/** The export a hosted module provides. */
export type StartHosted = (context: LogHostContext) => void | Promise<void>;
