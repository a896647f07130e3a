// What an inactive client (XEP-0352) gets at once and what waits. The XEP leaves the choice to the server
// (§3.2); ours, in the manner of Prosody's mod_csi_simple:
// - at once: IQs (someone waits for the answer), messages a user reads (a body, an encrypted payload, a
//   call proposal, also inside a XEP-0280 carbon), errors, and presence other than availability (a
//   subscription request is the user's to answer);
// - held, the latest only: a PEP notification per publisher and node, availability presence per sender,
//   chat states per sender;
// - held, each in order: the rest (receipts, markers, other headlines).
import type { Element } from '../../../xml/index.ts';

const NS_PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event';
const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';
const NS_CARBONS = 'urn:xmpp:carbons:2';
const NS_FORWARD = 'urn:xmpp:forward:0';
/** Payloads a user reads: OMEMO (legacy and 0.8+), OpenPGP for XMPP, legacy OpenPGP, Jingle message proposals. */
const URGENT_PAYLOADS = new Set(['eu.siacs.conversations.axolotl', 'urn:xmpp:omemo:2', 'urn:xmpp:openpgp:0', 'jabber:x:encrypted', 'urn:xmpp:jingle-message:0']);

/** undefined: send now (after what is held); null: hold in order; a string: hold, replacing what is held under it. */
export type Treatment = string | null | undefined;

export function treatment(el: Element): Treatment {
  const type = el.attrs.type;
  const from = el.attrs.from ?? '';
  switch (el.name) {
    case 'presence':
      return type === undefined || type === 'unavailable' ? `presence ${from}` : undefined;
    case 'message': {
      if (type === 'error' || readable(el)) return undefined;
      for (const c of el.elements) {
        if (c.ns === NS_CARBONS && (c.local === 'sent' || c.local === 'received')) {
          const inner = c.getChild('forwarded', NS_FORWARD)?.getChild('message');
          if (inner && readable(inner)) return undefined;
        }
      }
      const items = el.getChild('event', NS_PUBSUB_EVENT)?.getChild('items');
      if (items?.attrs.node !== undefined) return `pep ${from} ${items.attrs.node}`;
      if (el.elements.length > 0 && el.elements.every((c) => c.ns === NS_CHATSTATES || c.local === 'thread')) return `chatstate ${from}`;
      return null;
    }
    default:
      return undefined;
  }
}

function readable(m: Element): boolean {
  return m.elements.some((c) => c.local === 'body' || URGENT_PAYLOADS.has(c.ns));
}
