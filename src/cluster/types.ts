// Where sessions live and what the rest of the server sees of one. Modules and the stanza router find
// sessions only through this interface, so a clustered implementation (sessions on other nodes reached
// over a bus) or another transport (WebSocket) can stand beside the TCP session without touching them.
import type { Jid } from '../jid/index.ts';
import type { Element } from '../xml/index.ts';
import type { StreamErrorCondition } from '../protocol/rfc6120.ts';

/** What the router needs of a bound session, wherever it runs. */
export interface SessionHandle {
  /** Full JID, set once the resource is bound. */
  readonly jid: Jid;
  /** True between the session's initial available presence and its unavailable presence (RFC 6121 §4.2). */
  readonly available: boolean;
  /** Priority of the last available presence (RFC 6121 §4.7.2.3), 0 by default. */
  readonly priority: number;
  /**
   * Queues a stanza for delivery; serialised strings are written as they are. One stanza per call: stream
   * management counts calls (XEP-0198 'h') and client state indication classifies each (XEP-0352).
   */
  deliver(stanza: Element | string): void;
}

/** Names one module's state on a session, with its type, so no module reads another's state by accident. */
export interface SessionKey<T> {
  readonly name: string;
  /** Never set: carries T for the type checker. */
  readonly type?: T;
  /**
   * Set for state other nodes of a cluster must see on this session (roster interest, caps, carbons): how
   * the value travels as JSON. Without it the state stays on the node that holds the connection.
   */
  readonly shared?: SharedCodec<T>;
}

export interface SharedCodec<T> {
  encode(value: T): unknown;
  decode(json: unknown): T;
}

/** The JSON codec, for values that are JSON already. */
export const asJson: SharedCodec<never> = { encode: (v) => v, decode: (j) => j as never };

export function createSessionKey<T>(name: string, shared?: SharedCodec<T>): SessionKey<T> {
  return shared ? { name, shared } : { name };
}

/**
 * A bound session as modules see it, whatever carries it (a TCP stream today). The presence module keeps
 * availability, priority and the last broadcast presence here; other modules keep their own state under
 * their own key.
 */
export interface ModuleSession extends SessionHandle {
  available: boolean;
  priority: number;
  /** The last available presence broadcast by this resource. */
  presence: Element | undefined;
  /** True once the session has ended; deliveries to it are dropped. */
  readonly isClosed: boolean;
  get<T>(key: SessionKey<T>): T | undefined;
  set<T>(key: SessionKey<T>, value: T): void;
  delete(key: SessionKey<unknown>): void;
  /** Its shared module state (SessionKey.shared), encoded: what other cluster nodes see of it. */
  sharedState?(): Record<string, unknown>;
  /** Ends the session with a stream error (RFC 6120 §4.9), wherever its connection is. */
  end(condition: StreamErrorCondition, text?: string): void;
}

export interface SessionDirectory {
  /** Registers a bound session; returns the session it replaces (same full JID), if any. */
  register(session: ModuleSession): ModuleSession | undefined;
  unregister(session: ModuleSession): void;
  get(fullJid: string): ModuleSession | undefined;
  /** Every bound session of an account, available or not. */
  resources(bareJid: string): ModuleSession[];
  /** Number of bound sessions held by this process (not those of other cluster nodes). */
  readonly size: number;
  /** The sessions held by this process. */
  all(): IterableIterator<ModuleSession>;
  /**
   * Tells the directory that a local session's availability, priority, presence or shared state changed
   * (a clustered directory tells the other nodes).
   */
  changed?(session: ModuleSession): void;
}
