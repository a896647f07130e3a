// The events the core fires for modules. Handlers returning true consume the event (see hooks.ts).
import type { Element } from '../../xml/index.ts';
import type { Jid } from '../../jid/index.ts';
import type { C2sSession } from './c2s-session.ts';
import type { StreamError } from '../../protocol/rfc6120.ts';
import type { PipelineSlot } from './pipeline.ts';
import type { RosterItem } from '../../storage/types.ts';

export interface StanzaEvent {
  stanza: Element;
  /** Sender, as stamped by the server. */
  from: Jid;
  /** Parsed 'to', or undefined when the stanza has none. */
  to: Jid | undefined;
  /** The local client session that sent it, when it came from one. */
  origin?: C2sSession;
  /** Set when the sender's session pipelines this stanza (pipeline.ts). */
  pipeline?: PipelineSlot;
}

export interface AddressedStanzaEvent extends StanzaEvent {
  to: Jid;
}

export interface ServerEvents {
  /** A resource was bound. */
  'session-bound': { session: C2sSession };
  /** A bound session ended, cleanly or not. */
  'session-closed': { session: C2sSession; error?: StreamError };
  /** Stanzas sent by a local client, before routing (RFC 6121 "outbound" processing). */
  'outgoing/presence': StanzaEvent;
  'outgoing/message': StanzaEvent;
  'outgoing/iq': StanzaEvent;
  /** Presence addressed to a local account (bare or full JID), before default delivery ("inbound" processing). */
  'incoming/presence': AddressedStanzaEvent;
  /** Message to a local account's bare JID (or to an unavailable full JID), before default delivery. */
  'incoming/message': AddressedStanzaEvent;
  /** A message for an account with no available resource; a module that stores it returns true. */
  'message/offline': AddressedStanzaEvent;
  /** Message or presence addressed to a served domain itself. */
  'host/message': AddressedStanzaEvent;
  'host/presence': AddressedStanzaEvent;
  /** Fired by the presence module: a session sent available presence; `initial` on its first one (RFC 6121 §4.2). */
  'presence/available': { session: C2sSession; initial: boolean };
  /** Fired by the presence module when a session becomes unavailable. */
  'presence/unavailable': { session: C2sSession };
  /** Fired by the roster module after an item changed or was removed (item undefined). */
  'roster/changed': { owner: string; contact: string; item: RosterItem | undefined; previous: RosterItem | undefined };
  /** Fired by the caps module when a session's entity capabilities became known or changed. */
  'caps/changed': { session: C2sSession };
}
