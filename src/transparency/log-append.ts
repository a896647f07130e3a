// Appending one leaf to a log whose every perfect subtree is at hand (the memory adapter): encode the event
// with its sequence number, hash it, and combine it with the stored left neighbours into the perfect
// subtrees it completes. (The SQL adapters store blocks of 8 leaves instead: storage/sql/kt-block.ts.)
import { leafHash } from './hash.ts';
import { encodeLeaf, type KeyEventDraft } from './leaf.ts';
import { appendSiblings, completedNodes, type NodeRef } from './tree.ts';

export interface AppendedLeaf {
  seq: number;
  leaf: Uint8Array;
  hash: Uint8Array;
  /** Perfect subtrees of level ≥ 1 the leaf completes. */
  nodes: { ref: NodeRef; hash: Uint8Array }[];
}

/** For adapters whose reads are synchronous. */
export function appendLeafSync(size: number, event: KeyEventDraft, read: (ref: NodeRef) => Uint8Array): AppendedLeaf {
  const leaf = encodeLeaf({ ...event, seq: size });
  const hash = leafHash(leaf);
  return { seq: size, leaf, hash, nodes: completedNodes(size, hash, appendSiblings(size).map(read)).slice(1) };
}
