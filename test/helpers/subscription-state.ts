// What both parties of an RFC 6121 subscription see, read over the wire: each one's roster item for the
// other (roster get) and whether the server would let presence through (a probe is answered only to
// subscribers, so "who receives presence" is checked by the server's own rule).
import assert from 'node:assert/strict';
import type { Element } from '../../src/xml/index.ts';
import type { RawClient } from './raw-client.ts';

export const NS_ROSTER = 'jabber:iq:roster';

export const rosterItems = (iq: Element) => iq.getChild('query', NS_ROSTER)?.getChildren('item') ?? [];
export const isPush = (jid: string) => (el: Element) => el.name === 'iq' && el.attrs.type === 'set' && rosterItems(el)[0]?.attrs.jid === jid;
export const isPresence = (from: string, type?: string) => (el: Element) =>
  el.name === 'presence' && el.attrs.from === from && el.attrs.type === type;

/** A roster item as the client sees it; undefined when there is none. */
export interface SeenItem {
  subscription: string;
  ask?: string;
  approved?: string;
}

export async function rosterItem(c: RawClient, contact: string): Promise<SeenItem | undefined> {
  const r = await c.iq(`<iq type='get'><query xmlns='${NS_ROSTER}'/></iq>`);
  const el = rosterItems(r).find((i) => i.attrs.jid === contact);
  if (!el) return undefined;
  const out: SeenItem = { subscription: el.attrs.subscription ?? 'none' };
  if (el.attrs.ask !== undefined) out.ask = el.attrs.ask;
  if (el.attrs.approved !== undefined) out.approved = el.attrs.approved;
  return out;
}

/**
 * RFC 6121 Appendix A names a state from the user's side: "None", "None + Pending Out", "To + Pending In" …
 * `pendingIn` is whether the server holds the contact's unanswered request (not visible in the roster).
 */
export function stateName(item: SeenItem | undefined, pendingIn: boolean): string {
  const sub = item?.subscription ?? 'none';
  const to = sub === 'to' || sub === 'both';
  const from = sub === 'from' || sub === 'both';
  const out = !to && item?.ask === 'subscribe';
  const inn = !from && pendingIn;
  const base = sub === 'both' ? 'Both' : to ? 'To' : from ? 'From' : 'None';
  const pend = [out ? 'Pending Out' : '', inn ? 'Pending In' : ''].filter(Boolean);
  return pend.length ? `${base} + ${pend.join(' + ')}` : base;
}

/** The two parties agree: a's "to" is b's "from" and the other way round. */
export function assertMirrored(a: SeenItem | undefined, b: SeenItem | undefined, what: string): void {
  const to = (i?: SeenItem) => i?.subscription === 'to' || i?.subscription === 'both';
  const from = (i?: SeenItem) => i?.subscription === 'from' || i?.subscription === 'both';
  assert.equal(to(a), from(b), `${what}: a's subscription to b (${a?.subscription}) and b's from a (${b?.subscription}) disagree`);
  assert.equal(from(a), to(b), `${what}: a's subscription from b (${a?.subscription}) and b's to a (${b?.subscription}) disagree`);
}
