// What becomes of stanzas a session never got to its client, when it ends: the unacknowledged ones
// (XEP-0198 §4: "in the same way that it would treat a stanza sent to an unavailable resource", with a
// XEP-0203 stamp of the original delivery) and the ones XEP-0352 held back. RFC 6121 §8.5.3.2 and §8.5.3.1:
// - message normal/chat: offered again (its 'to' unchanged: the router sends a full JID that is gone to the
//   bare JID), so another resource or offline storage gets it; one addressed to the bare JID is dropped when
//   the account's other available resources already got their own copy (chat goes to all of them);
// - message groupchat: service-unavailable to the sender; headline and error: dropped. PEP notifications
//   are headlines: nothing is lost by dropping them, since the client's next initial presence (with its
//   +notify caps) brings the last published item of every node it follows (XEP-0163 §4.3.4);
// - IQ get/set: answered with service-unavailable on the client's behalf; IQ result/error: dropped;
// - presence: dropped (the contact's presence is probed again at the next initial presence, RFC 6121 §4.3).
import { parseXml, x, type Element } from '../../../xml/index.ts';
import { StanzaError, errorReply } from '../../../protocol/rfc6120.ts';
import { messageType } from '../../../protocol/rfc6121.ts';
import { NS_DELAY } from '../../../protocol/xep0203.ts';
import { bareOf, resourceOf } from '../../../jid/index.ts';
import type { SessionDirectory } from '../../../cluster/index.ts';
import type { Logger } from '../logger.ts';
import type { Outbound } from './unacked-queue.ts';

export interface UndeliveredDeps {
  sessions: SessionDirectory;
  /** Routes a stanza as if it arrived from its 'from' (the stanza router's route()). */
  route(stanza: Element): Promise<void>;
  logger: Logger;
}

export async function handleUndelivered(items: readonly Outbound[], domain: string, d: UndeliveredDeps): Promise<void> {
  for (const { data, at } of items) {
    let el: Element;
    try {
      el = parseXml(data);
    } catch (err) {
      d.logger.error({ err }, 'dropping an undelivered stanza that does not parse');
      continue;
    }
    const again = disposition(el, d.sessions);
    if (!again) continue;
    if (again === el && !el.getChild('delay', NS_DELAY)) el.append(x('delay', { xmlns: NS_DELAY, from: domain, stamp: new Date(at).toISOString() }));
    try {
      await d.route(again);
    } catch (err) {
      d.logger.error({ err }, 'routing an undelivered stanza failed');
    }
  }
}

/** The stanza to route instead of the one that was not delivered (itself, an error reply) or undefined to drop it. */
function disposition(el: Element, sessions: SessionDirectory): Element | undefined {
  const type = el.attrs.type;
  if (!el.attrs.from || !el.attrs.to) return undefined;
  switch (el.name) {
    case 'message': {
      const t = messageType(type);
      if (t === 'groupchat') return errorReply(el, new StanzaError('service-unavailable'));
      if (t !== 'normal' && t !== 'chat') return undefined;
      const to = el.attrs.to;
      if (resourceOf(to) === undefined && t === 'chat') {
        // Chat to the bare JID went to every available resource of non-negative priority (RFC 6121 §8.5.2.1.1).
        if (sessions.resources(bareOf(to)).some((s) => s.available && s.priority >= 0)) return undefined;
      }
      return el;
    }
    case 'iq':
      return type === 'get' || type === 'set' ? errorReply(el, new StanzaError('service-unavailable')) : undefined;
    default:
      return undefined;
  }
}
