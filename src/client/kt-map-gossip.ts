// Map head gossip (docs/transparency.md "Gossip"): the map heads a client and its contacts verified, compared
// without asking the domain anything. Two validly signed map heads of one domain and one epoch that differ
// (log size, log root or map root) are proof that the domain showed different maps to different people; so is
// a map head whose log root differs from a tree head's root at the same log size (the map head names the log
// it was built from). The signed heads are the proof, checkable by anyone.
import { equalHashes } from '../transparency/hash.ts';
import type { SignedMapHead } from '../transparency/map-head.ts';
import type { WitnessedHead } from './kt-gossip.ts';
import { sameMapHead } from './kt-map-client.ts';

/** One signed map head and everyone who gossiped (or, for ourselves, verified) it. */
export interface WitnessedMapHead {
  head: SignedMapHead;
  by: string[];
}

export type MapSplitView =
  /** Two map heads of one epoch with different content. */
  | { domain: string; kind: 'same-epoch'; heads: [WitnessedMapHead, WitnessedMapHead]; sameKey: boolean }
  /** A map head and a tree head of the same log size with different roots. */
  | { domain: string; kind: 'log-root'; mapHead: WitnessedMapHead; treeHead: WitnessedHead; sameKey: boolean };

/** Merges map heads that say the same (they differ at most in who saw them). */
export function witnessedMapHeads(seen: { head: SignedMapHead; by: string }[]): WitnessedMapHead[] {
  const out: WitnessedMapHead[] = [];
  for (const { head, by } of seen) {
    const same = out.find((w) => sameMapHead(w.head, head) && equalHashes(w.head.key, head.key));
    if (same) {
      if (!same.by.includes(by)) same.by.push(by);
    } else {
      out.push({ head, by: [by] });
    }
  }
  return out;
}

/** The split views among the map heads, and between map heads and the tree heads (already merged by `witnessed`). */
export function mapHeadSplits(maps: WitnessedMapHead[], trees: WitnessedHead[]): MapSplitView[] {
  const out: MapSplitView[] = [];
  for (let i = 0; i < maps.length; i++) {
    const a = maps[i]!;
    for (let j = i + 1; j < maps.length; j++) {
      const b = maps[j]!;
      if (a.head.domain === b.head.domain && a.head.epoch === b.head.epoch && !sameMapHead(a.head, b.head)) {
        out.push({ domain: a.head.domain, kind: 'same-epoch', heads: [a, b], sameKey: equalHashes(a.head.key, b.head.key) });
      }
    }
    for (const t of trees) {
      if (t.head.domain === a.head.domain && t.head.size === a.head.logSize && !equalHashes(t.head.root, a.head.logRoot)) {
        out.push({ domain: a.head.domain, kind: 'log-root', mapHead: a, treeHead: t, sameKey: equalHashes(a.head.key, t.head.key) });
      }
    }
  }
  return out;
}
