// In-process session directory: the default for a single-node server.
import type { SessionDirectory, SessionHandle } from './types.ts';

export class LocalSessionDirectory implements SessionDirectory {
  private readonly byBare = new Map<string, Map<string, SessionHandle>>();
  private count = 0;

  register(session: SessionHandle): SessionHandle | undefined {
    const bare = session.jid.bare;
    let m = this.byBare.get(bare);
    if (!m) this.byBare.set(bare, (m = new Map()));
    const old = m.get(session.jid.resource);
    m.set(session.jid.resource, session);
    if (!old) this.count++;
    return old;
  }

  unregister(session: SessionHandle): void {
    const m = this.byBare.get(session.jid.bare);
    if (!m || m.get(session.jid.resource) !== session) return;
    m.delete(session.jid.resource);
    this.count--;
    if (m.size === 0) this.byBare.delete(session.jid.bare);
  }

  get(fullJid: string): SessionHandle | undefined {
    const slash = fullJid.indexOf('/');
    if (slash < 0) return undefined;
    return this.byBare.get(fullJid.slice(0, slash))?.get(fullJid.slice(slash + 1));
  }

  resources(bareJid: string): SessionHandle[] {
    const m = this.byBare.get(bareJid);
    return m ? [...m.values()] : [];
  }

  get size(): number {
    return this.count;
  }

  *all(): IterableIterator<SessionHandle> {
    for (const m of this.byBare.values()) yield* m.values();
  }
}
