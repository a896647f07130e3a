// XEP-0198 Stream Management on client streams: the <sm/> feature, <enable/>, acks, and resumption of a
// session kept "hibernating" after its connection dropped without a closing tag.
//
// It lives in the core rather than in a module because it is about the stream, not about stanzas: it reads
// top-level elements no module sees, counts every stanza on the session's output (a layer, stanza-layer.ts),
// and moves a bound session from one connection to another (C2sSession.adopt). Modules notice none of it:
// a hibernating session stays registered, available and with its module state, so no one sees it go
// unavailable unless the hibernation ends without a resumption (then the session ends as any other does).
import { randomBytes } from 'node:crypto';
import { escapeAttr, x, type Element } from '../../../xml/index.ts';
import { NS_CLIENT, StreamError } from '../../../protocol/rfc6120.ts';
import { HandledCountTooHigh, NS_SM, failed, isTrue, parseH, ack } from '../../../protocol/xep0198.ts';
import { createSessionKey } from '../../../cluster/index.ts';
import type { C2sSession } from '../c2s-session.ts';
import type { Logger } from '../logger.ts';
import type { OutputBudget } from '../limits/output-budget.ts';
import { SmSession } from './sm-session.ts';
import type { Outbound } from './unacked-queue.ts';

const SM = createSessionKey<SmSession>('core/stream-management');

export interface SmOptions {
  /** Offer the feature at all. */
  enabled: boolean;
  /** Longest hibernation (and the 'max' advertised); 0 = no resumption. */
  resumeTimeoutMs: number;
  maxUnacked: number;
  maxUnackedChars: number;
  /** Where to reconnect for resumption (the 'location' attribute), if set. */
  location: string | undefined;
}

export interface SmDeps {
  options: () => SmOptions;
  logger: Logger;
  outputBudget: OutputBudget;
  /** The connection behind a session no longer counts as open (it hibernates). */
  connectionDropped(session: C2sSession): void;
  /** `session` now carries `conn`'s connection. */
  connectionAdopted(session: C2sSession, conn: C2sSession): void;
  /** A session was resumed and has re-sent what the client had not acknowledged. */
  resumed(session: C2sSession): void;
}

/** What is remembered of an ended resumable session, to answer a late <resume/> with its 'h' (1.5). */
interface Tombstone {
  account: string;
  handled: number;
  expires: number;
}

const MAX_TOMBSTONES = 100_000;

export class StreamManager {
  /** Resumable sessions by SM-ID, connected or hibernating. */
  private readonly resumable = new Map<string, C2sSession>();
  /** Ended resumable sessions, oldest first (one timeout for all, so insertion order is expiry order). */
  private readonly tombstones = new Map<string, Tombstone>();

  constructor(private readonly d: SmDeps) {}

  /** The stream feature, offered with the other post-authentication features. */
  feature(): Element | undefined {
    return this.d.options().enabled ? x('sm', { xmlns: NS_SM }) : undefined;
  }

  /** Sessions without a connection now. */
  get hibernatingCount(): number {
    let n = 0;
    for (const s of this.resumable.values()) if (s.get(SM)?.hibernating) n++;
    return n;
  }

  /** An element from an authenticated stream: consumes XEP-0198's own, counts stanzas. */
  element(session: C2sSession, el: Element): boolean {
    if (el.ns !== NS_SM) {
      if (el.ns === NS_CLIENT && session.isBound) session.get(SM)?.received();
      return false;
    }
    if (!this.d.options().enabled) return false;
    switch (el.local) {
      case 'enable':
        this.enable(session, el);
        return true;
      case 'resume':
        this.resume(session, el);
        return true;
      case 'r': {
        const sm = session.get(SM);
        // §4: answered at once; stanzas before it were handled first (the session processes in order).
        if (sm) session.transmit(ack(sm.handled));
        return true;
      }
      case 'a': {
        const sm = session.get(SM);
        const h = parseH(el.attrs.h);
        if (!sm || h === undefined) return true;
        if (!sm.acknowledge(h)) session.streamError(new HandledCountTooHigh(h, sm.queue.sent));
        else this.budget(session, sm);
        return true;
      }
      default:
        return false;
    }
  }

  private enable(session: C2sSession, el: Element): void {
    // §3: only once, and only on a bound stream.
    if (!session.isBound || session.get(SM)) return session.transmit(failed('unexpected-request').toString());
    const o = this.d.options();
    const wanted = parseH(el.attrs.max);
    const timeoutMs = wanted ? Math.min(wanted * 1000, o.resumeTimeoutMs) : o.resumeTimeoutMs;
    const resume = isTrue(el.attrs.resume) && timeoutMs > 0;
    const id = resume ? randomBytes(18).toString('base64url') : undefined;
    const sm = new SmSession({ grew: (s) => this.budget(session, s), transmit: (d) => session.transmit(d) }, id, timeoutMs);
    const attrs = id
      ? ` id='${id}' resume='true' max='${Math.ceil(timeoutMs / 1000)}'${o.location ? ` location='${escapeAttr(o.location)}'` : ''}`
      : '';
    session.transmit(`<enabled xmlns='${NS_SM}'${attrs}/>`);
    // §4: both counters start at zero from here.
    session.set(SM, sm);
    session.addLayer(sm);
    if (id) this.resumable.set(id, session);
  }

  private resume(conn: C2sSession, el: Element): void {
    if (conn.isBound || conn.get(SM)) return conn.transmit(failed('unexpected-request').toString());
    const o = this.d.options();
    if (o.resumeTimeoutMs <= 0) return conn.transmit(failed('feature-not-implemented').toString());
    const previd = el.attrs.previd ?? '';
    const h = parseH(el.attrs.h);
    if (h === undefined) return conn.transmit(failed('bad-request').toString());
    const account = `${conn.username}@${conn.domain}`;
    const old = this.resumable.get(previd);
    const sm = old?.get(SM);
    // Only the account that owns a session may resume it (§9: authentication comes first); to anyone else
    // it does not exist.
    if (!old || !sm || old.isClosed || `${old.username}@${old.domain}` !== account) {
      const t = this.tombstones.get(previd);
      const known = t && t.account === account && t.expires > Date.now() ? t : undefined;
      return conn.transmit(failed('item-not-found', known?.handled).toString());
    }
    if (!sm.acknowledge(h)) return conn.streamError(new HandledCountTooHigh(h, sm.queue.sent));
    this.budget(old, sm);
    if (sm.hibernating) {
      clearTimeout(sm.hibernation);
      sm.hibernation = undefined;
    } else {
      // §5: the old connection is still open (its loss not noticed yet): it gets a conflict stream error.
      this.d.connectionDropped(old);
      sm.connectionLost();
    }
    old.adopt(conn);
    this.d.connectionAdopted(old, conn);
    old.transmit(`<resumed xmlns='${NS_SM}' previd='${previd}' h='${sm.handled}'/>`);
    // §5: what the client did not acknowledge goes again, as it was (its numbers do not change).
    for (const { data } of sm.queue.pending()) old.transmit(data);
    this.d.logger.info({ session: old.id, jid: old.jid.full, resent: sm.queue.length }, 'stream resumed');
    this.d.resumed(old);
    sm.requestAck();
  }

  /** The connection of a bound session dropped: true if it hibernates (resumable), to be resumed or to time out. */
  detached(session: C2sSession): boolean {
    const sm = session.get(SM);
    if (!sm?.id || !this.d.options().enabled) return false;
    if (sm.hibernating) return true;
    sm.connectionLost();
    sm.hibernation = setTimeout(() => {
      this.d.logger.info({ session: session.id, jid: session.jid.full }, 'stream management: hibernation timed out');
      session.close();
    }, sm.timeoutMs);
    sm.hibernation.unref();
    this.d.connectionDropped(session);
    this.d.logger.info({ session: session.id, jid: session.jid.full, unacked: sm.queue.length, seconds: sm.timeoutMs / 1000 }, 'stream management: connection lost, session hibernating');
    return true;
  }

  /** The session ended: forgets it and returns what its client never acknowledged. */
  ended(session: C2sSession): Outbound[] {
    const sm = session.get(SM);
    if (!sm) return [];
    clearTimeout(sm.hibernation);
    sm.hibernation = undefined;
    this.d.outputBudget.release(sm);
    if (sm.id && this.resumable.get(sm.id) === session) {
      this.resumable.delete(sm.id);
      this.remember(sm.id, { account: `${session.username}@${session.domain}`, handled: sm.handled, expires: Date.now() + this.d.options().resumeTimeoutMs });
    }
    return sm.queue.drain();
  }

  /** Ends every hibernating session (server shutdown). */
  stop(): void {
    for (const s of [...this.resumable.values()]) if (s.get(SM)?.hibernating) s.close();
  }

  private remember(id: string, t: Tombstone): void {
    const now = Date.now();
    for (const [k, v] of this.tombstones) {
      if (v.expires > now && this.tombstones.size < MAX_TOMBSTONES) break;
      this.tombstones.delete(k);
    }
    this.tombstones.set(id, t);
  }

  /** The unacknowledged queue counts toward the server's ceiling on held output (limits/output-budget.ts). */
  private budget(session: C2sSession, sm: SmSession): boolean {
    const o = this.d.options();
    const why = sm.queue.length > o.maxUnacked ? 'count' : sm.queue.chars > o.maxUnackedChars ? 'size' : !this.d.outputBudget.hold(sm, sm.queue.chars) ? 'server' : undefined;
    if (!why) return true;
    this.d.logger.info({ session: session.id, unacked: sm.queue.length, chars: sm.queue.chars, why }, 'stream management: too much unacknowledged output');
    // A hibernating session just ends, and its queue is handled as undelivered.
    if (sm.hibernating) session.close();
    else {
      session.streamError(why === 'server'
        ? new StreamError('resource-constraint', 'the server holds too much unacknowledged output')
        : new StreamError('policy-violation', 'too many unacknowledged stanzas'));
    }
    return false;
  }
}
