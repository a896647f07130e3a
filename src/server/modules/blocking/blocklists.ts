// The blocklists the stanza paths consult, kept in memory: every stanza between two accounts asks whether
// either blocks the other, and reads wait behind pending group commits. This module is the only writer, so
// each change updates the copy once it is stored; a copy read while a change was under way is not kept
// (generation check). Bounded: past `capacity` owners, the least recently used copy goes.
import type { BlocklistStore } from '../../../storage/types.ts';
import { itemMatches } from '../../../protocol/xep0191.ts';

export class Blocklists {
  private readonly lists = new Map<string, ReadonlySet<string>>();
  private readonly generations = new Map<string, number>();

  constructor(private readonly store: BlocklistStore, private readonly capacity = 10_000) {}

  async list(owner: string): Promise<ReadonlySet<string>> {
    const hit = this.lists.get(owner);
    if (hit) {
      // Map order is the eviction order: a use moves the owner to the end.
      this.lists.delete(owner);
      this.lists.set(owner, hit);
      return hit;
    }
    const gen = this.generations.get(owner) ?? 0;
    const set = new Set(await this.store.list(owner));
    if ((this.generations.get(owner) ?? 0) === gen) this.remember(owner, set);
    return set;
  }

  /** Does `owner` block `entity` (a normalised JID string)? */
  async blocks(owner: string, entity: string): Promise<boolean> {
    const set = await this.list(owner);
    if (set.size === 0) return false;
    for (const item of set) if (itemMatches(item, entity)) return true;
    return false;
  }

  async block(owner: string, jids: string[]): Promise<string[]> {
    return this.change(owner, () => this.store.block(owner, jids));
  }

  async unblock(owner: string, jids: string[]): Promise<string[]> {
    return this.change(owner, () => this.store.unblock(owner, jids));
  }

  async unblockAll(owner: string): Promise<string[]> {
    return this.change(owner, () => this.store.unblockAll(owner));
  }

  private async change(owner: string, write: () => Promise<string[]>): Promise<string[]> {
    this.forget(owner);
    try {
      return await write();
    } finally {
      this.forget(owner);
    }
  }

  /** Drops one owner's copy, or every copy (another cluster node changed them). */
  forgetAll(): void {
    for (const owner of [...this.lists.keys()]) this.forget(owner);
  }

  forget(owner: string): void {
    this.lists.delete(owner);
    this.generations.set(owner, (this.generations.get(owner) ?? 0) + 1);
  }

  private remember(owner: string, set: ReadonlySet<string>): void {
    if (this.lists.size >= this.capacity) {
      const oldest = this.lists.keys().next().value;
      if (oldest !== undefined) this.lists.delete(oldest);
    }
    this.lists.set(owner, set);
  }
}
