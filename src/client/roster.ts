// RFC 6121 rosters and presence subscriptions, as far as key publishing needs them: read the roster (for
// access decisions on direct key requests), put a contact in groups, and run the subscription handshake.
import { x, type Element } from '../xml/index.ts';
import { tryParseJid } from '../jid/index.ts';
import { NS_ROSTER } from '../protocol/rfc6121.ts';
import type { XmppClient } from './client.ts';

export type Subscription = 'none' | 'to' | 'from' | 'both' | 'remove';

export interface RosterEntry {
  jid: string;
  name?: string;
  subscription: Subscription;
  ask?: 'subscribe';
  groups: string[];
}

export function parseRosterItem(item: Element): RosterEntry | undefined {
  const jid = tryParseJid(item.attrs.jid)?.bare;
  if (!jid) return undefined;
  const e: RosterEntry = { jid, subscription: (item.attrs.subscription as Subscription) ?? 'none', groups: item.getChildren('group', NS_ROSTER).map((g) => g.text()) };
  if (item.attrs.name !== undefined) e.name = item.attrs.name;
  if (item.attrs.ask === 'subscribe') e.ask = 'subscribe';
  return e;
}

export async function getRoster(client: XmppClient): Promise<RosterEntry[]> {
  const r = await client.iq(x('iq', { type: 'get' }, x('query', { xmlns: NS_ROSTER })));
  return (r.getChild('query', NS_ROSTER)?.getChildren('item', NS_ROSTER) ?? []).map(parseRosterItem).filter((e): e is RosterEntry => !!e);
}

export async function setRosterItem(client: XmppClient, jid: string, opts: { name?: string; groups?: string[] } = {}): Promise<void> {
  await client.iq(x('iq', { type: 'set' }, x('query', { xmlns: NS_ROSTER }, x('item', { jid, name: opts.name }, (opts.groups ?? []).map((g) => x('group', null, g))))));
}

/** RFC 6121 §3.1: asks `jid` for a subscription to its presence. */
export function subscribe(client: XmppClient, jid: string): void {
  client.sendPresenceTo(jid, 'subscribe');
}

/**
 * Approves incoming subscription requests for which `accept` says yes (and subscribes back when `mutual`),
 * as a contact's client would after asking its user. Returns a function that stops doing so.
 */
export function autoApprove(client: XmppClient, accept: (from: string) => boolean, mutual = true): () => void {
  const asked = new Set<string>();
  const on = (p: Element) => {
    const from = tryParseJid(p.attrs.from)?.bare;
    if (!from || p.attrs.type !== 'subscribe' || !accept(from)) return;
    client.sendPresenceTo(from, 'subscribed');
    if (mutual && !asked.has(from)) {
      asked.add(from);
      client.sendPresenceTo(from, 'subscribe');
    }
  };
  client.on('presence', on);
  return () => client.off('presence', on);
}
