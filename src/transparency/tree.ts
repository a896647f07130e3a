// The shape of an RFC 9162 Merkle tree of n leaves, and its hashes computed from a cache of *perfect*
// subtrees: node (level, index) is the root of leaves [index·2^level, (index+1)·2^level). Every such node
// is final once its last leaf is appended, so a log stores each one once (on average one per leaf) and any
// subtree hash MTH(D[a:b]) the RFC's proofs need is a fold of at most log2(n) stored nodes. A proof is then
// O(log n) reads, planned first (which nodes) and fetched in one call, so a store behind a thread or a
// network costs one round trip.
import { EMPTY_ROOT, leafHash, nodeHash } from './hash.ts';

/** A perfect subtree: 2^level leaves starting at index·2^level. Level 0 is a leaf hash. */
export interface NodeRef {
  level: number;
  index: number;
}

/** Leaves [start, end) of the tree: the subtree whose hash is MTH(D[start:end]). */
export interface Range {
  start: number;
  end: number;
}

export function isPowerOfTwo(n: number): boolean {
  let p = 1;
  while (p < n) p *= 2;
  return p === n;
}

/** Largest power of two strictly smaller than n (n ≥ 2): RFC 9162's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The perfect subtrees whose hashes fold into MTH(D[start:end]), left to right. Ranges arising from the
 * RFC's recursion always start at a multiple of their left part's size, so the pieces are aligned.
 */
export function perfectPieces({ start, end }: Range): NodeRef[] {
  const pieces: NodeRef[] = [];
  let a = start;
  while (a < end) {
    const size = end - a;
    // The left part of D[a:end] is the largest power of two below size, or all of it if size is one.
    const piece = isPowerOfTwo(size) ? size : splitPoint(size);
    const level = Math.log2(piece);
    pieces.push({ level, index: a / piece });
    a += piece;
  }
  return pieces;
}

/** RFC 9162 §2.1.1: MTH(D[a:b]) = HASH(0x01 || MTH(left) || MTH(right)), folded from the right. */
export function foldPieces(hashes: Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return EMPTY_ROOT;
  let h = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) h = nodeHash(hashes[i]!, h);
  return h;
}

/** Reads stored node hashes, in the order asked. */
export type NodeReader = (refs: NodeRef[]) => Promise<Uint8Array[]>;

/** The hash of each range, with one read of every perfect subtree they need. */
export async function rangeHashes(ranges: Range[], read: NodeReader): Promise<Uint8Array[]> {
  const plans = ranges.map(perfectPieces);
  const hashes = await read(plans.flat());
  let at = 0;
  return plans.map((p) => foldPieces(hashes.slice(at, (at += p.length))));
}

/** The root of a tree of `size` leaves. */
export async function rootHash(size: number, read: NodeReader): Promise<Uint8Array> {
  if (size === 0) return EMPTY_ROOT;
  const [root] = await rangeHashes([{ start: 0, end: size }], read);
  return root!;
}

/**
 * The stored left neighbours that appending leaf `index` combines with: one per level while the subtree
 * the new leaf closes is complete (the trailing one bits of `index`), lowest level first.
 */
export function appendSiblings(index: number): NodeRef[] {
  const out: NodeRef[] = [];
  let i = index;
  for (let level = 0; i % 2 === 1; level++) {
    out.push({ level, index: i - 1 });
    i = (i - 1) / 2;
  }
  return out;
}

/** The perfect subtrees completed by appending leaf `index`: its own node, then one per sibling. */
export function completedNodes(index: number, leaf: Uint8Array, siblings: Uint8Array[]): { ref: NodeRef; hash: Uint8Array }[] {
  const out = [{ ref: { level: 0, index }, hash: leaf }];
  let h = leaf;
  let i = index;
  siblings.forEach((s, level) => {
    h = nodeHash(s, h);
    i = (i - 1) / 2;
    out.push({ ref: { level: level + 1, index: i }, hash: h });
  });
  return out;
}

/**
 * The verifier's walk of RFC 9162 §2.1.3.2 step 4 and §2.1.4.2 step 6 from position (fn, sn): for each of
 * `count` proof hashes, whether it is a left sibling (hashed as 0x01 || p || r). Undefined when the path is
 * longer than the tree is deep or does not reach the root (sn must end at 0).
 */
export function siblingSides(fn: number, sn: number, count: number): boolean[] | undefined {
  const sides: boolean[] = [];
  for (let i = 0; i < count; i++) {
    if (sn === 0) return undefined;
    const left = fn % 2 === 1 || fn === sn;
    sides.push(left);
    // A right-edge node with no right sibling: climb while it is a left child.
    if (left && fn % 2 === 0) {
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? sides : undefined;
}

/** Reference MTH over leaf inputs (RFC 9162 §2.1.1, recursive): for tests and audits of whole logs. */
export function referenceRoot(leafHashes: Uint8Array[]): Uint8Array {
  const n = leafHashes.length;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leafHashes[0]!;
  const k = splitPoint(n);
  return nodeHash(referenceRoot(leafHashes.slice(0, k)), referenceRoot(leafHashes.slice(k)));
}

/** Every perfect node of a tree held in memory (leaf hashes in order), by level: the in-memory node cache. */
export class MemoryTree {
  readonly levels: Uint8Array[][] = [[]];

  get size(): number {
    return this.levels[0]!.length;
  }

  appendLeafInput(leafInput: Uint8Array): void {
    this.append(leafHash(leafInput));
  }

  append(hash: Uint8Array): void {
    const siblings = appendSiblings(this.size).map((r) => this.node(r));
    for (const { ref, hash: h } of completedNodes(this.size, hash, siblings)) {
      (this.levels[ref.level] ??= [])[ref.index] = h;
    }
  }

  readonly read: NodeReader = async (refs) => refs.map((r) => this.node(r));

  node(ref: NodeRef): Uint8Array {
    const h = this.levels[ref.level]?.[ref.index];
    if (!h) throw new RangeError(`no node at level ${ref.level}, index ${ref.index}`);
    return h;
  }
}
