// A bare client for XEP-0198 tests: it counts the stanzas it receives the way a stream-management client
// does ('h'), answers the server's <r/> with it, and answers disco#info for its caps, so a test drives
// enable/ack/resume element by element and checks exactly what arrived on which connection.
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { StreamParser, type Element } from '../../../../src/xml/index.ts';
import { NS_HEADER } from '../../../helpers/raw-client.ts';

export const NS_SM = 'urn:xmpp:sm:3';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';

const isStanza = (el: Element) => el.ns === 'jabber:client' && (el.name === 'message' || el.name === 'presence' || el.name === 'iq');

export class SmClient {
  /** Stanzas received on this connection and handled (XEP-0198 'h'), modulo nothing: tests stay small. */
  h = 0;
  /** Everything received, stanzas and nonzas, in order; waitFor takes from here. */
  readonly received: Element[] = [];
  /** Every stanza received, kept (waitFor does not remove from here). */
  readonly log: Element[] = [];
  /** Answer the server's <r/> at once. */
  autoAck = true;
  readonly closed: Promise<void>;
  private parser!: StreamParser;
  private waiters: { test: () => boolean; resolve: () => void }[] = [];
  private capsVer: string | undefined;
  private capsFeatures: string[] = [];

  private constructor(private readonly socket: Socket) {
    this.resetParser();
    socket.on('data', (d: Buffer) => this.parser.write(d));
    socket.on('error', () => {});
    this.closed = new Promise((r) => socket.once('close', () => r()));
    socket.on('close', () => this.check());
  }

  static connect(port: number): Promise<SmClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new SmClient(s)));
      s.once('error', reject);
    });
  }

  private resetParser(): void {
    this.parser = new StreamParser({
      streamStart: () => {},
      stanza: (el) => this.onElement(el),
      streamEnd: () => {},
      error: () => {},
    }, { maxStanzaSize: 1 << 30 });
  }

  /** Called with each stanza once counted (a test drops the connection from here, mid-read). */
  onStanza: ((el: Element) => void) | undefined;

  private onElement(el: Element): void {
    // What the rest of a read held after the connection was dropped never reached the client.
    if (this.socket.destroyed) return;
    if (isStanza(el)) {
      this.h++;
      this.log.push(el);
      this.onStanza?.(el);
      if (this.socket.destroyed) return;
      const q = el.getChild('query', NS_DISCO_INFO);
      if (el.name === 'iq' && el.attrs.type === 'get' && q && this.capsVer && q.attrs.node?.endsWith(`#${this.capsVer}`)) {
        this.send(`<iq type='result' id='${el.attrs.id}' to='${el.attrs.from}'><query xmlns='${NS_DISCO_INFO}' node='${q.attrs.node}'><identity category='client' type='phone' name='sm'/>${this.capsFeatures.map((f) => `<feature var='${f}'/>`).join('')}</query></iq>`);
        return;
      }
    } else if (el.ns === NS_SM && el.local === 'enabled') {
      // §4: the count of received stanzas starts at <enabled/>.
      this.h = 0;
    } else if (el.ns === NS_SM && el.local === 'r' && this.autoAck) {
      this.send(`<a xmlns='${NS_SM}' h='${this.h}'/>`);
      return;
    }
    this.received.push(el);
    this.check();
  }

  send(data: string): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** Drops the TCP connection without a closing tag (a phone losing its network). */
  destroy(): void {
    this.socket.destroy();
  }

  end(): void {
    this.socket.end('</stream:stream>');
  }

  private check(): void {
    this.waiters = this.waiters.filter((w) => (w.test() ? (w.resolve(), false) : true));
  }

  waitUntil(test: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; received: ${this.received.map(String).join('\n').slice(-1500)}`)), timeoutMs);
      this.waiters.push({ test, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** Waits for (and removes) the first element matching. */
  async waitFor(pred: (el: Element) => boolean, timeoutMs = 5000): Promise<Element> {
    let found: Element | undefined;
    await this.waitUntil(() => {
      const i = this.received.findIndex(pred);
      if (i < 0) return false;
      found = this.received.splice(i, 1)[0];
      return true;
    }, 'a matching element', timeoutMs);
    return found!;
  }

  /** Opens a stream, authenticates with PLAIN and restarts the stream; returns the post-auth features. */
  async authenticate(jid: string, password: string): Promise<Element> {
    const [local, domain] = jid.split('@') as [string, string];
    this.send(NS_HEADER(domain));
    await this.waitFor((e) => e.local === 'features');
    this.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${local}\0${password}`).toString('base64')}</auth>`);
    const r = await this.waitFor((e) => e.local === 'success' || e.local === 'failure');
    if (r.local !== 'success') throw new Error(`login failed: ${r.toString()}`);
    this.resetParser();
    this.send(NS_HEADER(domain));
    return this.waitFor((e) => e.local === 'features');
  }

  async bind(resource: string): Promise<string> {
    this.send(`<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    const b = await this.waitFor((e) => e.attrs.id === 'bind1');
    return b.getChild('bind')!.getChildText('jid')!;
  }

  /** Authenticates, binds and enables stream management (with resumption unless told otherwise). */
  async loginWithSm(jid: string, password: string, resource: string, resume = true): Promise<Element> {
    await this.authenticate(jid, password);
    await this.bind(resource);
    this.send(`<enable xmlns='${NS_SM}'${resume ? " resume='true'" : ''}/>`);
    return this.waitFor((e) => e.ns === NS_SM && (e.local === 'enabled' || e.local === 'failed'));
  }

  /** Announces XEP-0115 caps with these features (e.g. NODE+notify) and answers the server's disco#info. */
  presenceWithCaps(features: string[]): void {
    const all = [...new Set([NS_DISCO_INFO, ...features])].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    this.capsFeatures = all;
    this.capsVer = createHash('sha1').update(`client/phone//sm<${all.map((f) => `${f}<`).join('')}`).digest('base64');
    this.send(`<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://pepkeys.example/sm' ver='${this.capsVer}'/></presence>`);
  }

  private seq = 0;
  async iq(xml: string, timeoutMs = 5000): Promise<Element> {
    const id = `sm${++this.seq}`;
    this.send(xml.replace(/^<iq /, `<iq id='${id}' `));
    return this.waitFor((e) => e.name === 'iq' && e.attrs.id === id && (e.attrs.type === 'result' || e.attrs.type === 'error'), timeoutMs);
  }
}

/** Waits until the server has noticed a dropped connection and holds its session hibernating. */
export async function untilHibernating(server: { streamManagement: { hibernatingCount: number } }): Promise<number> {
  for (let i = 0; i < 400 && server.streamManagement.hibernatingCount === 0; i++) await new Promise((r) => setTimeout(r, 5));
  return server.streamManagement.hibernatingCount;
}
