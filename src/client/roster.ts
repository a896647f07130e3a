// RFC 6121 rosters and presence subscriptions, as far as key publishing needs them: read the roster (for
// access decisions on direct key requests), put a contact in groups, and run the subscription handshake.
import { x, type Element } from '../xml/index.ts';
import { tryParseJid } from '../jid/index.ts';
import { NS_ROSTER } from '../protocol/rfc6121.ts';
import { StanzaError } from '../protocol/rfc6120.ts';
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

/**
 * The user's roster, read once and then kept current by roster pushes (RFC 6121 §2.1.6), for decisions that
 * must follow the roster while a client stays online (who may request our key directly): a copy read once
 * would go on granting a contact the user has since moved out of the allowed group.
 */
export class RosterMirror {
  private readonly entries = new Map<string, RosterEntry>();
  /** Contacts a push changed while the initial roster was on its way: the push is newer. */
  private readonly pushedEarly = new Set<string>();
  private readonly loaded: Promise<void>;

  constructor(private readonly client: XmppClient) {
    client.handleIq('set', 'query', NS_ROSTER, (iq) => this.onPush(iq));
    // The roster get also tells the server to send us pushes (RFC 6121 §2.1.6: "interested resource").
    this.loaded = getRoster(client).then((list) => {
      for (const e of list) if (!this.pushedEarly.has(e.jid)) this.entries.set(e.jid, e);
      this.pushedEarly.clear();
    });
  }

  async list(): Promise<RosterEntry[]> {
    await this.loaded;
    return [...this.entries.values()];
  }

  private onPush(iq: Element): void {
    // §2.1.6: a push not from the user's own account (or the server, without 'from') is someone's forgery.
    const from = iq.attrs.from;
    if (from !== undefined && tryParseJid(from)?.bare !== this.client.jid.bare) throw new StanzaError('service-unavailable');
    for (const item of iq.getChild('query', NS_ROSTER)?.getChildren('item', NS_ROSTER) ?? []) {
      const e = parseRosterItem(item);
      if (!e) continue;
      this.pushedEarly.add(e.jid);
      if (e.subscription === 'remove') this.entries.delete(e.jid);
      else this.entries.set(e.jid, e);
    }
  }
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
