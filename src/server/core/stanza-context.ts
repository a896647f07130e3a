// One request context: built once by the session that received a stanza, it travels through the router's
// hooks to the IQ handler that answers it (and, for PEP, on to the pubsub layer), in the manner of xmpp.js
// middleware. Stanzas the server originates get one too, with nothing to pipeline.
import type { Element } from '../../xml/index.ts';
import type { Jid } from '../../jid/index.ts';
import type { ModuleSession } from '../../cluster/index.ts';

export interface StanzaContext {
  readonly stanza: Element;
  /** Sender, as stamped by the server. */
  readonly from: Jid;
  /** Parsed 'to', or undefined when the stanza has none (the router then addresses the sender's account). */
  to: Jid | undefined;
  /** The local client session that sent it, when it came from one. */
  readonly origin?: ModuleSession;
  /**
   * "May proceed": lets the sender's session start its next stanza once every state change this one makes
   * has been issued to storage, in order (pipeline.ts). A no-op unless the session pipelines this stanza;
   * not calling it is always correct, just slower.
   */
  readonly proceed: () => void;
  /** Settles once the sender's earlier pipelined stanzas have completed; a reply to this one waits for it. */
  readonly previous?: Promise<void>;
}

export interface AddressedContext extends StanzaContext {
  to: Jid;
}

/** What an IQ get/set handler gets: the context, with the IQ's single child and type. */
export interface IqContext extends AddressedContext {
  /** The single child of the IQ. */
  readonly payload: Element;
  readonly type: 'get' | 'set';
}

/** The `proceed` of a stanza that is not pipelined: it has the session to itself until it completes. */
export const NOT_PIPELINED = (): void => {};
