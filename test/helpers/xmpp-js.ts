// @xmpp/client (xmpp.js) as an independent peer: a client library we did not write, logging in over
// STARTTLS with SCRAM-SHA-1 (the only SCRAM it has).
import * as nodeCrypto from 'node:crypto';
import { client, xml } from '@xmpp/client';
import type { Element as XjsElement } from '@xmpp/xml';
import { WebSocket as WsWebSocket } from 'ws';

// The test server's certificate is self-signed; only this test process trusts it blindly.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
process.removeAllListeners('warning');

// @xmpp/websocket uses the global WebSocket, which Node 20 has only behind a flag: ws stands in for it.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WsWebSocket;

export { xml };
export type { XjsElement };

export interface Peer {
  xmpp: ReturnType<typeof client>;
  jid: string;
  received: XjsElement[];
  waitFor(pred: (el: XjsElement) => boolean, timeoutMs?: number): Promise<XjsElement>;
  /** Asserts nothing matching arrives within the window (used sparingly, for "must not be delivered"). */
  none(pred: (el: XjsElement) => boolean, windowMs?: number): Promise<void>;
  iq(el: XjsElement): Promise<XjsElement>;
  stop(): Promise<void>;
}

export async function connectPeer(opts: {
  port: number; domain: string; username: string; password: string; resource?: string; onOnline?: (x: ReturnType<typeof client>) => void;
  /** Another service URL, e.g. the test server's web.wsUrl (port is then ignored). */
  service?: string;
}): Promise<Peer> {
  const xmpp = client({
    service: opts.service ?? `xmpp://127.0.0.1:${opts.port}`,
    domain: opts.domain,
    username: opts.username,
    password: opts.password,
    resource: opts.resource,
    // xmpp.js waits 2 s by default for each step; a loaded CI machine running tests in parallel needs more.
    timeout: 15_000,
  });
  xmpp.reconnect.stop();
  xmpp.on('error', () => {});
  const received: XjsElement[] = [];
  const waiters: { pred: (el: XjsElement) => boolean; resolve: (el: XjsElement) => void }[] = [];
  xmpp.on('stanza', (el: XjsElement) => {
    const i = waiters.findIndex((w) => w.pred(el));
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(el);
    else received.push(el);
  });
  const address = await xmpp.start();
  const peer: Peer = {
    xmpp,
    jid: address.toString(),
    received,
    waitFor(pred, timeoutMs = 15_000) {
      const i = received.findIndex(pred);
      if (i >= 0) return Promise.resolve(received.splice(i, 1)[0]!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${peer.jid}: timed out waiting for a stanza; queued: ${received.map(String).join('\n')}`)), timeoutMs);
        waiters.push({ pred, resolve: (el) => (clearTimeout(timer), resolve(el)) });
      });
    },
    async none(pred, windowMs = 300) {
      await new Promise((r) => setTimeout(r, windowMs));
      const hit = received.find(pred);
      if (hit) throw new Error(`${peer.jid}: unexpected stanza ${hit.toString()}`);
    },
    iq: (el) => xmpp.iqCaller.request(el, 5000),
    async stop() {
      await xmpp.stop().catch(() => {});
    },
  };
  return peer;
}

const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const CAPS_NODE = 'https://pepkeys.example/test-client';

/**
 * Makes the peer answer disco#info for its XEP-0115 caps and returns the <c/> element to put in presence.
 * The ver is computed here by the XEP-0115 §5.1 rules for one identity and the given features.
 */
export function advertiseCaps(peer: Peer, features: string[]): XjsElement {
  const { createHash } = nodeCrypto;
  const all = [...new Set([NS_DISCO_INFO, ...features])].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const s = `client/pc//test<${all.map((f) => `${f}<`).join('')}`;
  const ver = createHash('sha1').update(s).digest('base64');
  peer.xmpp.iqCallee.get(NS_DISCO_INFO, 'query', (ctx: { element: XjsElement }) =>
    xml('query', { xmlns: NS_DISCO_INFO, node: ctx.element.attrs.node }, xml('identity', { category: 'client', type: 'pc', name: 'test' }), ...all.map((f) => xml('feature', { var: f }))));
  return xml('c', { xmlns: 'http://jabber.org/protocol/caps', hash: 'sha-1', node: CAPS_NODE, ver });
}

