// What goes into a user's archive: which messages (XEP-0313 §5.1.1 with XEP-0334 hints) and, for a given
// conversation partner, what the owner's preferences say (§6.1).
import type { Element } from '../../../xml/index.ts';
import { bareOf } from '../../../jid/index.ts';
import { messageType } from '../../../protocol/rfc6121.ts';
import { hasHint } from '../../../protocol/xep0334.ts';
import { isForwardedCopy } from '../../../protocol/xep0280.ts';
import type { MamPrefs } from '../../../protocol/xep0313.ts';

/**
 * Chat and normal messages with a body, or that the sender asks to store (<store/>); never error, groupchat
 * or headline, nor what the sender asks not to store, nor a copy a server made (carbon, archive result).
 */
export function isArchivable(message: Element): boolean {
  const type = messageType(message.attrs.type);
  if (type !== 'chat' && type !== 'normal') return false;
  if (hasHint(message, 'no-store') || hasHint(message, 'no-permanent-store') || isForwardedCopy(message)) return false;
  return message.getChild('body') !== undefined || hasHint(message, 'store');
}

/**
 * §6.1: a JID in <never/> is never archived, one in <always/> always (an entry names a full JID or, bare,
 * all of its resources); for others the default decides, 'roster' meaning "if the partner is in the roster".
 */
export async function prefsAllow(prefs: MamPrefs, peer: string, inRoster: (bare: string) => Promise<boolean>): Promise<boolean> {
  const bare = bareOf(peer);
  const listed = (list: string[]) => list.includes(peer) || list.includes(bare);
  if (listed(prefs.never)) return false;
  if (listed(prefs.always)) return true;
  if (prefs.default === 'roster') return inRoster(bare);
  return prefs.default === 'always';
}
