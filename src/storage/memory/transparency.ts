// Key-transparency logs in memory, for the in-process adapter: per domain, the leaves and every perfect
// subtree's hash by level (level 0: leaf hashes).
import type { LogAppend, LogEntry, TransparencyStore } from '../types.ts';
import { deriveKeyEvent } from '../../transparency/key-events.ts';
import { SubtreeNotFoundError } from '../errors.ts';
import { appendLeafSync } from '../../transparency/log-append.ts';
import type { NodeRef } from '../../transparency/tree.ts';

interface MemoryLog {
  leaves: { jid: string; leaf: Uint8Array }[];
  levels: Uint8Array[][];
}

/** `op` is the adapter's wrapper (closed-store check, asynchronous results). */
export function createMemoryTransparency(op: <T>(fn: () => T) => Promise<T>) {
  const logs = new Map<string, MemoryLog>();
  const node = (log: MemoryLog | undefined, ref: NodeRef): Uint8Array => {
    const h = log?.levels[ref.level]?.[ref.index];
    if (!h) throw new SubtreeNotFoundError(ref.level, ref.index);
    return new Uint8Array(h);
  };
  const entry = (seq: number, leaf: Uint8Array): LogEntry => ({ seq, leaf: new Uint8Array(leaf) });

  /** Synchronous, so it runs in the same turn as the pubsub write it goes with. */
  function append({ domain, event }: LogAppend): void {
    let log = logs.get(domain);
    if (!log) logs.set(domain, (log = { leaves: [], levels: [[]] }));
    const l = log;
    const a = appendLeafSync(l.leaves.length, deriveKeyEvent(event), (ref) => node(l, ref));
    l.leaves.push({ jid: event.jid, leaf: a.leaf });
    l.levels[0]![a.seq] = a.hash;
    for (const n of a.nodes) (l.levels[n.ref.level] ??= [])[n.ref.index] = n.hash;
  }

  const store: TransparencyStore = {
    size: (domain) => op(() => logs.get(domain)?.leaves.length ?? 0),
    nodes: (domain, refs) => op(() => refs.map((r) => node(logs.get(domain), r))),
    entries: (domain, start, end) =>
      op(() => {
        const leaves = logs.get(domain)?.leaves ?? [];
        const out: LogEntry[] = [];
        for (let i = Math.max(0, start); i < Math.min(end, leaves.length); i++) out.push(entry(i, leaves[i]!.leaf));
        return out;
      }),
    entriesOf: (domain, jid, from, max) =>
      op(() => {
        const leaves = logs.get(domain)?.leaves ?? [];
        const out: LogEntry[] = [];
        for (let i = Math.max(0, from); i < leaves.length && out.length < max; i++) if (leaves[i]!.jid === jid) out.push(entry(i, leaves[i]!.leaf));
        return out;
      }),
  };
  return { store, append };
}
