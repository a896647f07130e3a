// A raw RFC 7395 client over the `ws` package, for tests that look at the framing itself: every message
// the server sends is parsed on its own (so it must be a complete, self-namespaced document).
import { WebSocket, type ClientOptions } from 'ws';
import type { IncomingMessage } from 'node:http';
import { parseXml, type Element } from '../../src/xml/index.ts';

export const FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';
export const openFrame = (to: string) => `<open xmlns='${FRAMING}' to='${to}' version='1.0'/>`;

export class WsClient {
  readonly received: { text: string; el: Element }[] = [];
  private waiters: { pred: (el: Element) => boolean; resolve: (el: Element) => void; reject: (e: Error) => void }[] = [];
  /** Close code and reason once the WebSocket has closed. */
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      const el = parseXml(text);
      const i = this.waiters.findIndex((w) => w.pred(el));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(el);
      else this.received.push({ text, el });
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => {
      for (const w of this.waiters.splice(0)) w.reject(new Error(`closed (${code}) while waiting; got ${this.received.map((r) => r.text).join(' ')}`));
      resolve({ code, reason: reason.toString() });
    }));
    ws.on('error', () => {});
  }

  /** Opens the WebSocket (subprotocol xmpp unless told otherwise); rejects with the HTTP status if refused. */
  static connect(url: string, opts: ClientOptions & { protocols?: string[] } = {}): Promise<WsClient> {
    const ws = new WebSocket(url, opts.protocols ?? ['xmpp'], { rejectUnauthorized: false, ...opts });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('unexpected-response', (_req, res: IncomingMessage) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  send(text: string | Buffer, binary = false): void {
    this.ws.send(text, { binary });
  }

  /** The next message matching `pred` (already received ones first). */
  next(pred: (el: Element) => boolean = () => true, timeoutMs = 10_000): Promise<Element> {
    const i = this.received.findIndex((r) => pred(r.el));
    if (i >= 0) return Promise.resolve(this.received.splice(i, 1)[0]!.el);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; got ${this.received.map((r) => r.text).join(' ')}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (el) => (clearTimeout(timer), resolve(el)), reject: (e) => (clearTimeout(timer), reject(e)) });
    });
  }

  /** <open/> and the features that follow it. */
  async open(domain = 'localhost'): Promise<{ open: Element; features: Element }> {
    this.send(openFrame(domain));
    const open = await this.next((e) => e.name === 'open');
    const features = await this.next((e) => e.local === 'features');
    return { open, features };
  }

  /** PLAIN login and resource binding. */
  async login(jid: string, password: string, resource = 'raw'): Promise<void> {
    const [local, domain] = jid.split('@') as [string, string];
    await this.open(domain);
    this.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${local}\0${password}`).toString('base64')}</auth>`);
    const r = await this.next((e) => e.local === 'success' || e.local === 'failure');
    if (r.local !== 'success') throw new Error(`login failed: ${r.toString()}`);
    await this.open(domain);
    this.send(`<iq type='set' id='bind1' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    await this.next((e) => e.name === 'iq' && e.attrs.id === 'bind1');
  }

  destroy(): void {
    this.ws.terminate();
  }
}
