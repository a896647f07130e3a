// IQ request/response correlation (RFC 6120 §8.2.3), one copy for both ends: the IQs the server sends
// itself (entity capabilities) and the client's. Every get/set sent gets a fresh id, and only a
// result/error with that id FROM THE ENTITY ASKED answers it (a spoofed answer from another JID is
// ignored). Every request is bounded by a timeout. No Node API: the id source is passed in.
import type { Element } from '../xml/index.ts';
import { tryParseJid, type Jid } from '../jid/index.ts';
import { parseStanzaError, type StanzaError } from './rfc6120.ts';

export interface IqCorrelatorOptions {
  /** A fresh id for each request. */
  newId(): string;
  /** Timeout of a request when `track` is given none. */
  defaultTimeoutMs: number;
  /** The error a request rejects with when no answer came in time. */
  timeoutError(to: string | undefined, timeoutMs: number): Error;
  /** The error a request rejects with when it is answered with an error (default: the StanzaError itself). */
  answerError?(error: StanzaError, answer: Element): Error;
  /** Our own JID once known (a client's): the server answers for our account (RFC 6120 §10.3.3). */
  self?(): Jid | undefined;
  /** Whether a pending request keeps the process alive (a client waits for its answer; a server does not). */
  keepAlive?: boolean;
}

interface Pending {
  to: string | undefined;
  resolve(el: Element): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class IqCorrelator {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly opts: IqCorrelatorOptions) {}

  /** Gives `iq` a fresh id and returns the promise of its answer; the caller sends it. */
  track(iq: Element, timeoutMs = this.opts.defaultTimeoutMs): Promise<Element> {
    const id = this.opts.newId();
    iq.attrs.id = id;
    const to = iq.attrs.to;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(this.opts.timeoutError(to, timeoutMs));
      }, timeoutMs);
      if (!this.opts.keepAlive) (timer as { unref?: () => void }).unref?.();
      this.pending.set(id, { to, resolve, reject, timer });
    });
  }

  /** Offers an incoming result/error; true when it answered one of ours. */
  settle(el: Element): boolean {
    const id = el.attrs.id;
    const p = id === undefined ? undefined : this.pending.get(id);
    if (!p || !answers(p.to, el.attrs.from, this.opts.self?.())) return false;
    this.pending.delete(id!);
    clearTimeout(p.timer);
    if (el.attrs.type !== 'error') p.resolve(el);
    else {
      const error = parseStanzaError(el);
      p.reject(this.opts.answerError ? this.opts.answerError(error, el) : error);
    }
    return true;
  }

  /** Rejects every pending request (the stream closed, the server stops). */
  rejectAll(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}

/**
 * RFC 6120 §8.2.3: whether a response from `from` may answer a request sent to `to`. A request to our own
 * account (its bare JID) or to nobody is answered by the server on its behalf (§10.3.3), with no 'from' or
 * with our bare or full JID or our domain.
 */
export function answers(to: string | undefined, from: string | undefined, self: Jid | undefined): boolean {
  const norm = (s: string | undefined) => (s === undefined ? undefined : tryParseJid(s)?.full);
  const f = norm(from);
  const t = norm(to);
  if (t === undefined || (self && t === self.bare)) {
    return f === undefined || (self !== undefined && (f === self.bare || f === self.full || f === self.domain));
  }
  return f === t;
}
