// Contacts' available resources (the full JIDs a direct key request can go to, XEP-0189 §7) and their
// <generating/> presence (§9), from the presence stanzas the client receives.
import type { Element } from '../xml/index.ts';
import { parseJid, tryParseJid } from '../jid/index.ts';
import { isGenerating } from '../keys/index.ts';
import type { XmppClient } from './client.ts';
import type { KeyEventSink } from './key-events.ts';

export class PresenceTracker {
  private readonly resources = new Map<string, Set<string>>();
  private waiters: { bare: string; resolve: () => void }[] = [];

  constructor(client: XmppClient, private readonly events: KeyEventSink) {
    client.on('presence', (p) => this.onPresence(p));
  }

  /** Full JIDs of `bare` we have seen available. */
  resourcesOf(bare: string): string[] {
    return [...(this.resources.get(parseJid(bare).bare) ?? [])];
  }

  /** Waits until `bare` has an available resource, or `timeoutMs` passes (resolves either way). */
  waitFor(bare: string, timeoutMs: number): Promise<void> {
    const b = parseJid(bare).bare;
    if (this.resourcesOf(b).length) return Promise.resolve();
    return new Promise((resolve) => {
      const w = { bare: b, resolve: () => (clearTimeout(t), resolve()) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve();
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  private onPresence(p: Element): void {
    const from = tryParseJid(p.attrs.from);
    if (!from || !from.resource) return;
    const type = p.attrs.type;
    if (type !== undefined && type !== 'unavailable') return;
    const set = this.resources.get(from.bare) ?? new Set();
    if (type === 'unavailable') set.delete(from.full);
    else set.add(from.full);
    this.resources.set(from.bare, set);
    if (type === undefined) {
      this.events.emit('generating', { jid: from.full, generating: isGenerating(p) });
      const ready = this.waiters.filter((w) => w.bare === from.bare);
      this.waiters = this.waiters.filter((w) => w.bare !== from.bare);
      for (const w of ready) w.resolve();
    }
  }
}
