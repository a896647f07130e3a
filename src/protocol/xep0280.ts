// XEP-0280 — Message Carbons, version 1.0.1: enabling, which messages are copied (§6.1), and the
// <sent/>/<received/> wrappers.
import { x, type Element } from '../xml/index.ts';
import { messageType } from './rfc6121.ts';
import { NS_HINTS } from './xep0334.ts';
import { forwarded, clientCopy } from './xep0297.ts';

export const NS_CARBONS = 'urn:xmpp:carbons:2';

const NS_RECEIPTS = 'urn:xmpp:receipts';
const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';
const NS_MARKERS = 'urn:xmpp:chat-markers:0';
const NS_CONFERENCE = 'jabber:x:conference';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_MAM = 'urn:xmpp:mam:2';

/** A copy made by a server (a carbon or an archive result) is never copied again. */
export function isForwardedCopy(message: Element): boolean {
  return message.getChild('sent', NS_CARBONS) !== undefined || message.getChild('received', NS_CARBONS) !== undefined || message.getChild('result', NS_MAM) !== undefined;
}

/**
 * §6.1 and §8: chat; normal with a body; receipts, chat states, markers; invitations (XEP-0249, mediated) —
 * not groupchat, not what the sender marked <private/> with or without <no-copy/>, not copies. Errors are
 * not copied: telling which message one answers would need the original. `inbound` leaves out a private
 * message from a MUC occupant (§6.1: the MUC service already sends it to every joined client).
 */
export function carbonEligible(message: Element, inbound: boolean): boolean {
  if (message.getChild('private', NS_CARBONS) || message.getChild('no-copy', NS_HINTS) || isForwardedCopy(message)) return false;
  const type = messageType(message.attrs.type);
  if (type === 'groupchat' || type === 'error') return false;
  const mucUser = message.getChild('x', NS_MUC_USER);
  if (mucUser && mucUser.getChild('invite', NS_MUC_USER)) return true;
  if (inbound && mucUser) return false;
  if (type === 'chat') return true;
  if (type === 'normal' && message.getChild('body')) return true;
  return message.elements.some((e) => e.ns === NS_RECEIPTS || e.ns === NS_CHATSTATES || e.ns === NS_MARKERS || e.ns === NS_CONFERENCE);
}

/** The copy for one of the account's resources: from the bare JID, same type, the original inside. */
export function carbon(kind: 'sent' | 'received', original: Element, accountBare: string): Element {
  return x('message', { from: accountBare, type: original.attrs.type },
    x(kind, { xmlns: NS_CARBONS }, forwarded(clientCopy(original))));
}
