// Where sessions live. Modules and the stanza router find sessions only through this interface, so a
// clustered implementation (sessions on other nodes reached over a bus) can replace the in-process one
// without touching them.
import type { Jid } from '../jid/index.ts';
import type { Element } from '../xml/index.ts';

/** What the router needs of a bound session, wherever it runs. */
export interface SessionHandle {
  /** Full JID, set once the resource is bound. */
  readonly jid: Jid;
  /** True between the session's initial available presence and its unavailable presence (RFC 6121 §4.2). */
  readonly available: boolean;
  /** Priority of the last available presence (RFC 6121 §4.7.2.3), 0 by default. */
  readonly priority: number;
  /** Queues a stanza for delivery; serialised strings are written as they are. */
  deliver(stanza: Element | string): void;
}

export interface SessionDirectory {
  /** Registers a bound session; returns the session it replaces (same full JID), if any. */
  register(session: SessionHandle): SessionHandle | undefined;
  unregister(session: SessionHandle): void;
  get(fullJid: string): SessionHandle | undefined;
  /** Every bound session of an account, available or not. */
  resources(bareJid: string): SessionHandle[];
  /** Number of bound sessions on this directory. */
  readonly size: number;
  all(): IterableIterator<SessionHandle>;
}
