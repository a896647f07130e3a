// `pepkeys check s2s DOMAIN`: opens one server-to-server stream to DOMAIN the way an outbound link would and
// reports each step in plain words (resolution, connection, stream, STARTTLS, the certificate, dialback),
// stopping at the first that fails. Independent of the live links: it never carries stanzas, and leaves
// no state behind. Dialback needs our keys and, on the remote side, a way back to our running server, so
// without `keys` it stops after TLS and says so.
import { connect as netConnect, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type TLSSocket } from 'node:tls';
import { Element, StreamParser, escapeAttr, x } from '../../xml/index.ts';
import { NS_SERVER, NS_STREAM, NS_TLS } from '../../protocol/rfc6120.ts';
import type { DialbackKeys } from './dialback-key.ts';
import { NS_DIALBACK, NS_DIALBACK_FEATURE } from './namespaces.ts';
import { resolveTargets, type SrvLookup, type Target } from './resolve.ts';

export interface ProbeStep {
  step: 'resolve' | 'connect' | 'stream' | 'starttls' | 'certificate' | 'dialback';
  ok: boolean;
  /** A finding that does not stop federation (an unverifiable certificate when dialback follows). */
  warning?: boolean;
  text: string;
}

export interface ProbeOptions {
  local: string;
  remote: string;
  routes: Readonly<Record<string, string>>;
  lookup: SrvLookup;
  timeoutMs: number;
  keys?: DialbackKeys;
  /** Extra CAs for the certificate verdict (PEM). */
  ca?: string[];
}

export interface ProbeResult {
  ok: boolean;
  steps: ProbeStep[];
}

export async function probeS2s(o: ProbeOptions): Promise<ProbeResult> {
  const steps: ProbeStep[] = [];
  const done = (ok: boolean) => ({ ok, steps });
  const say = (step: ProbeStep['step'], ok: boolean, text: string, warning = false) => steps.push({ step, ok, text, ...(warning ? { warning } : {}) });

  let targets: Target[];
  try {
    targets = await resolveTargets(o.remote, o.routes, o.lookup);
  } catch (err) {
    say('resolve', false, `cannot resolve ${o.remote}: ${(err as Error).message}`);
    return done(false);
  }
  const how = o.routes[o.remote] !== undefined ? 'static route in [s2s.routes]' : 'DNS (SRV _xmpp-server._tcp, else the domain on port 5269)';
  if (targets.length === 0) {
    say('resolve', false, `${o.remote} says it does not federate (SRV record with target ".")`);
    return done(false);
  }
  say('resolve', true, `${o.remote} → ${targets.map((t) => `${t.host}:${t.port}`).join(', ')} (${how})`);

  let socket: Socket | undefined;
  for (const t of targets) {
    try {
      socket = await connectTo(t, o.timeoutMs);
      say('connect', true, `connected to ${t.host}:${t.port}`);
      break;
    } catch (err) {
      say('connect', false, `${t.host}:${t.port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (!socket) return done(false);
  const s = new ProbeStream(socket, o.timeoutMs);
  try {
    const header = () => `<?xml version='1.0'?><stream:stream xmlns='${NS_SERVER}' xmlns:stream='${NS_STREAM}' xmlns:db='${NS_DIALBACK}' from='${escapeAttr(o.local)}' to='${escapeAttr(o.remote)}' version='1.0'>`;
    s.write(header());
    let root = await s.streamStart();
    let features = await s.next();
    if (!features.is('features', NS_STREAM)) {
      say('stream', false, `expected stream features, got <${features.name}/>`);
      return done(false);
    }
    say('stream', true, `stream opened (id ${root.attrs.id ?? 'none'}); offered: ${describe(features)}`);
    const starttls = features.elements.find((e) => e.is('starttls', NS_TLS));
    if (!starttls) {
      say('starttls', false, `${o.remote} does not offer STARTTLS: pepkeys requires it (s2s.require_tls)`);
      return done(false);
    }
    s.write(x('starttls', { xmlns: NS_TLS }).toString());
    const proceed = await s.next();
    if (!proceed.is('proceed', NS_TLS)) {
      say('starttls', false, `${o.remote} refused STARTTLS (<${proceed.name}/>)`);
      return done(false);
    }
    const tls = await s.upgrade({ servername: o.remote, ca: o.ca });
    say('starttls', true, `TLS established: ${tls.getProtocol()}, ${tls.getCipher().name}`);
    const cert = tls.getPeerCertificate();
    const identity = cert && Object.keys(cert).length ? checkServerIdentity(o.remote, cert) : new Error('no certificate');
    if (tls.authorized && !identity) say('certificate', true, `certificate valid for ${o.remote} (issued by ${cert.issuer?.CN ?? cert.issuer?.O ?? 'unknown'})`);
    else {
      const why = [tls.authorizationError ? `chain: ${String(tls.authorizationError)}` : '', identity ? `name: ${identity.message}` : ''].filter(Boolean).join('; ');
      say('certificate', true, `certificate not verifiable (${why}); the domain must then be proved by dialback`, true);
    }
    s.write(header());
    root = await s.streamStart();
    features = await s.next();
    const streamId = root.attrs.id ?? '';
    say('stream', true, `stream restarted over TLS (id ${streamId || 'none'}); offered: ${describe(features)}`);
    if (!o.keys) {
      say('dialback', false, 'dialback not tried: no server is running on this data directory (the remote server checks our key with it)');
      return done(false);
    }
    if (!features.elements.some((e) => e.is('dialback', NS_DIALBACK_FEATURE)) && features.is('features', NS_STREAM) && features.elements.length > 0) {
      say('dialback', false, `${o.remote} does not offer dialback after TLS`);
      return done(false);
    }
    s.write(x('db:result', { from: o.local, to: o.remote }, o.keys.generate(o.remote, o.local, streamId)).toString());
    for (;;) {
      const r = await s.next();
      if (r.ns !== NS_DIALBACK || r.local !== 'result') continue;
      if (r.attrs.type === 'valid') {
        say('dialback', true, `${o.remote} accepted ${o.local} (it verified our dialback key with our server)`);
        return done(true);
      }
      const why = r.getChild('error')?.elements[0]?.local;
      say('dialback', false, `${o.remote} refused ${o.local}${why ? ` (${why})` : ''}: it could not verify our key; check that our DNS records (or its routes) lead it back to this server's s2s port`);
      return done(false);
    }
  } catch (err) {
    const last = steps.at(-1)?.step ?? 'connect';
    const step: ProbeStep['step'] = last === 'connect' ? 'stream' : last === 'stream' && steps.some((st) => st.step === 'starttls') ? 'dialback' : last;
    say(step, false, (err as Error).message);
    return done(false);
  } finally {
    s.close();
  }
}

function describe(features: Element): string {
  const names = features.elements.map((e) => {
    if (e.is('starttls', NS_TLS)) return e.getChild('required') ? 'STARTTLS (required)' : 'STARTTLS';
    if (e.is('dialback', NS_DIALBACK_FEATURE)) return 'dialback';
    if (e.local === 'mechanisms') return `SASL ${e.getChildren('mechanism').map((m) => m.text()).join(' ')}`;
    return e.local;
  });
  return names.length ? names.join(', ') : 'nothing';
}

function connectTo(t: Target, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: t.host, port: t.port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** One XML stream read element by element, with a deadline on each wait. */
class ProbeStream {
  private parser: StreamParser;
  private readonly items: (Element | { root: Element } | Error)[] = [];
  private waiter: (() => void) | undefined;

  constructor(private socket: Socket, private readonly timeoutMs: number) {
    this.parser = this.makeParser();
    this.attach(socket);
  }

  private makeParser(): StreamParser {
    const push = (v: Element | { root: Element } | Error) => {
      this.items.push(v);
      this.waiter?.();
    };
    return new StreamParser({
      streamStart: (root) => push({ root }),
      stanza: (el) => push(el),
      streamEnd: () => push(new Error('the remote server closed the stream')),
      error: (err) => push(new Error(`unreadable XML from the remote server: ${err.message}`)),
    });
  }

  private attach(socket: Socket): void {
    socket.on('data', (d: Buffer) => this.parser.write(d));
    socket.on('error', (err) => {
      this.items.push(new Error(`connection error: ${err.message}`));
      this.waiter?.();
    });
    socket.on('close', () => {
      this.items.push(new Error('the remote server closed the connection'));
      this.waiter?.();
    });
  }

  write(data: string): void {
    this.socket.write(data);
  }

  private async take(): Promise<Element | { root: Element }> {
    if (this.items.length === 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs / 1000} s`)), this.timeoutMs);
        this.waiter = () => {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        };
      });
    }
    const v = this.items.shift()!;
    if (v instanceof Error) throw v;
    if (v instanceof Element && v.is('error', NS_STREAM)) {
      const cond = v.elements.find((c) => c.local !== 'text')?.local ?? 'undefined-condition';
      const text = v.getChildText('text');
      throw new Error(`stream error from the remote server: ${cond}${text ? ` (${text})` : ''}`);
    }
    return v;
  }

  async streamStart(): Promise<Element> {
    const v = await this.take();
    if (v instanceof Element) throw new Error(`expected a stream header, got <${v.name}/>`);
    return v.root;
  }

  async next(): Promise<Element> {
    const v = await this.take();
    if (!(v instanceof Element)) throw new Error('unexpected stream restart');
    return v;
  }

  upgrade(opts: { servername: string; ca?: string[] }): Promise<TLSSocket> {
    const plain = this.socket;
    for (const ev of ['data', 'close', 'error']) plain.removeAllListeners(ev);
    return new Promise((resolve, reject) => {
      const tls = tlsConnect({ socket: plain, servername: opts.servername, rejectUnauthorized: false, minVersion: 'TLSv1.2', ...(opts.ca ? { ca: opts.ca } : {}) });
      const timer = setTimeout(() => reject(new Error(`TLS handshake not finished within ${this.timeoutMs / 1000} s`)), this.timeoutMs);
      tls.once('secureConnect', () => {
        clearTimeout(timer);
        tls.off('error', reject);
        this.socket = tls;
        this.parser = this.makeParser();
        this.attach(tls);
        resolve(tls);
      });
      tls.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`TLS handshake failed: ${err.message}`));
      });
    });
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.on('error', () => {});
    this.socket.end(`</stream:stream>`);
    setTimeout(() => this.socket.destroy(), 500).unref();
  }
}
