// In-process session directory: the default for a single-node server.
import { bareOf, resourceOf } from '../jid/index.ts';
import type { ModuleSession, SessionDirectory } from './types.ts';

export class LocalSessionDirectory implements SessionDirectory {
  private readonly byBare = new Map<string, Map<string, ModuleSession>>();
  private count = 0;

  register(session: ModuleSession): ModuleSession | undefined {
    const bare = session.jid.bare;
    let m = this.byBare.get(bare);
    if (!m) this.byBare.set(bare, (m = new Map()));
    const old = m.get(session.jid.resource);
    m.set(session.jid.resource, session);
    if (!old) this.count++;
    return old;
  }

  unregister(session: ModuleSession): void {
    const m = this.byBare.get(session.jid.bare);
    if (!m || m.get(session.jid.resource) !== session) return;
    m.delete(session.jid.resource);
    this.count--;
    if (m.size === 0) this.byBare.delete(session.jid.bare);
  }

  get(fullJid: string): ModuleSession | undefined {
    const resource = resourceOf(fullJid);
    return resource === undefined ? undefined : this.byBare.get(bareOf(fullJid))?.get(resource);
  }

  resources(bareJid: string): ModuleSession[] {
    const m = this.byBare.get(bareJid);
    return m ? [...m.values()] : [];
  }

  get size(): number {
    return this.count;
  }

  *all(): IterableIterator<ModuleSession> {
    for (const m of this.byBare.values()) yield* m.values();
  }
}
