// XEP-0198 — Stream Management, version 1.6.3 (2025-07-28): namespace, the 32-bit wrapping counter 'h',
// and the elements the server sends. The session-side logic lives in server/core/stream-management/.
import { x, type Element } from '../xml/index.ts';
import { NS_STANZAS, NS_STREAM_ERRORS, StreamError, type StanzaErrorCondition } from './rfc6120.ts';

export const NS_SM = 'urn:xmpp:sm:3';

/** §4: 'h' is an xs:unsignedInt that wraps from 2^32-1 back to zero. */
export const H_MODULO = 2 ** 32;

/** The counter after one more stanza (§4). */
export function nextH(h: number): number {
  return (h + 1) % H_MODULO;
}

/** How many stanzas `to` is ahead of `from`, both counters modulo 2^32. */
export function hDistance(from: number, to: number): number {
  return (((to - from) % H_MODULO) + H_MODULO) % H_MODULO;
}

/** A valid 'h' attribute value (xs:unsignedInt), or undefined. */
export function parseH(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,10}$/.test(value)) return undefined;
  const n = Number(value);
  return n < H_MODULO ? n : undefined;
}

/** §3, §5: the xs:boolean 'resume' attribute. */
export function isTrue(value: string | undefined): boolean {
  return value === 'true' || value === '1';
}

/** §6: a failed enable or resume, with a stanza error condition, and 'h' when a timed-out session is known (1.5). */
export function failed(condition: StanzaErrorCondition, h?: number): Element {
  return x('failed', { xmlns: NS_SM, h: h === undefined ? undefined : String(h) }, x(condition, { xmlns: NS_STANZAS }));
}

export function ack(h: number): string {
  return `<a xmlns='${NS_SM}' h='${h}'/>`;
}

export const ACK_REQUEST = `<r xmlns='${NS_SM}'/>`;

/** §6: the peer acknowledged more stanzas than it was sent. */
export class HandledCountTooHigh extends StreamError {
  constructor(readonly h: number, readonly sendCount: number) {
    super('undefined-condition', `You acknowledged ${h} stanzas, but I only sent you ${sendCount} so far.`);
  }

  override toElement(): Element {
    return x('stream:error', null,
      x('undefined-condition', { xmlns: NS_STREAM_ERRORS }),
      x('handled-count-too-high', { xmlns: NS_SM, h: String(this.h), 'send-count': String(this.sendCount) }),
      x('text', { xmlns: NS_STREAM_ERRORS, 'xml:lang': 'en' }, this.text));
  }
}
