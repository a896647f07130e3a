// One subscription exchange between two accounts at a time. A change to a (user, contact) pair reads the
// state, writes the next one and routes the stanza, and the contact's side of the same exchange runs inside
// that routing; two resources answering at once, or both parties asking at once, would otherwise each read a
// state the other is about to replace (issue 13: a duplicate approval downgraded "both" to "to").
// The key is the unordered pair, so both directions queue behind each other. The contact's side, reached
// while the lock is held, is part of the same exchange: AsyncLocalStorage marks the keys the current call
// chain holds, and a nested request for one of them runs at once instead of waiting for itself.
//
// In a cluster the two directions may run on two nodes at once (each user's stanzas on the node of its
// session, a federated peer's on the node its stream reached), so the outermost holder of a key in this
// process also takes the key's cluster-wide lock (`outer`, StorageLocks) while it holds the local one: one
// request per key per process ever asks for it, and nested requests never do.
import { AsyncLocalStorage } from 'node:async_hooks';

/** Takes the cluster-wide lock of `key`; resolves to its release, or undefined when it went on without it. */
export type OuterLock = (key: string) => Promise<(() => Promise<void>) | undefined>;

export class PairLock {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly held = new AsyncLocalStorage<ReadonlySet<string>>();

  constructor(private readonly outer?: OuterLock) {}

  run<T>(a: string, b: string, fn: () => Promise<T>): Promise<T> {
    const key = a < b ? `${a}\n${b}` : `${b}\n${a}`;
    const mine = this.held.getStore();
    if (mine?.has(key)) return fn();
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const tail = new Promise<void>((r) => (release = r));
    this.tails.set(key, tail);
    const inner = new Set(mine ?? []).add(key);
    return prev
      .then(async () => {
        const unlock = await this.outer?.(key);
        try {
          return await this.held.run(inner, fn);
        } finally {
          await unlock?.();
        }
      })
      .finally(() => {
        release();
        // The last one out leaves no entry behind.
        if (this.tails.get(key) === tail) this.tails.delete(key);
      });
  }
}
