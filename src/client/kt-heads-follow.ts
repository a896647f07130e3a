// Following a domain's tree heads as they are published (docs/transparency.md "Publication of heads"):
// subscribe this full JID to the heads node of the domain's own pubsub service and call back at each
// notification. A domain that refuses the subscription (or a service without it) is polled instead, every
// `pollMs`. The callback only says "there may be a new head": the caller fetches and verifies it, so a
// notification proves nothing by itself and a lost one is caught up by the next.
import { x, type Element } from '../xml/index.ts';
import { parseJid } from '../jid/index.ts';
import { NS_PUBSUB } from '../protocol/xep0060.ts';
import { KT_HEADS_NODE } from '../transparency/protocol.ts';
import type { XmppClient } from './client.ts';
import { IqError } from './errors.ts';
import { parsePepEvent } from './pubsub.ts';

export interface HeadFollower {
  mode: 'subscribed' | 'polling';
  /** Why the subscription was not possible, when polling. */
  reason?: string;
  stop(): Promise<void>;
}

/** `node`: the tree heads node by default; the map heads node (map-protocol.ts KT_MAP_HEADS_NODE) is followed the same way. */
export async function followHeads(client: XmppClient, domain: string, onHead: () => void, opts: { pollMs: number; timeoutMs?: number; node?: string }): Promise<HeadFollower> {
  const me = client.jid.full;
  const node = opts.node ?? KT_HEADS_NODE;
  const subscription = (verb: 'subscribe' | 'unsubscribe') =>
    x('iq', { type: 'set', to: domain }, x('pubsub', { xmlns: NS_PUBSUB }, x(verb, { node, jid: me })));
  const onMessage = (m: Element) => {
    const ev = parsePepEvent(m);
    if (ev && ev.node === node && parseJid(ev.from).bare === domain && ev.items.length) onHead();
  };
  try {
    await client.iq(subscription('subscribe'), opts.timeoutMs);
  } catch (e) {
    if (!(e instanceof IqError)) throw e;
    const timer = setInterval(onHead, opts.pollMs);
    return { mode: 'polling', reason: e.message, stop: async () => clearInterval(timer) };
  }
  client.on('message', onMessage);
  return {
    mode: 'subscribed',
    async stop() {
      client.off('message', onMessage);
      // Best effort: a subscription left behind only costs the server a notification to an offline resource.
      if (client.isOpen) await client.iq(subscription('unsubscribe'), opts.timeoutMs).catch(() => undefined);
    },
  };
}
