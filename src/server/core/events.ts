// The events the core fires for modules. Handlers returning true consume the event (see hooks.ts). A
// module that fires events of its own declares them by augmenting ServerEvents in its own file (as
// Fastify plugins augment its types) and lists them in its definition's `fires`.
import type { ModuleSession } from '../../cluster/index.ts';
import type { StreamError } from '../../protocol/rfc6120.ts';
import type { AddressedContext, StanzaContext } from './stanza-context.ts';

export interface ServerEvents {
  /** A resource was bound. */
  'session-bound': { session: ModuleSession };
  /** A bound session ended, cleanly or not. */
  'session-closed': { session: ModuleSession; error?: StreamError };
  /** Stanzas sent by a local client, before routing (RFC 6121 "outbound" processing). */
  'outgoing/presence': StanzaContext;
  'outgoing/message': StanzaContext;
  'outgoing/iq': StanzaContext;
  /** Presence addressed to a local account (bare or full JID), before default delivery ("inbound" processing). */
  'incoming/presence': AddressedContext;
  /**
   * Message to a local account, before default delivery: to its bare JID (also for an unavailable full JID,
   * then addressed to the bare JID), or to the full JID of a bound resource.
   */
  'incoming/message': AddressedContext;
  /** A message for an account with no available resource; a module that stores it returns true. */
  'message/offline': AddressedContext;
  /** Message or presence addressed to a served domain itself. */
  'host/message': AddressedContext;
  'host/presence': AddressedContext;
  /** A failed SASL authentication, with its SASL condition (RFC 6120 §6.5) as the reason. */
  'auth/failed': { ip: string; condition: string; account?: string };
  /**
   * An account is being deleted (core/account-lifecycle.ts): it can no longer log in and its sessions are
   * closed. Each module deletes, and announces, its own data about it; the account's store records go last.
   */
  'account/deleted': { jid: string };
  /**
   * A stanza for a session on another cluster node did not get there: its session was 'gone' or its node
   * 'unreachable'; `outcome` says what became of it (RFC 6121 §8.5.3: rerouted to the bare JID, bounced to
   * its sender, or dropped: presence, errors, and notifications from a service no session answers for).
   */
  'cluster/undeliverable': { to: string; kind: 'message' | 'headline' | 'presence' | 'iq'; reason: 'gone' | 'unreachable'; outcome: 'rerouted' | 'bounced' | 'dropped' };
}

