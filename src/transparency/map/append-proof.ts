// Append-only proofs between two epochs of the verifiable map. The map only ever gains entries (each key event
// has a label of its own), so "the new map extends the old one" means: the new map is the old one plus the
// listed entries, none of which was in the old one. The proof lists those entries (sorted by label) and
// describes the old tree only where they do not reach: a depth-first, left-to-right walk of the nodes the new
// entries pass through (the touched nodes), with one item per visited node:
//   at a touched node:   'split' (the walk goes on into both children), or the whole old subtree there when
//                        it holds at most one entry: 'empty', or 'leaf' with that entry;
//   at an untouched node (no new entry under it): 'empty', 'leaf' with its one entry, or 'node' with the hash
//                        of an old subtree of two or more entries (it is the same in both trees).
// The verifier rebuilds the old root and the new root from the same items. A lone old entry is given in full
// because the canonical form may move it: it sits as high as it is alone, and an insertion beside it pushes it
// down; the verifier checks it lies under the node it is given for.
import { equalHashes } from '../hash.ts';
import { bit, childPrefix, compareLabels, LABEL_BITS, LABEL_BYTES, sharesPrefix } from './bits.ts';
import { combine, COMMITMENT_BYTES, EMPTY, single, subtreeOf, type MapEntry, type Subtree } from './hash.ts';
import type { SubtreeReader } from './epoch-view.ts';

export type AppendItem = { t: 'split' } | { t: 'empty' } | { t: 'leaf'; entry: MapEntry } | { t: 'node'; hash: Uint8Array };

export interface AppendOnlyProof {
  /** The entries added between the two epochs, sorted by label. */
  inserted: MapEntry[];
  items: AppendItem[];
}

/** Splits sorted entries (all under one node at `depth`) by their bit `depth`. */
function splitAt(entries: readonly MapEntry[], depth: number): [MapEntry[], MapEntry[]] {
  let i = 0;
  while (i < entries.length && bit(entries[i]!.label, depth) === 0) i++;
  return [entries.slice(0, i), entries.slice(i)];
}

function itemOf(s: Subtree): AppendItem {
  if (s.count === 0) return { t: 'empty' };
  if (s.count === 1) return { t: 'leaf', entry: s.entry! };
  return { t: 'node', hash: s.hash };
}

/** The proof that `old` plus `inserted` (sorted by label, none in `old`) is the new map. */
export async function proveAppendOnly(old: SubtreeReader, inserted: MapEntry[]): Promise<AppendOnlyProof> {
  const items: AppendItem[] = [];
  const walk = async (prefix: Uint8Array, depth: number, added: MapEntry[]): Promise<void> => {
    if (added.length === 0) {
      items.push(itemOf(await old.subtree(prefix, depth)));
      return;
    }
    // Where new entries pass, only whether the old subtree holds at most one entry matters, not its hash.
    const s = old.small ? await old.small(prefix, depth) : await old.subtree(prefix, depth);
    if (s && s.count < 2) {
      items.push(itemOf(s));
      return;
    }
    items.push({ t: 'split' });
    const [l, r] = splitAt(added, depth);
    await walk(childPrefix(prefix, depth, 0), depth + 1, l);
    await walk(childPrefix(prefix, depth, 1), depth + 1, r);
  };
  await walk(new Uint8Array(LABEL_BYTES), 0, inserted);
  return { inserted, items };
}

class Reject extends Error {}

/** Whether `newRoot` is the map of `oldRoot` plus exactly proof.inserted. */
export function verifyAppendOnly(oldRoot: Uint8Array, newRoot: Uint8Array, proof: AppendOnlyProof): boolean {
  const { inserted, items } = proof;
  for (let i = 0; i < inserted.length; i++) {
    const e = inserted[i]!;
    if (e.label.length !== LABEL_BYTES || e.commitment.length !== COMMITMENT_BYTES) return false;
    if (i > 0 && compareLabels(inserted[i - 1]!.label, e.label) >= 0) return false;
  }
  let next = 0;
  const take = (): AppendItem => {
    const it = items[next++];
    if (!it) throw new Reject();
    return it;
  };
  const oldSubtree = (it: AppendItem, prefix: Uint8Array, depth: number): Subtree => {
    if (it.t === 'empty') return EMPTY;
    if (it.t === 'leaf') {
      const e = it.entry;
      if (e.label.length !== LABEL_BYTES || e.commitment.length !== COMMITMENT_BYTES || !sharesPrefix(e.label, prefix, depth)) throw new Reject();
      return single(e);
    }
    if (it.t === 'node' && it.hash.length === 32) return { hash: it.hash, count: 2 };
    throw new Reject();
  };
  // Returns [old subtree, new subtree] of the node (prefix, depth); `added` are the new entries under it.
  const walk = (prefix: Uint8Array, depth: number, added: MapEntry[]): [Subtree, Subtree] => {
    if (depth > LABEL_BITS) throw new Reject();
    const it = take();
    if (added.length === 0) {
      if (it.t === 'split') throw new Reject();
      const s = oldSubtree(it, prefix, depth);
      return [s, s];
    }
    if (it.t === 'split') {
      const [l, r] = splitAt(added, depth);
      const [ol, nl] = walk(childPrefix(prefix, depth, 0), depth + 1, l);
      const [or, nr] = walk(childPrefix(prefix, depth, 1), depth + 1, r);
      return [combine(ol, or), combine(nl, nr)];
    }
    if (it.t === 'node') throw new Reject();
    const o = oldSubtree(it, prefix, depth);
    // The old entry here, if any, joins the new ones; it must not be one of them (that would be a change).
    let all = added;
    if (o.entry) {
      const e = o.entry;
      if (added.some((a) => equalHashes(a.label, e.label))) throw new Reject();
      all = [...added, e].sort((a, b) => compareLabels(a.label, b.label));
    }
    return [o, subtreeOf(all, depth)];
  };
  try {
    // Every inserted label must lie under the node it is handed to: splitAt does that by construction from the
    // root, where every label does.
    const [o, n] = walk(new Uint8Array(LABEL_BYTES), 0, inserted);
    return next === items.length && equalHashes(o.hash, oldRoot) && equalHashes(n.hash, newRoot);
  } catch (e) {
    if (e instanceof Reject) return false;
    throw e;
  }
}
