// RFC 6121 §8.5.2.1.1: which resources a message to a bare JID reaches. Written once for the router, which
// delivers by it, and for modules that must know who did not get a message (carbons).
import type { MessageType } from '../../protocol/rfc6121.ts';

/** Chat and headline go to every available non-negative resource, normal to those of the highest priority. */
export function messageRecipients<T extends { available: boolean; priority: number }>(resources: readonly T[], type: MessageType): T[] {
  const avail = resources.filter((s) => s.available && s.priority >= 0);
  if (type !== 'normal' || avail.length <= 1) return avail;
  const top = Math.max(...avail.map((s) => s.priority));
  return avail.filter((s) => s.priority === top);
}
