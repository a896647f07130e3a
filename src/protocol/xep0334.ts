// XEP-0334 — Message Processing Hints, version 0.3.1: what a sender asks of storage and copying.
import type { Element } from '../xml/index.ts';

export const NS_HINTS = 'urn:xmpp:hints';

export type Hint = 'store' | 'no-store' | 'no-permanent-store' | 'no-copy';

export function hasHint(message: Element, hint: Hint): boolean {
  return message.getChild(hint, NS_HINTS) !== undefined;
}
