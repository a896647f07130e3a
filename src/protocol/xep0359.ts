// XEP-0359 — Unique and Stable Stanza IDs, version 0.7: the <stanza-id/> an archiving entity adds to a
// message, naming itself in 'by'.
import { randomBytes } from 'node:crypto';
import { x, type Element } from '../xml/index.ts';

export const NS_SID = 'urn:xmpp:sid:0';

// Random bytes drawn 3 KiB at a time: one call per message cost more than the rest of the id.
let pool = Buffer.alloc(0);
let used = 0;

/** 96 random bits: unique and unpredictable within an archive (XEP-0359 §4, XEP-0313 §3). */
export function newStanzaId(): string {
  if (used + 12 > pool.length) {
    pool = randomBytes(12 * 256);
    used = 0;
  }
  used += 12;
  return pool.subarray(used - 12, used).toString('base64url');
}

/**
 * §5: an entity must not trust a <stanza-id/> in its own name that it did not add itself. Removes every
 * <stanza-id/> whose 'by' the predicate claims; returns how many.
 */
export function stripStanzaIds(message: Element, claimedBy: (by: string) => boolean): number {
  let n = 0;
  for (const el of message.getChildren('stanza-id', NS_SID)) {
    if (claimedBy(el.attrs.by ?? '')) {
      message.remove(el);
      n++;
    }
  }
  return n;
}

export function stanzaId(by: string, id: string): Element {
  return x('stanza-id', { xmlns: NS_SID, by, id });
}
