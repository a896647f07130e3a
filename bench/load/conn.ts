// Raw-socket XMPP client for the load generator: pre-serialised stanzas out, minimal parsing in.
// Incoming bytes are split into top-level elements by scanning for '<' and tracking depth (no tree, no
// attribute parsing); handlers then look at the element's string with indexOf/regex only where they must.
// Loopback only: every connection goes to 127.0.0.1.
import { createConnection, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { StringDecoder } from 'node:string_decoder';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

export const CAPS_NODE = 'https://pepkeys.example/bench';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';

/** XEP-0115 §5.1 ver for identity client/bot and the given features (sorted by octets). */
export function capsFor(features: string[]): { ver: string; features: string[] } {
  const all = [...new Set([NS_DISCO_INFO, ...features])].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const s = `client/bot//bench<${all.map((f) => `${f}<`).join('')}`;
  return { ver: createHash('sha1').update(s).digest('base64'), features: all };
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

/** Value of attribute `name` in the start tag at the beginning of `el` (either quote style). */
export function attr(el: string, name: string): string | undefined {
  const end = el.indexOf('>');
  const tag = end < 0 ? el : el.slice(0, end);
  let i = tag.indexOf(` ${name}=`);
  if (i < 0) return undefined;
  i += name.length + 2;
  const q = tag[i];
  const j = tag.indexOf(q!, i + 1);
  return j < 0 ? undefined : tag.slice(i + 1, j);
}

/** Element name of a top-level element string ('iq', 'message', 'presence', 'stream:features' ...). */
export function elName(el: string): string {
  let i = 1;
  while (i < el.length) {
    const c = el.charCodeAt(i);
    if (c === 32 || c === 62 || c === 47 || c === 9 || c === 10 || c === 13) break;
    i++;
  }
  return el.slice(1, i);
}

// SaltedPassword is expensive (PBKDF2); the generator caches it per salt so a login costs it HMACs only.
const saltedCache = new Map<string, Buffer>();

export function scramFinal(hash: 'sha1' | 'sha256', password: string, clientFirstBare: string, nonce: string, serverFirst: string): { msg: string; serverSig: string } {
  const a: Record<string, string> = {};
  for (const p of serverFirst.split(',')) a[p[0]!] = p.slice(2);
  if (!a.r?.startsWith(nonce)) throw new Error('SCRAM: server nonce does not extend ours');
  const key = `${hash}\0${password}\0${a.s}\0${a.i}`;
  let salted = saltedCache.get(key);
  if (!salted) {
    salted = pbkdf2Sync(password, Buffer.from(a.s!, 'base64'), Number(a.i), hash === 'sha1' ? 20 : 32, hash);
    saltedCache.set(key, salted);
  }
  const clientKey = createHmac(hash, salted).update('Client Key').digest();
  const storedKey = createHash(hash).update(clientKey).digest();
  const withoutProof = `c=biws,r=${a.r}`;
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const sig = createHmac(hash, storedKey).update(authMessage).digest();
  for (let i = 0; i < sig.length; i++) sig[i] = clientKey[i]! ^ sig[i]!;
  const serverKey = createHmac(hash, salted).update('Server Key').digest();
  return { msg: `${withoutProof},p=${sig.toString('base64')}`, serverSig: createHmac(hash, serverKey).update(authMessage).digest('base64') };
}

export interface ConnOptions {
  port: number;
  domain: string;
  user: string;
  password: string;
  resource: string;
  sasl?: 'PLAIN' | 'SCRAM-SHA-1';
  /** Features announced in caps (e.g. 'urn:x+notify'); answered from a pre-serialised disco#info. */
  capsFeatures?: string[];
  timeoutMs?: number;
  /** STARTTLS before SASL (default: connDefaults.tls, set by `--tls`). */
  tls?: boolean;
}

/** Harness-wide defaults: `--tls` makes every connection of every scenario negotiate STARTTLS. */
export const connDefaults = { tls: false };

type Waiter = { match: (el: string) => boolean; resolve: (el: string) => void; reject: (e: Error) => void };

export class Conn {
  socket!: Socket;
  readonly jid: string;
  readonly bare: string;
  /** Called for every top-level element once the session is bound. */
  onElement: ((el: string, name: string) => void) | undefined;
  /** Called for incoming messages (after onElement). */
  onMessage: ((el: string) => void) | undefined;
  /** Called for incoming presence stanzas. */
  onPresence: ((el: string) => void) | undefined;
  private pendingIq = new Map<string, (el: string) => void>();
  private waiters: Waiter[] = [];
  private decoder = new StringDecoder('utf8');
  private buf = '';
  private depth = 0;
  private elStart = -1;
  private scanPos = 0;
  private discoReply: string | undefined;
  readonly caps: { ver: string; features: string[] } | undefined;
  private nextId = 0;
  closed = false;
  errors = 0;
  lastStreamError: string | undefined;
  /** Bare JIDs this connection asked for a presence subscription (RFC 6121 §3.1). */
  readonly sentSubscribe = new Set<string>();
  /** Caps disco#info queries answered (a server learning this connection's caps). */
  discoAnswered = 0;
  /** Bare JIDs that approved our subscription request. */
  readonly gotSubscribed = new Set<string>();

  constructor(readonly o: ConnOptions) {
    this.bare = `${o.user}@${o.domain}`;
    this.jid = `${this.bare}/${o.resource}`;
    if (o.capsFeatures) this.caps = capsFor(o.capsFeatures);
  }

  /** Connects and opens the stream, up to the first stream features. */
  async openStreamOnly(): Promise<void> {
    const o = this.o;
    this.socket = createConnection({ host: '127.0.0.1', port: o.port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('close', () => this.fail(new Error('connection closed')));
    await new Promise<void>((res, rej) => {
      this.socket.once('connect', res);
      this.socket.once('error', rej);
    });
    this.socket.write(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${o.domain}' version='1.0'>`);
    await this.wait((el) => el.startsWith('<stream:features'), o.timeoutMs ?? 20000);
  }

  /** Connects, authenticates and binds. */
  async open(): Promise<void> {
    const o = this.o;
    const timeout = o.timeoutMs ?? 20000;
    this.socket = createConnection({ host: '127.0.0.1', port: o.port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('close', () => this.fail(new Error('connection closed')));
    await new Promise<void>((res, rej) => {
      this.socket.once('connect', res);
      this.socket.once('error', rej);
    });
    const header = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${o.domain}' version='1.0'>`;
    const features = () => this.wait((el) => el.startsWith('<stream:features'), timeout);
    this.socket.write(header);
    const f0 = await features();
    if (o.tls ?? connDefaults.tls) {
      if (!f0.includes('urn:ietf:params:xml:ns:xmpp-tls')) throw new Error(`${this.jid}: the server offers no STARTTLS`);
      this.socket.write(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
      const r = await this.wait((el) => el.startsWith('<proceed') || el.startsWith('<failure'), timeout);
      if (!r.startsWith('<proceed')) throw new Error(`${this.jid}: STARTTLS refused: ${r.slice(0, 200)}`);
      await this.upgrade(timeout);
      this.socket.write(header);
      await features();
    }
    if ((o.sasl ?? 'SCRAM-SHA-1') === 'PLAIN') {
      const creds = Buffer.from(`\0${o.user}\0${o.password}`).toString('base64');
      this.socket.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${creds}</auth>`);
      const r = await this.wait((el) => el.startsWith('<success') || el.startsWith('<failure'), timeout);
      if (!r.startsWith('<success')) throw new Error(`SASL PLAIN failed for ${this.bare}: ${r.slice(0, 200)}`);
    } else {
      const nonce = randomBytes(18).toString('base64');
      const cfb = `n=${o.user},r=${nonce}`;
      this.socket.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>${Buffer.from(`n,,${cfb}`).toString('base64')}</auth>`);
      const ch = await this.wait((el) => el.startsWith('<challenge') || el.startsWith('<failure'), timeout);
      if (!ch.startsWith('<challenge')) throw new Error(`SCRAM failed for ${this.bare}: ${ch.slice(0, 200)}`);
      const serverFirst = Buffer.from(ch.slice(ch.indexOf('>') + 1, ch.lastIndexOf('<')), 'base64').toString();
      const { msg, serverSig } = scramFinal('sha1', o.password, cfb, nonce, serverFirst);
      this.socket.write(`<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${Buffer.from(msg).toString('base64')}</response>`);
      const r = await this.wait((el) => el.startsWith('<success') || el.startsWith('<failure'), timeout);
      if (!r.startsWith('<success')) throw new Error(`SCRAM failed for ${this.bare}: ${r.slice(0, 200)}`);
      const v = Buffer.from(r.slice(r.indexOf('>') + 1, r.lastIndexOf('<')), 'base64').toString();
      if (v && v !== `v=${serverSig}`) throw new Error('SCRAM: bad server signature');
    }
    this.resetStream();
    this.socket.write(header);
    await features();
    this.socket.write(`<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${escapeXml(o.resource)}</resource></bind></iq>`);
    const b = await this.wait((el) => el.startsWith('<iq') && attr(el, 'id') === 'bind1', timeout);
    if (attr(b, 'type') !== 'result') throw new Error(`bind failed for ${this.jid}: ${b.slice(0, 200)}`);
    // Old servers still want the RFC 3921 session; harmless elsewhere (answered or optional).
    if (this.caps) {
      const feats = this.caps.features.map((f) => `<feature var='${escapeXml(f)}'/>`).join('');
      this.discoReply = `<query xmlns='${NS_DISCO_INFO}' node='${CAPS_NODE}#${this.caps.ver}'><identity category='client' type='bot' name='bench'/>${feats}</query></iq>`;
    }
  }

  /** RFC 6120 §5.4.3.3: TLS over the same TCP connection, then a fresh stream. Self-signed certificates on
   * loopback: the bench measures cost, not trust. */
  private async upgrade(timeoutMs: number): Promise<void> {
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    raw.removeAllListeners('error');
    raw.on('error', () => undefined);
    const s = tlsConnect({ socket: raw, servername: this.o.domain, rejectUnauthorized: false });
    this.socket = s;
    this.resetStream();
    s.on('data', (d: Buffer) => this.onData(d));
    s.on('error', (e) => this.fail(e));
    s.on('close', () => this.fail(new Error('connection closed')));
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`${this.jid}: TLS handshake timed out`)), timeoutMs);
      s.once('secureConnect', () => (clearTimeout(t), res()));
      s.once('error', (e) => (clearTimeout(t), rej(e)));
    });
  }

  capsElement(): string {
    return this.caps ? `<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='${CAPS_NODE}' ver='${this.caps.ver}'/>` : '';
  }

  write(s: string): void {
    if (!this.closed) this.socket.write(s);
  }

  newId(prefix = 'q'): string {
    return `${prefix}${(this.nextId++).toString(36)}`;
  }

  /** Sends an IQ (whose id is `id`) and resolves with the response element. */
  iq(id: string, stanza: string, timeoutMs = 30000): Promise<string> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.pendingIq.delete(id);
        reject(new Error(`IQ ${id} timed out`));
      }, timeoutMs);
      this.pendingIq.set(id, (el) => {
        clearTimeout(t);
        resolve(el);
      });
      this.write(stanza);
    });
  }

  /** Fire-and-callback IQ without a timer (hot path). */
  iqCb(id: string, stanza: string, cb: (el: string) => void): void {
    this.pendingIq.set(id, cb);
    this.write(stanza);
  }

  wait(match: (el: string) => boolean, timeoutMs: number): Promise<string> {
    // Nothing more will arrive on a stream that has ended.
    if (this.closed) return Promise.reject(this.lastStreamError !== undefined ? new StreamErrorReceived(this.jid, this.lastStreamError) : new Error(`${this.jid}: connection closed`));
    return new Promise((resolve, reject) => {
      const w: Waiter = { match, resolve: (el) => (clearTimeout(t), resolve(el)), reject: (e) => (clearTimeout(t), reject(e)) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`${this.jid}: timed out waiting`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.socket.end('</stream:stream>');
    } catch {
      /* already gone */
    }
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private fail(e: Error): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.reject(e);
    if (!this.closed) this.errors++;
    this.closed = true;
  }

  private resetStream(): void {
    this.buf = '';
    this.depth = 0;
    this.elStart = -1;
    this.scanPos = 0;
  }

  private onData(d: Buffer): void {
    this.buf += this.decoder.write(d);
    const buf = this.buf;
    let i = this.scanPos;
    for (;;) {
      const lt = buf.indexOf('<', i);
      if (lt < 0) break;
      const gt = buf.indexOf('>', lt);
      if (gt < 0) {
        i = lt;
        break;
      }
      const c = buf.charCodeAt(lt + 1);
      if (c === 63 /* ? */ || c === 33 /* ! */) {
        i = gt + 1;
        continue;
      }
      if (c === 47 /* / */) {
        this.depth--;
        i = gt + 1;
        if (this.depth === 1 && this.elStart >= 0) {
          this.emit(buf.slice(this.elStart, i));
          this.elStart = -1;
        } else if (this.depth <= 0) {
          this.closed = true; // </stream:stream>
        }
        continue;
      }
      const selfClosing = buf.charCodeAt(gt - 1) === 47;
      if (this.depth === 0) {
        // stream header: opens depth 1 and is not an element of its own
        this.depth = 1;
        i = gt + 1;
        continue;
      }
      if (this.depth === 1) this.elStart = lt;
      i = gt + 1;
      if (selfClosing) {
        if (this.depth === 1) {
          this.emit(buf.slice(lt, i));
          this.elStart = -1;
        }
      } else this.depth++;
    }
    // Keep only the unconsumed tail (from the open top-level element, or from where scanning stopped).
    const base = this.elStart >= 0 ? this.elStart : i;
    this.buf = buf.slice(base);
    if (this.elStart >= 0) this.elStart = 0;
    this.scanPos = i - base;
  }

  private emit(el: string): void {
    // Waiters (negotiation) first.
    if (this.waiters.length) {
      for (let k = 0; k < this.waiters.length; k++) {
        const w = this.waiters[k]!;
        if (w.match(el)) {
          this.waiters.splice(k, 1);
          w.resolve(el);
          return;
        }
      }
    }
    const name = elName(el);
    if (name === 'stream:error') {
      this.lastStreamError = el.slice(0, 300);
      if (!this.closed) process.stderr.write(`[bench] ${this.jid}: ${this.lastStreamError}\n`);
      // The stream is over: whatever we wait for will not come (a login must not sit out its timeout).
      this.fail(new StreamErrorReceived(this.jid, this.lastStreamError));
      return;
    }
    if (name === 'iq') {
      const type = attr(el, 'type');
      if (type === 'result' || type === 'error') {
        const id = attr(el, 'id');
        const cb = id !== undefined ? this.pendingIq.get(id) : undefined;
        if (cb) {
          this.pendingIq.delete(id!);
          cb(el);
        }
        return;
      }
      this.answerIq(el, type);
      return;
    }
    this.onElement?.(el, name);
    if (name === 'message') this.onMessage?.(el);
    else if (name === 'presence') {
      const type = attr(el, 'type');
      if (type === 'subscribe' || type === 'subscribed') this.subscriptionStep(el, type);
      this.onPresence?.(el);
    }
  }

  /** Approves every request. (Asking back at once would put our 'subscribed' and 'subscribe' for the same
   * contact in flight together; ensureMutual asks back in a second phase instead.) */
  private subscriptionStep(el: string, type: string): void {
    const from = attr(el, 'from');
    if (!from) return;
    const bare = from.split('/')[0]!;
    if (type === 'subscribed') {
      this.gotSubscribed.add(bare);
      return;
    }
    this.write(`<presence to='${escapeXml(bare)}' type='subscribed'/>`);
  }

  subscribe(bare: string): void {
    if (this.sentSubscribe.has(bare)) return;
    this.sentSubscribe.add(bare);
    this.write(`<presence to='${escapeXml(bare)}' type='subscribe'/>`);
  }

  /** Answers server-initiated IQs: caps disco#info (pre-serialised), ping, roster pushes; others get an error. */
  private answerIq(el: string, type: string | undefined): void {
    const id = attr(el, 'id') ?? '';
    const from = attr(el, 'from');
    const head = `<iq type='result' id='${escapeXml(id)}'${from ? ` to='${escapeXml(from)}'` : ''}`;
    if (type === 'get' && el.includes(NS_DISCO_INFO) && this.discoReply) {
      this.write(`${head}>${this.discoReply}`);
      this.discoAnswered++;
    } else if (type === 'get' && el.includes('urn:xmpp:ping')) {
      this.write(`${head}/>`);
    } else if (type === 'set' && el.includes('jabber:iq:roster')) {
      this.write(`${head}/>`);
    } else if (type === 'get' || type === 'set') {
      this.write(`<iq type='error' id='${escapeXml(id)}'${from ? ` to='${escapeXml(from)}'` : ''}><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`);
    }
  }
}

/** Opens many connections with bounded concurrency. */
/** A stream error ended the connection while something waited on it. */
export class StreamErrorReceived extends Error {
  constructor(
    readonly jid: string,
    readonly streamError: string,
  ) {
    super(`${jid}: ${streamError}`);
  }
}

/**
 * Opens every connection, `concurrency` at a time. Every attempt runs to its end before this settles (so
 * no login is still in flight when a scenario moves on); it then rejects with the first failure, if any.
 */
export async function openAll(conns: Conn[], concurrency = 50): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  const worker = async () => {
    while (next < conns.length) {
      const c = conns[next++]!;
      await c.open().catch((e: unknown) => failures.push(e));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, conns.length) }, worker));
  if (failures.length > 0) throw failures[0];
}

/** XEP-0077 in-band registration of one account on a fresh stream (used to provision Prosody and ejabberd). */
export async function registerAccount(port: number, domain: string, user: string, password: string, timeoutMs = 20000): Promise<void> {
  const c = new Conn({ port, domain, user, password, resource: 'reg', timeoutMs });
  await c.openStreamOnly();
  try {
    c.write(`<iq type='set' id='reg1'><query xmlns='jabber:iq:register'><username>${escapeXml(user)}</username><password>${escapeXml(password)}</password></query></iq>`);
    const r = await c.wait((el) => el.startsWith('<iq') && attr(el, 'id') === 'reg1', timeoutMs);
    // 'conflict' means it exists already: fine for an idempotent provisioning step.
    if (attr(r, 'type') !== 'result' && !r.includes('<conflict')) throw new Error(`registration of ${user} failed: ${r.slice(0, 300)}`);
  } finally {
    c.close();
  }
}
