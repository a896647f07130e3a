// Appending one leaf to a stored log, written once for every storage adapter: encode the event with its
// sequence number, hash it, and combine it with the stored left neighbours into the perfect subtrees it
// completes. The adapter supplies the reads and writes, inside the transaction of the pubsub write.
import { leafHash } from './hash.ts';
import { encodeLeaf, type KeyEventDraft } from './leaf.ts';
import { appendSiblings, completedNodes, type NodeRef } from './tree.ts';
import { appendToFrontier, type Frontier } from './frontier.ts';

export interface AppendedLeaf {
  seq: number;
  leaf: Uint8Array;
  hash: Uint8Array;
  /** Perfect subtrees of level ≥ 1 the leaf completes. */
  nodes: { ref: NodeRef; hash: Uint8Array }[];
}

/** For adapters whose reads are synchronous (memory, SQLite). */
export function appendLeafSync(size: number, event: KeyEventDraft, read: (ref: NodeRef) => Uint8Array): AppendedLeaf {
  return finish(size, event, appendSiblings(size).map(read));
}

/** For adapters whose reads are asynchronous (PostgreSQL): one read of all the siblings. */
export async function appendLeaf(size: number, event: KeyEventDraft, read: (refs: NodeRef[]) => Promise<Uint8Array[]>): Promise<AppendedLeaf> {
  const refs = appendSiblings(size);
  return finish(size, event, refs.length ? await read(refs) : []);
}

function finish(seq: number, event: KeyEventDraft, siblings: Uint8Array[]): AppendedLeaf {
  const leaf = encodeLeaf({ ...event, seq });
  const hash = leafHash(leaf);
  return { seq, leaf, hash, nodes: completedNodes(seq, hash, siblings).slice(1) };
}

/** For adapters that keep the log's right edge in memory (frontier.ts): no stored hash is read. */
export function appendToLog(f: Frontier, event: KeyEventDraft): AppendedLeaf & { next: Frontier } {
  const leaf = encodeLeaf({ ...event, seq: f.size });
  const hash = leafHash(leaf);
  const { next, completed } = appendToFrontier(f, hash);
  return { seq: f.size, leaf, hash, nodes: completed, next };
}
