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
 * §4 JID matching, in the order of XEP-0016: the item matches the entity (a normalised JID string) when it names its full JID, its bare
 * JID, its domain with its resource, or its domain (or a parent domain of it).
 */
export function itemMatches(item: string, entity: string): boolean {
  if (item === entity) return true;
  const { local, domain, resource } = jidParts(entity);
  if (local !== undefined && resource !== undefined && item === `${local}@${domain}`) return true;
  if (resource !== undefined && item === `${domain}/${resource}`) return true;
  return item === domain || domain.endsWith(`.${item}`);
}
