// Map head gossip (docs/transparency.md "Gossip"): the map heads a client and its contacts verified, compared.
// Two validly signed map heads of one domain and one epoch that differ (log size, log root or map root) are
// proof that the domain showed different maps to different people; so is a map head whose log root differs
// from a tree head's root at the same log size (the map head names the log it was built from). The signed
// heads are the proof, checkable by anyone. Heads of different epochs, and a map head's log against a tree
// head of another size, are for the domain to prove consistent (append-only and consistency proofs). Map heads
// signed by different log keys are judged with the domain's rotation statements, as tree heads are
// (kt-key-links.ts): keys a verified chain links are one domain's, a map head signed by another is reported apart.
import { equalHashes } from '../transparency/hash.ts';
import type { SignedMapHead } from '../transparency/map-head.ts';
import { distinctKeys, type WitnessedHead } from './kt-gossip.ts';
import type { DomainKeys, KeyLinks } from './kt-key-links.ts';
import { sameMapHead, type KtMapClient } from './kt-map-client.ts';
import { KtMapVerifyError } from './kt-map.ts';
import { KtVerifyError } from './kt-errors.ts';
import { IqError } from './errors.ts';

/** One signed map head and everyone who gossiped (or, for ourselves, verified) it. */
export interface WitnessedMapHead {
  head: SignedMapHead;
  by: string[];
}

export type MapSplitView = (
  /** Two map heads of one epoch with different content. */
  | { domain: string; kind: 'same-epoch'; heads: [WitnessedMapHead, WitnessedMapHead]; sameKey: boolean }
  /** The domain cannot prove the later of two map heads (consecutive epochs gossiped) extends the earlier. */
  | { domain: string; kind: 'not-append-only'; heads: [WitnessedMapHead, WitnessedMapHead]; sameKey: boolean; detail: string }
  /** A map head and a tree head of the same log size with different roots. */
  | { domain: string; kind: 'log-root'; mapHead: WitnessedMapHead; treeHead: WitnessedHead; sameKey: boolean }
  /** A map head whose log the domain cannot prove consistent with a tree head of another size. */
  | { domain: string; kind: 'log-inconsistent'; mapHead: WitnessedMapHead; treeHead: WitnessedHead; sameKey: boolean; detail: string }
) & {
  /**
   * Signed by different keys that the domain's verified rotation statements link: proof against the domain,
   * like one of a single key. Different keys without it (`sameKey: false`): the statements could not be had.
   */
  rotated?: boolean;
};

/** A map head signed by a log key that no verified rotation chain links to the domain's key. */
export interface UnlinkedMapHead {
  domain: string;
  code: 'unlinked-key';
  mapHead: WitnessedMapHead;
  /** The key it was checked against: the one pinned for the domain, else the key of the domain's current head. */
  reference: Uint8Array;
}

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
  unlinked: UnlinkedMapHead[];
  /** Checks that could not be made (a domain that did not answer), in words. */
  warnings: string[];
}

/** The first line of a failure: the proof's XML lines are shown from the heads themselves. */
const firstLine = (e: Error) => e.message.split('\n')[0]!;

/**
 * Per domain: the map heads and tree heads signed by the domain's own keys (when they carry more than one key:
 * linked to the reference by its verified rotation statements; a map head signed by another key is an
 * UnlinkedMapHead and compared with nothing; so are tree heads, which compareHeads reports), then
 * mapHeadSplits among them, then what the domain must prove: each gossiped epoch extends the one before it
 * (an append-only proof; checking consecutive epochs is enough, "extends" chains), and each map head's log is
 * consistent with the largest tree head when their sizes differ (tree heads are compared among themselves by
 * compareHeads). A failed proof is a split view with the domain's sentence as `detail`; a domain that does not
 * answer is a warning. When the statements cannot be had, heads of different keys are compared all the same,
 * with `sameKey: false` and a warning. `links`: the one given to compareHeads, so each domain is asked once.
 */
export async function compareMapHeads(map: KtMapClient, maps: WitnessedMapHead[], trees: WitnessedHead[], links: KeyLinks = map.keyLinks()): Promise<MapComparison> {
  const out: MapComparison = { splits: [], unlinked: [], warnings: [] };
  const warn = (what: string, e: unknown) => {
    if (!(e instanceof KtMapVerifyError) && !(e instanceof KtVerifyError) && !(e instanceof IqError)) throw e;
    out.warnings.push(`could not check ${what}: ${firstLine(e)}`);
  };
  for (const domain of new Set(maps.map((w) => w.head.domain))) {
    const own = await ownHeads(domain, maps.filter((w) => w.head.domain === domain), trees.filter((t) => t.head.domain === domain), links, out);
    const mark = <T extends MapSplitView>(v: T): T => (own.linked && !v.sameKey ? { ...v, rotated: true } : v);
    out.splits.push(...mapHeadSplits(own.maps, own.trees).map(mark));
    const epochs = [...new Map(own.maps.map((w) => [w.head.epoch, w])).values()].sort((a, b) => a.head.epoch - b.head.epoch);
    for (let i = 1; i < epochs.length; i++) {
      const [a, b] = [epochs[i - 1]!, epochs[i]!];
      try {
        await map.proveExtends(a.head, b.head, { from: `gossiped by ${a.by.join(', ')}`, to: `gossiped by ${b.by.join(', ')}` });
      } catch (e) {
        if (e instanceof KtMapVerifyError && (e.code === 'split-view' || e.code === 'not-append-only')) {
          out.splits.push(mark({ domain, kind: 'not-append-only', heads: [a, b], sameKey: equalHashes(a.head.key, b.head.key), detail: firstLine(e) }));
        } else {
          warn(`the map heads of ${domain} of epochs ${a.head.epoch} and ${b.head.epoch} against each other`, e);
        }
      }
    }
    const largest = [...own.trees].sort((a, b) => b.head.size - a.head.size)[0];
    if (!largest) continue;
    for (const m of epochs) {
      if (m.head.logSize === largest.head.size) continue; // mapHeadSplits compared the roots
      try {
        await map.checkLog(m.head, largest.head);
      } catch (e) {
        if (e instanceof KtMapVerifyError && e.code === 'log-mismatch') {
          out.splits.push(mark({ domain, kind: 'log-inconsistent', mapHead: m, treeHead: largest, sameKey: equalHashes(m.head.key, largest.head.key), detail: firstLine(e) }));
        } else {
          warn(`the map head of ${domain} of epoch ${m.head.epoch} against the tree head of size ${largest.head.size}`, e);
        }
      }
    }
  }
  return out;
}

/**
 * The heads of one domain signed by its own keys. `linked`: their keys were checked against the domain's
 * rotation statements (they carry more than one key, and the statements could be had).
 */
async function ownHeads(domain: string, maps: WitnessedMapHead[], trees: WitnessedHead[], links: KeyLinks, out: MapComparison) {
  if (distinctKeys([...maps, ...trees]).length <= 1) return { maps, trees, linked: false };
  let keys: DomainKeys;
  try {
    keys = await links(domain);
  } catch (e) {
    if (!(e instanceof KtVerifyError) && !(e instanceof IqError)) throw e;
    out.warnings.push(`could not check which log keys of ${domain} are its own (${firstLine(e)}); its map heads signed by different keys are compared without its rotation statements`);
    return { maps, trees, linked: false };
  }
  const own = { maps: maps.filter((w) => keys.linked(w.head.key)), trees: trees.filter((w) => keys.linked(w.head.key)), linked: true };
  for (const w of maps) if (!own.maps.includes(w)) out.unlinked.push({ domain, code: 'unlinked-key', mapHead: w, reference: keys.reference });
  return own;
}
