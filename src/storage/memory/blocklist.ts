// XEP-0191 blocklists on a Map, for the in-process adapter.
import type { BlocklistStore } from '../types.ts';

const sorted = (a: Iterable<string>) => [...a].sort();

/** `op` is the adapter's wrapper (closed-store check, asynchronous results). */
export function createMemoryBlocklist(op: <T>(fn: () => T) => Promise<T>) {
  const lists = new Map<string, Set<string>>();
  const store: BlocklistStore = {
    list: (owner) => op(() => sorted(lists.get(owner) ?? [])),
    block: (owner, jids) =>
      op(() => {
        let set = lists.get(owner);
        if (!set) lists.set(owner, (set = new Set()));
        const added = new Set<string>();
        for (const j of jids) if (!set.has(j)) (set.add(j), added.add(j));
        return sorted(added);
      }),
    unblock: (owner, jids) =>
      op(() => {
        const set = lists.get(owner);
        if (!set) return [];
        const removed = new Set(jids.filter((j) => set.delete(j)));
        if (set.size === 0) lists.delete(owner);
        return sorted(removed);
      }),
    unblockAll: (owner) =>
      op(() => {
        const all = sorted(lists.get(owner) ?? []);
        lists.delete(owner);
        return all;
      }),
  };
  return { store, deleteOwner: (owner: string) => void lists.delete(owner) };
}
