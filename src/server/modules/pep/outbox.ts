// Notifications gathered per recipient session and written once each. Publishes that become durable in the
// same commit are fanned out together, so a burst costs one socket write per subscriber rather than one
// per notification (the write, a syscall, is what a fan-out spends most of its time on).
import type { SessionHandle } from '../../../cluster/index.ts';

export class Outbox {
  private readonly parts = new Map<SessionHandle, string[]>();
  /** Stanzas added so far (metrics). */
  count = 0;

  /** Queues one serialised stanza; a session's stanzas keep the order they were added in. */
  add(session: SessionHandle, stanza: string): void {
    this.count++;
    const p = this.parts.get(session);
    if (p) p.push(stanza);
    else this.parts.set(session, [stanza]);
  }

  /**
   * Delivers everything queued, session by session. One stanza per deliver(): a session counts and holds
   * stanzas one by one (XEP-0198 acks, XEP-0352), and its writes of one tick still leave in one segment.
   */
  flush(): void {
    for (const [session, p] of this.parts) for (const s of p) session.deliver(s);
    this.parts.clear();
  }
}
