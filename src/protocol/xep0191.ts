// XEP-0191 — Blocking Command (Simple Communications Blocking), version 1.1.
import { x, type Element } from '../xml/index.ts';
import { StanzaError } from './rfc6120.ts';
import { jidParts } from '../jid/index.ts';

export const NS_BLOCKING = 'urn:xmpp:blocking';
export const NS_BLOCKING_ERRORS = 'urn:xmpp:blocking:errors';

/** §5.3: what the user gets for a stanza addressed to an entity it blocks. */
export function blockedError(): StanzaError {
  return new StanzaError('not-acceptable', undefined, 'cancel', x('blocked', { xmlns: NS_BLOCKING_ERRORS }));
}

/** `<block/>`, `<unblock/>` or `<blocklist/>` with one item per JID. */
export function blockingElement(name: 'block' | 'unblock' | 'blocklist', jids: readonly string[]): Element {
  return x(name, { xmlns: NS_BLOCKING }, jids.map((jid) => x('item', { jid })));
}

/**
 * §4 JID matching, in the order of XEP-0016: does the item cover the entity (a normalised JID string)? It
 * does when it names the entity's full JID, its bare JID, or its domain (or a parent domain of it).
 */
export function itemMatches(item: string, entity: string): boolean {
  // A full JID, bare JID or domain/resource item covers exactly that address.
  if (item === entity) return true;
  const { local, domain, resource } = jidParts(entity);
  // A bare JID item covers every resource of it.
  if (local !== undefined && resource !== undefined && item === `${local}@${domain}`) return true;
  // A domain item covers everything at that domain and its subdomains.
  return item === domain || domain.endsWith(`.${item}`);
}
