// A load-generator client over WebSocket (RFC 7395): SCRAM-SHA-1 login (the same cached SaltedPassword as
// conn.ts), bind, IQs, <close/>. Each message is one element, so no stream scanning is needed.
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { attr, escapeXml, scramFinal } from './conn.ts';

const FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

export interface WsConnOptions {
  url: string;
  domain: string;
  user: string;
  password: string;
  resource: string;
  timeoutMs?: number;
}

type Waiter = { match: (el: string) => boolean; resolve: (el: string) => void; reject: (e: Error) => void };

export class WsConn {
  ws: WebSocket | undefined;
  closed = false;
  private waiters: Waiter[] = [];
  private nextId = 0;

  constructor(readonly o: WsConnOptions) {}

  async open(): Promise<void> {
    const o = this.o;
    const timeout = o.timeoutMs ?? 20000;
    const ws = (this.ws = new WebSocket(o.url, ['xmpp'], { perMessageDeflate: false }));
    ws.on('message', (d: Buffer) => this.onMessage(d.toString()));
    ws.on('error', (e) => this.fail(e));
    ws.on('close', () => this.fail(new Error('connection closed')));
    await new Promise<void>((res, rej) => {
      ws.once('open', res);
      ws.once('error', rej);
    });
    const open = `<open xmlns='${FRAMING}' to='${o.domain}' version='1.0'/>`;
    const features = () => this.wait((el) => /^<(stream:)?features/.test(el), timeout);
    ws.send(open);
    await features();
    const nonce = randomBytes(18).toString('base64');
    const cfb = `n=${o.user},r=${nonce}`;
    ws.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>${Buffer.from(`n,,${cfb}`).toString('base64')}</auth>`);
    const ch = await this.wait((el) => el.startsWith('<challenge') || el.startsWith('<failure'), timeout);
    if (!ch.startsWith('<challenge')) throw new Error(`SCRAM failed for ${o.user}: ${ch.slice(0, 200)}`);
    const serverFirst = Buffer.from(ch.slice(ch.indexOf('>') + 1, ch.lastIndexOf('<')), 'base64').toString();
    const { msg } = scramFinal('sha1', o.password, cfb, nonce, serverFirst);
    ws.send(`<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${Buffer.from(msg).toString('base64')}</response>`);
    const r = await this.wait((el) => el.startsWith('<success') || el.startsWith('<failure'), timeout);
    if (!r.startsWith('<success')) throw new Error(`SCRAM failed for ${o.user}: ${r.slice(0, 200)}`);
    ws.send(open);
    await features();
    ws.send(`<iq xmlns='jabber:client' type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${escapeXml(o.resource)}</resource></bind></iq>`);
    const b = await this.wait((el) => el.startsWith('<iq') && attr(el, 'id') === 'bind1', timeout);
    if (attr(b, 'type') !== 'result') throw new Error(`bind failed for ${o.user}: ${b.slice(0, 200)}`);
  }

  newId(prefix = 'q'): string {
    return `${prefix}${(this.nextId++).toString(36)}`;
  }

  /** Sends an IQ (whose id is `id`) and resolves with the response element. */
  iq(id: string, stanza: string, timeoutMs = 30000): Promise<string> {
    const p = this.wait((el) => el.startsWith('<iq') && attr(el, 'id') === id, timeoutMs);
    this.ws?.send(stanza);
    return p;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.ws?.send(`<close xmlns='${FRAMING}'/>`);
      this.ws?.close();
    } catch {
      /* already gone */
    }
    const ws = this.ws;
    setTimeout(() => ws?.terminate(), 1000).unref();
  }

  private wait(match: (el: string) => boolean, timeoutMs: number): Promise<string> {
    if (this.closed) return Promise.reject(new Error(`${this.o.user}: connection closed`));
    return new Promise((resolve, reject) => {
      const w: Waiter = { match, resolve: (el) => (clearTimeout(t), resolve(el)), reject: (e) => (clearTimeout(t), reject(e)) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`${this.o.user}: timed out waiting`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  private onMessage(el: string): void {
    const i = this.waiters.findIndex((w) => w.match(el));
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(el);
  }

  private fail(e: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(e);
    this.closed = true;
  }
}
