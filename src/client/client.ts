// XmppClient: a negotiated Connection plus what every application needs on top — IQ correlation and
// timeouts, handlers for incoming IQs (unknown ones answered service-unavailable, RFC 6120 §8.4), disco#info
// about ourselves (XEP-0030) with caps (XEP-0115) in every presence we send, and message/presence events.
import { EventEmitter } from 'node:events';
import { x, type Element } from '../xml/index.ts';
import type { Jid } from '../jid/index.ts';
import { NS_CLIENT, StanzaError, errorReply, iqResult } from '../protocol/rfc6120.ts';
import { NS_DISCO_INFO, type DiscoIdentity } from '../protocol/xep0030.ts';
import { Connection, type ConnectOptions } from './connection.ts';
import { ClientError } from './errors.ts';
import { IqTracker } from './iq.ts';
import { DEFAULT_CAPS_NODE, answersNode, capsElement, discoInfoResult, type CapsSpec } from './caps.ts';

export interface ClientOptions extends ConnectOptions {
  identity?: DiscoIdentity;
  /** Disco features besides disco#info itself. */
  features?: string[];
  capsNode?: string;
  iqTimeoutMs?: number;
}

export type IqHandler = (iq: Element) => Element | undefined | void | Promise<Element | undefined | void>;

export interface ClientEvents {
  message: [Element];
  presence: [Element];
  /** Every incoming stanza, before dispatch. */
  stanza: [Element];
  close: [ClientError | undefined];
  /** Someone (usually our server, XEP-0115 §6.2) asked for the features behind our current caps. */
  'caps-queried': [string];
}

export class XmppClient extends EventEmitter<ClientEvents> {
  readonly caps: CapsSpec;
  private readonly iqs: IqTracker;
  private readonly handlers = new Map<string, IqHandler>();
  private presenceChildren: Element[] = [];
  private presenceSent = false;
  private constructor(readonly connection: Connection, opts: ClientOptions) {
    super();
    this.iqs = new IqTracker(() => connection.jid, opts.iqTimeoutMs ?? 15_000);
    this.caps = {
      node: opts.capsNode ?? DEFAULT_CAPS_NODE,
      identities: [opts.identity ?? { category: 'client', type: 'pc', name: 'pepkeys' }],
      features: [NS_DISCO_INFO, ...(opts.features ?? [])],
    };
    this.handleIq('get', 'query', NS_DISCO_INFO, (iq) => {
      const node = iq.getChild('query', NS_DISCO_INFO)!.attrs.node;
      // XEP-0115 §6.2: a query for node#ver we do not (or no longer) advertise is item-not-found.
      if (!answersNode(this.caps, node)) throw new StanzaError('item-not-found');
      const result = discoInfoResult(this.caps, node);
      if (node !== undefined) setTimeout(() => this.emit('caps-queried', iq.attrs.from ?? ''), 0); // after our answer went out (setTimeout: the browser has no setImmediate)
      return result;
    });
    connection.on('stanza', (el) => this.dispatch(el));
    connection.on('close', (err) => {
      this.iqs.rejectAll(err ?? new ClientError('closed', 'the connection is closed'));
      this.emit('close', err);
    });
  }

  static async connect(opts: ClientOptions): Promise<XmppClient> {
    return new XmppClient(await Connection.open(opts), opts);
  }

  get jid(): Jid {
    return this.connection.jid;
  }

  get isOpen(): boolean {
    return this.connection.isOpen;
  }

  send(el: Element): void {
    this.connection.send(el);
  }

  /** Sends an IQ get/set and resolves with the result stanza; rejects with IqError or a timeout. */
  iq(el: Element, timeoutMs?: number): Promise<Element> {
    if (el.name !== 'iq' || (el.attrs.type !== 'get' && el.attrs.type !== 'set')) throw new Error('iq() needs <iq type="get|set"/>');
    const p = this.iqs.track(el, timeoutMs);
    this.send(el);
    return p;
  }

  /** Registers the handler for incoming IQs of `type` whose payload is <local xmlns=ns/>. */
  handleIq(type: 'get' | 'set', local: string, ns: string, handler: IqHandler): void {
    this.handlers.set(`${type} ${local} ${ns}`, handler);
  }

  /** Adds disco features (e.g. `urn:xmpp:pubkey:2+notify`); re-announces caps if presence was sent. */
  setFeatures(add: string[], remove: string[] = []): void {
    const before = this.caps.features.join('\n');
    const set = new Set(this.caps.features);
    for (const f of remove) set.delete(f);
    for (const f of add) set.add(f);
    this.caps.features = [...set];
    if (this.presenceSent && before !== this.caps.features.join('\n')) this.sendPresence(this.presenceChildren);
  }

  /** True once we have sent available presence (RFC 6121 §4.2): only then does the server tell us contacts' presence. */
  get available(): boolean {
    return this.presenceSent;
  }

  /** Broadcasts available presence carrying our caps and the given extensions (e.g. XEP-0189 <generating/>). */
  sendPresence(children: Element[] = []): void {
    this.presenceChildren = children;
    this.presenceSent = true;
    this.send(x('presence', null, capsElement(this.caps), ...children));
  }

  /** Sends a directed presence / subscription stanza. */
  sendPresenceTo(to: string, type?: string): void {
    this.send(x('presence', { to, type }));
  }

  async close(): Promise<void> {
    if (!this.connection.isOpen) return;
    // RFC 6121 §4.5.1: unavailable presence before closing, so contacts see us go.
    if (this.presenceSent) {
      try {
        this.send(x('presence', { type: 'unavailable' }));
      } catch {
        /* closed meanwhile */
      }
    }
    await this.connection.close();
  }

  private dispatch(el: Element): void {
    if (el.ns !== NS_CLIENT) return;
    this.emit('stanza', el);
    switch (el.name) {
      case 'iq':
        return void this.onIq(el);
      case 'message':
        this.emit('message', el);
        return;
      case 'presence':
        this.emit('presence', el);
        return;
    }
  }

  private async onIq(iq: Element): Promise<void> {
    const type = iq.attrs.type;
    if (type === 'result' || type === 'error') {
      this.iqs.settle(iq);
      return;
    }
    if (type !== 'get' && type !== 'set') return;
    const payload = iq.firstElement();
    const handler = payload && this.handlers.get(`${type} ${payload.local} ${payload.ns}`);
    let reply: Element;
    if (!handler) {
      reply = errorReply(iq, new StanzaError('service-unavailable'));
    } else {
      try {
        const out = await handler(iq);
        reply = iqResult(iq, out ?? undefined);
      } catch (e) {
        reply = errorReply(iq, e instanceof StanzaError ? e : new StanzaError('internal-server-error'));
      }
    }
    // The server fills in our full JID as 'from'; ours must not claim anything else.
    delete reply.attrs.from;
    if (this.connection.isOpen) this.send(reply);
  }
}
