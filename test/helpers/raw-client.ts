// A bare TCP client that sends exactly the bytes a test gives it and collects what the server answers,
// for protocol-level and negative tests where a real client library would refuse to misbehave.
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { StreamParser, type Element } from '../../src/xml/index.ts';

/** A client stream header; `declarations` adds namespace declarations (` xmlns:k='urn:x'`) to it. */
export const NS_HEADER = (to: string, declarations = '') =>
  `<?xml version='1.0'?><stream:stream to='${to}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'${declarations} version='1.0'>`;

export class RawClient {
  text = '';
  readonly stanzas: Element[] = [];
  /** The stream headers received, latest last (a server's stream id is on them). */
  readonly headers: Element[] = [];
  closed: Promise<void>;
  private socket: Socket | TLSSocket;
  private parser!: StreamParser;
  private waiters: { test: () => boolean; resolve: () => void }[] = [];
  private responders: { match: (el: Element) => boolean; answer: (el: Element) => string }[] = [];

  /** Answers matching stanzas automatically (e.g. the server's disco#info for caps) instead of queueing them. */
  respond(match: (el: Element) => boolean, answer: (el: Element) => string): void {
    this.responders.push({ match, answer });
  }

  /**
   * Announces XEP-0115 caps with these features in an available presence and answers the server's
   * disco#info for them.
   */
  sendPresenceWithCaps(features: string[], extra = ''): void {
    const all = [...new Set(['http://jabber.org/protocol/disco#info', ...features])].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const ver = createHash('sha1').update(`client/pc//raw<${all.map((f) => `${f}<`).join('')}`).digest('base64');
    const node = 'https://pepkeys.example/raw';
    this.respond(
      (el) => el.name === 'iq' && el.attrs.type === 'get' && el.getChild('query', 'http://jabber.org/protocol/disco#info')?.attrs.node === `${node}#${ver}`,
      (el) => `<iq type='result' id='${el.attrs.id}' to='${el.attrs.from}'><query xmlns='http://jabber.org/protocol/disco#info' node='${node}#${ver}'><identity category='client' type='pc' name='raw'/>${all.map((f) => `<feature var='${f}'/>`).join('')}</query></iq>`,
    );
    this.send(`<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='${node}' ver='${ver}'/>${extra}</presence>`);
  }

  private iqSeq = 0;
  /** Sends an IQ (the id is filled in) and waits for its answer. */
  async iq(xml: string, timeoutMs = 15_000): Promise<Element> {
    const id = `q${++this.iqSeq}`;
    this.send(xml.replace(/^<iq /, `<iq id='${id}' `));
    return this.waitStanza((e) => e.name === 'iq' && e.attrs.id === id && (e.attrs.type === 'result' || e.attrs.type === 'error'), timeoutMs);
  }

  private constructor(socket: Socket | TLSSocket) {
    this.socket = socket;
    this.resetParser();
    this.closed = new Promise((r) => socket.once('close', () => r()));
    this.attach(socket);
  }

  private attach(socket: Socket | TLSSocket): void {
    socket.on('data', (d: Buffer) => {
      this.text += d.toString('utf8');
      this.parser.write(d);
      this.check();
    });
    socket.on('error', () => {});
    socket.on('close', () => this.check());
  }

  private resetParser(): void {
    this.parser = new StreamParser({
      streamStart: (root) => {
        this.headers.push(root);
        this.check();
      },
      stanza: (el) => {
        const reply = this.responders.find((r) => r.match(el));
        if (reply) {
          this.send(reply.answer(el));
          return;
        }
        this.stanzas.push(el);
        this.check();
      },
      streamEnd: () => {},
      error: () => {},
    }, { maxStanzaSize: 1 << 30 });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** `tls`: extra options, e.g. a client certificate or ALPN (server-to-server peers), or a `session` to resume. */
  static connectTls(port: number, servername = 'localhost', tls: ConnectionOptions = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ port, host: '127.0.0.1', servername, rejectUnauthorized: false, ...tls }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** STARTTLS on this connection (RFC 6120 §5.4): asks, waits for <proceed/>, then handshakes without checking the certificate. */
  async starttls(servername = 'localhost', tlsOptions: ConnectionOptions = {}): Promise<void> {
    this.send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
    await this.waitStanza((e) => e.local === 'proceed');
    const plain = this.socket;
    plain.removeAllListeners('data');
    const tls = tlsConnect({ socket: plain, servername, rejectUnauthorized: false, ...tlsOptions });
    await new Promise<void>((resolve, reject) => {
      tls.once('secureConnect', () => resolve());
      tls.once('error', reject);
    });
    this.socket = tls;
    this.resetParser();
    this.attach(tls);
  }

  /** Expects a new stream header (after SASL success, RFC 6120 §6.4.6). */
  restartStream(): void {
    this.resetParser();
  }

  /** The TLS socket of a direct-TLS connection (for channel binding in tests). */
  get tlsSocket(): TLSSocket | undefined {
    return 'getPeerCertificate' in this.socket ? (this.socket as TLSSocket) : undefined;
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Stops reading the socket (a client that never reads what the server sends). */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  private check(): void {
    this.waiters = this.waiters.filter((w) => {
      if (w.test()) {
        w.resolve();
        return false;
      }
      return true;
    });
  }

  private waitUntil(test: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got: ${this.text.slice(-600)}`)), timeoutMs);
      this.waiters.push({ test, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** Waits until the raw text received so far matches. */
  waitText(re: RegExp, timeoutMs = 15_000): Promise<void> {
    return this.waitUntil(() => re.test(this.text), String(re), timeoutMs);
  }

  /** Waits for (and removes) the first stanza matching. */
  async waitStanza(pred: (el: Element) => boolean, timeoutMs = 15_000): Promise<Element> {
    let found: Element | undefined;
    await this.waitUntil(() => {
      const i = this.stanzas.findIndex(pred);
      if (i < 0) return false;
      found = this.stanzas.splice(i, 1)[0];
      return true;
    }, 'a matching stanza', timeoutMs);
    return found!;
  }

  waitClosed(timeoutMs = 15_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((_, rej) => { timer = setTimeout(() => rej(new Error(`stream not closed; got: ${this.text.slice(-400)}`)), timeoutMs); });
    // The bound's timer is cleared once the stream closes, so it does not hold the test process open.
    return Promise.race([this.closed, bound]).finally(() => clearTimeout(timer));
  }

  /** Opens a stream and authenticates with PLAIN (server must allow it without TLS), then binds. */
  async login(jid: string, password: string, resource = 'raw', declarations = ''): Promise<string> {
    const [local, domain] = jid.split('@') as [string, string];
    this.send(NS_HEADER(domain, declarations));
    await this.waitStanza((e) => e.local === 'features');
    this.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${local}\0${password}`).toString('base64')}</auth>`);
    const r = await this.waitStanza((e) => e.local === 'success' || e.local === 'failure');
    if (r.local !== 'success') throw new Error(`login failed: ${r.toString()}`);
    this.resetParser();
    this.send(NS_HEADER(domain, declarations));
    await this.waitStanza((e) => e.local === 'features');
    this.send(`<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    const b = await this.waitStanza((e) => e.attrs.id === 'bind1');
    return b.getChild('bind')!.getChildText('jid')!;
  }

  end(): void {
    this.socket.end('</stream:stream>');
  }

  destroy(): void {
    this.socket.destroy();
  }
}
