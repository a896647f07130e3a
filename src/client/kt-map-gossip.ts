// Map head gossip (docs/transparency.md "Gossip"): the map heads a client and its contacts verified, compared.
// Two validly signed map heads of one domain and one epoch that differ (log size, log root or map root) are
// proof that the domain showed different maps to different people; so is a map head whose log root differs
// from a tree head's root at the same log size (the map head names the log it was built from). The signed
// heads are the proof, checkable by anyone. Heads of different epochs, and a map head's log against a tree
// head of another size, are for the domain to prove consistent (append-only and consistency proofs).
import { equalHashes } from '../transparency/hash.ts';
import type { SignedMapHead } from '../transparency/map-head.ts';
import type { WitnessedHead } from './kt-gossip.ts';
import { sameMapHead, type KtMapClient } from './kt-map-client.ts';
import { KtMapVerifyError } from './kt-map.ts';
import { KtVerifyError } from './kt-errors.ts';
import { IqError } from './errors.ts';

/** One signed map head and everyone who gossiped (or, for ourselves, verified) it. */
export interface WitnessedMapHead {
  head: SignedMapHead;
  by: string[];
}

export type MapSplitView =
  /** Two map heads of one epoch with different content. */
  | { domain: string; kind: 'same-epoch'; heads: [WitnessedMapHead, WitnessedMapHead]; sameKey: boolean }
  /** The domain cannot prove the later of two map heads (consecutive epochs gossiped) extends the earlier. */
  | { domain: string; kind: 'not-append-only'; heads: [WitnessedMapHead, WitnessedMapHead]; sameKey: boolean; detail: string }
  /** A map head and a tree head of the same log size with different roots. */
  | { domain: string; kind: 'log-root'; mapHead: WitnessedMapHead; treeHead: WitnessedHead; sameKey: boolean }
  /** A map head whose log the domain cannot prove consistent with a tree head of another size. */
  | { domain: string; kind: 'log-inconsistent'; mapHead: WitnessedMapHead; treeHead: WitnessedHead; sameKey: boolean; detail: string };

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

export interface MapComparison {
  splits: MapSplitView[];
  /** Checks that could not be made (a domain that did not answer), in words. */
  warnings: string[];
}

/** The first line of a failure: the proof's XML lines are shown from the heads themselves. */
const firstLine = (e: Error) => e.message.split('\n')[0]!;

/**
 * mapHeadSplits, then what the domain must prove, per domain: each gossiped epoch extends the one before it
 * (an append-only proof; checking consecutive epochs is enough, "extends" chains), and each map head's log is
 * consistent with the largest tree head when their sizes differ (tree heads are compared among themselves by
 * compareHeads). A failed proof is a split view with the domain's sentence as `detail`; a domain that does not
 * answer is a warning.
 */
export async function compareMapHeads(map: KtMapClient, maps: WitnessedMapHead[], trees: WitnessedHead[]): Promise<MapComparison> {
  const out: MapComparison = { splits: mapHeadSplits(maps, trees), warnings: [] };
  const warn = (what: string, e: unknown) => {
    if (!(e instanceof KtMapVerifyError) && !(e instanceof KtVerifyError) && !(e instanceof IqError)) throw e;
    out.warnings.push(`could not check ${what}: ${firstLine(e)}`);
  };
  for (const domain of new Set(maps.map((w) => w.head.domain))) {
    const epochs = [...new Map(maps.filter((w) => w.head.domain === domain).map((w) => [w.head.epoch, w])).values()].sort((a, b) => a.head.epoch - b.head.epoch);
    for (let i = 1; i < epochs.length; i++) {
      const [a, b] = [epochs[i - 1]!, epochs[i]!];
      try {
        await map.proveExtends(a.head, b.head, { from: `gossiped by ${a.by.join(', ')}`, to: `gossiped by ${b.by.join(', ')}` });
      } catch (e) {
        if (e instanceof KtMapVerifyError && (e.code === 'split-view' || e.code === 'not-append-only')) {
          out.splits.push({ domain, kind: 'not-append-only', heads: [a, b], sameKey: equalHashes(a.head.key, b.head.key), detail: firstLine(e) });
        } else {
          warn(`the map heads of ${domain} of epochs ${a.head.epoch} and ${b.head.epoch} against each other`, e);
        }
      }
    }
    const largest = trees.filter((t) => t.head.domain === domain).sort((a, b) => b.head.size - a.head.size)[0];
    if (!largest) continue;
    for (const m of epochs) {
      if (m.head.logSize === largest.head.size) continue; // mapHeadSplits compared the roots
      try {
        await map.checkLog(m.head, largest.head);
      } catch (e) {
        if (e instanceof KtMapVerifyError && e.code === 'log-mismatch') {
          out.splits.push({ domain, kind: 'log-inconsistent', mapHead: m, treeHead: largest, sameKey: equalHashes(m.head.key, largest.head.key), detail: firstLine(e) });
        } else {
          warn(`the map head of ${domain} of epoch ${m.head.epoch} against the tree head of size ${largest.head.size}`, e);
        }
      }
    }
  }
  return out;
}
