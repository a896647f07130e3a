// XEP-0297 — Stanza Forwarding, version 1.0. The <forwarded/> wrapper that carbons (XEP-0280) and archive
// results (XEP-0313) put a copy of a message in.
import { Element, x } from '../xml/index.ts';
import { NS_CLIENT } from './rfc6120.ts';
import { NS_DELAY } from './xep0203.ts';

export const NS_FORWARD = 'urn:xmpp:forward:0';

/**
 * <forwarded> holding `message`, with an optional XEP-0203 delay stamp. The copy carries
 * xmlns='jabber:client' itself: inside <forwarded/> it would otherwise fall into the forward namespace.
 */
export function forwarded(message: Element, stamp?: string): Element {
  return x('forwarded', { xmlns: NS_FORWARD }, stamp !== undefined ? x('delay', { xmlns: NS_DELAY, stamp }) : undefined, message);
}

/** A copy of a stanza as a forwarded message: its own namespace declared, the original untouched. */
export function clientCopy(stanza: Element): Element {
  const copy = stanza.clone();
  copy.attrs.xmlns = NS_CLIENT;
  return copy;
}
