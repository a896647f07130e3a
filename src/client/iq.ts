// IQ request/response correlation (RFC 6120 §8.2.3): every get/set we send gets a fresh id, and only a
// result/error with that id FROM THE ENTITY WE ASKED answers it (a spoofed answer from another JID is ignored).
// Every request is bounded by a timeout.
import { randomBytes } from 'node:crypto';
import type { Element } from '../xml/index.ts';
import { tryParseJid, type Jid } from '../jid/index.ts';
import { NS_STANZAS, StanzaError, type StanzaErrorCondition, type StanzaErrorType } from '../protocol/rfc6120.ts';
import { ClientError, IqError } from './errors.ts';

interface Pending {
  to: string | undefined;
  resolve: (el: Element) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class IqTracker {
  private readonly pending = new Map<string, Pending>();
  private readonly prefix = randomBytes(3).toString('hex');
  private seq = 0;

  constructor(private readonly self: () => Jid | undefined, private readonly defaultTimeoutMs = 15_000) {}

  /** Assigns an id to `iq`, registers it and returns the promise of its answer. The caller sends it. */
  track(iq: Element, timeoutMs = this.defaultTimeoutMs): Promise<Element> {
    const id = `${this.prefix}-${++this.seq}`;
    iq.attrs.id = id;
    const to = iq.attrs.to;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ClientError('timeout', `no answer from ${to ?? 'the server'} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { to, resolve, reject, timer });
    });
  }

  /** Offers an incoming result/error; true when it answered one of ours. */
  settle(el: Element): boolean {
    const id = el.attrs.id;
    if (id === undefined) return false;
    const p = this.pending.get(id);
    if (!p || !this.fromMatches(p.to, el.attrs.from)) return false;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (el.attrs.type === 'error') p.reject(new IqError(parseStanzaError(el), el.attrs.from));
    else p.resolve(el);
    return true;
  }

  rejectAll(err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
  }

  private fromMatches(to: string | undefined, from: string | undefined): boolean {
    const me = this.self();
    const norm = (s: string | undefined) => (s === undefined ? undefined : tryParseJid(s)?.full);
    const f = norm(from);
    const t = norm(to);
    // RFC 6120 §10.3.3: an IQ to our own account (bare JID) or to nobody is answered by the server on its
    // behalf, with no 'from' or with our bare/full JID.
    const ownish = (j: string | undefined) => j === undefined || (me !== undefined && (j === me.bare || j === me.full || j === me.domain));
    if (t === undefined || (me && t === me.bare)) return ownish(f);
    return f === t;
  }
}

/** Reads the <error/> child of a stanza into a StanzaError (RFC 6120 §8.3). */
export function parseStanzaError(stanza: Element): StanzaError {
  const err = stanza.getChild('error');
  if (!err) return new StanzaError('undefined-condition', 'error stanza without <error/>');
  const condEl = err.elements.find((c) => c.ns === NS_STANZAS && c.local !== 'text');
  const text = err.getChildText('text', NS_STANZAS);
  const app = err.elements.find((c) => c.ns !== NS_STANZAS);
  const type = err.attrs.type as StanzaErrorType | undefined;
  return new StanzaError((condEl?.local ?? 'undefined-condition') as StanzaErrorCondition, text, type, app);
}
