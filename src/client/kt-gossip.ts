// Head gossip (docs/transparency.md "Gossip"): a client publishes the latest head it verified for each
// domain to its own PEP node `urn:pepkeys:kt:0:gossip` (item `current`, presence access), and reads its
// contacts' nodes. Two validly signed heads of one domain with the same size and different roots, or of
// different sizes that the domain cannot prove consistent, are proof that the domain showed different logs
// to different people (a split view): the two heads and their signatures are the proof, checkable by anyone.
// Heads signed by different log keys are compared the same way when a verified rotation chain links the keys
// (docs/transparency.md "Log key and rotation"); a head signed by a key no chain links is reported apart.
// The payload also carries the last map head verified per domain (Stage 2), compared in kt-map-gossip.ts;
// clients that know only tree heads ignore them.
import { x, type Element } from '../xml/index.ts';
import { equalHashes } from '../transparency/hash.ts';
import { buildTreeHead, KtFormatError, NS_KT, parseTreeHead } from '../transparency/protocol.ts';
import { buildMapHead, parseMapHead } from '../transparency/map-protocol.ts';
import { verifyMapHead, type SignedMapHead } from '../transparency/map-head.ts';
import { verifyTreeHead, type SignedTreeHead } from '../transparency/tree-head.ts';
import { KtVerifyError } from './kt-errors.ts';
import type { KtClient } from './transparency.ts';
import { keyLinks, type DomainKeys, type KeyLinks } from './kt-key-links.ts';
import type { XmppClient } from './client.ts';
import { IqError } from './errors.ts';
import { configureNode, getItems, publishItem, type NodeOptions } from './pubsub.ts';

export const KT_GOSSIP_NODE = `${NS_KT}:gossip`;
export const KT_GOSSIP_ITEM = 'current';
/** Presence access: the contacts who see our presence may compare heads with us; nobody else learns which domains we follow. */
const GOSSIP_OPTIONS: NodeOptions = { accessModel: 'presence', maxItems: 1 };

export function buildGossip(heads: SignedTreeHead[], mapHeads: SignedMapHead[] = []): Element {
  return x('gossip', { xmlns: NS_KT }, [...heads.map(buildTreeHead), ...mapHeads.map(buildMapHead)]);
}

export interface Gossip {
  heads: SignedTreeHead[];
  mapHeads: SignedMapHead[];
  invalid: string[];
}

/** The heads in a gossip payload whose signature verifies; the others are reported, not used. */
export function parseGossip(el: Element): Gossip {
  if (el.local !== 'gossip' || el.ns !== NS_KT) throw new KtFormatError(`not a gossip payload: <${el.local} xmlns='${el.ns}'>`);
  const heads: SignedTreeHead[] = [];
  const mapHeads: SignedMapHead[] = [];
  const invalid: string[] = [];
  for (const c of el.getChildren('map-head', NS_KT)) {
    try {
      const h = parseMapHead(c);
      if (verifyMapHead(h)) mapHeads.push(h);
      else invalid.push(`a map head of ${h.domain} (epoch ${h.epoch}) whose signature does not verify`);
    } catch (e) {
      invalid.push(`a malformed map head: ${(e as Error).message}`);
    }
  }
  for (const c of el.getChildren('tree-head', NS_KT)) {
    try {
      const h = parseTreeHead(c);
      if (verifyTreeHead(h)) heads.push(h);
      else invalid.push(`a head of ${h.domain} (size ${h.size}) whose signature does not verify`);
    } catch (e) {
      invalid.push(`a malformed head: ${(e as Error).message}`);
    }
  }
  return { heads, mapHeads, invalid };
}

/** Publishes our heads; a node created earlier with other options is reconfigured to presence access. */
export async function publishGossip(client: XmppClient, heads: SignedTreeHead[], mapHeads: SignedMapHead[] = []): Promise<void> {
  const payload = buildGossip(heads, mapHeads);
  try {
    await publishItem(client, KT_GOSSIP_NODE, payload, KT_GOSSIP_ITEM, GOSSIP_OPTIONS);
  } catch (e) {
    if (!(e instanceof IqError && e.appCondition === 'precondition-not-met')) throw e;
    await configureNode(client, KT_GOSSIP_NODE, GOSSIP_OPTIONS);
    await publishItem(client, KT_GOSSIP_NODE, payload, KT_GOSSIP_ITEM, GOSSIP_OPTIONS);
  }
}

/** A contact's gossiped heads; none when the contact has no gossip node. */
export async function fetchGossip(client: XmppClient, jid: string, timeoutMs?: number): Promise<Gossip> {
  const out: Gossip = { heads: [], mapHeads: [], invalid: [] };
  let items;
  try {
    items = await getItems(client, jid, KT_GOSSIP_NODE, timeoutMs);
  } catch (e) {
    if (e instanceof IqError && e.condition === 'item-not-found') return out;
    throw e;
  }
  for (const it of items) {
    if (!it.payload) continue;
    const g = parseGossip(it.payload);
    out.heads.push(...g.heads);
    out.mapHeads.push(...g.mapHeads);
    out.invalid.push(...g.invalid);
  }
  return out;
}

/** One signed head and everyone who gossiped (or, for ourselves, verified) it. */
export interface WitnessedHead {
  head: SignedTreeHead;
  by: string[];
}

/** Two signed heads of one domain that cannot both be true of one append-only log. */
export interface SplitView {
  domain: string;
  /** `same-size`: equal sizes, different roots. `inconsistent`: the domain could not prove the smaller a prefix of the larger. */
  kind: 'same-size' | 'inconsistent';
  heads: [WitnessedHead, WitnessedHead];
  /**
   * Both signed by the same log key, or by keys a verified rotation chain links (`rotated`): proof against the
   * domain. Different unlinked keys: someone impersonating the domain towards one side (only when the keys
   * could not be checked against the domain; otherwise such a head is an UnlinkedHead).
   */
  sameKey: boolean;
  /** Different keys, linked by the domain's verified rotation statements. */
  rotated?: boolean;
  /** For `inconsistent`: what the consistency check said. */
  detail?: string;
}

/**
 * Merges heads that say the same (domain, size, root, log key; heads signed at different times differ only in
 * time and signature), keeping who saw them and the first signed head as the one to show.
 */
export function witnessed(seen: { head: SignedTreeHead; by: string }[]): WitnessedHead[] {
  const out: WitnessedHead[] = [];
  for (const { head, by } of seen) {
    const same = out.find((w) => w.head.domain === head.domain && w.head.size === head.size && equalHashes(w.head.root, head.root)
      && equalHashes(w.head.key, head.key));
    if (same) {
      if (!same.by.includes(by)) same.by.push(by);
    } else {
      out.push({ head, by: [by] });
    }
  }
  return out;
}

/** The pairs of validly signed heads of one domain with the same size and different roots. */
export function sameSizeSplits(heads: WitnessedHead[]): SplitView[] {
  const out: SplitView[] = [];
  for (let i = 0; i < heads.length; i++) {
    for (let j = i + 1; j < heads.length; j++) {
      const a = heads[i]!;
      const b = heads[j]!;
      if (a.head.domain === b.head.domain && a.head.size === b.head.size && !equalHashes(a.head.root, b.head.root)) {
        out.push({ domain: a.head.domain, kind: 'same-size', heads: [a, b], sameKey: equalHashes(a.head.key, b.head.key) });
      }
    }
  }
  return out;
}

/** A head signed by a log key that no verified rotation chain links to the domain's key. */
export interface UnlinkedHead {
  domain: string;
  code: 'unlinked-key';
  head: WitnessedHead;
  /** The key it was checked against: the one pinned for the domain, else the key of the domain's current head. */
  reference: Uint8Array;
}

export interface HeadComparison {
  splits: SplitView[];
  unlinked: UnlinkedHead[];
  /** Checks that could not be made (a domain that did not answer), in words. */
  warnings: string[];
}

/**
 * Compares the heads of each domain. Heads whose log keys a verified rotation chain links to the reference
 * key (`pinned`, else the key of the domain's current head) are one log: equal sizes must have equal roots,
 * and each smaller head must be proven a prefix of the next larger one (checking each size step is enough:
 * "is a prefix of" chains). A head signed by a key no chain links is an UnlinkedHead. When the reference
 * cannot be had, heads are compared per key only. `links`: pass the one given to compareMapHeads too, so each
 * domain is asked once.
 */
export async function compareHeads(
  kt: KtClient, heads: WitnessedHead[], pinned: (domain: string) => Promise<Uint8Array | undefined>, links: KeyLinks = keyLinks(kt, pinned),
): Promise<HeadComparison> {
  const out: HeadComparison = { splits: [], unlinked: [], warnings: [] };
  const byDomain = new Map<string, WitnessedHead[]>();
  for (const w of heads) byDomain.set(w.head.domain, [...(byDomain.get(w.head.domain) ?? []), w]);
  for (const [domain, group] of byDomain) {
    const keys = distinctKeys(group);
    if (keys.length === 1) {
      await compareOneLog(kt, group, out);
      continue;
    }
    let own: DomainKeys;
    try {
      own = await links(domain);
    } catch (e) {
      if (!(e instanceof KtVerifyError) && !(e instanceof IqError)) throw e;
      out.warnings.push(`could not check which log keys of ${domain} are its own (${(e as Error).message}); its heads are compared per key only`);
      for (const k of keys) await compareOneLog(kt, group.filter((w) => equalHashes(w.head.key, k)), out);
      continue;
    }
    const one = group.filter((w) => own.linked(w.head.key));
    for (const w of group) if (!one.includes(w)) out.unlinked.push({ domain, code: 'unlinked-key', head: w, reference: own.reference });
    await compareOneLog(kt, one, out);
  }
  return out;
}

export function distinctKeys(heads: { head: { key: Uint8Array } }[]): Uint8Array[] {
  const keys: Uint8Array[] = [];
  for (const w of heads) if (!keys.some((k) => equalHashes(k, w.head.key))) keys.push(w.head.key);
  return keys;
}

/** Heads of one domain that must all be views of one log (same key, or keys linked by rotations). */
async function compareOneLog(kt: KtClient, heads: WitnessedHead[], out: HeadComparison): Promise<void> {
  const mark = (v: SplitView): SplitView => (v.sameKey ? v : { ...v, sameKey: false, rotated: true });
  out.splits.push(...sameSizeSplits(heads).map(mark));
  const bySize = [...new Map(heads.map((w) => [w.head.size, w])).values()].sort((a, b) => a.head.size - b.head.size);
  for (let i = 1; i < bySize.length; i++) {
    const [a, b] = [bySize[i - 1]!, bySize[i]!];
    try {
      await kt.verifyConsistent(a.head.domain, a.head, b.head);
    } catch (e) {
      if (e instanceof KtVerifyError && e.code === 'inconsistent') {
        out.splits.push(mark({ domain: a.head.domain, kind: 'inconsistent', heads: [a, b], sameKey: equalHashes(a.head.key, b.head.key), detail: e.message }));
      } else {
        out.warnings.push(`could not check the heads of ${a.head.domain} of sizes ${a.head.size} and ${b.head.size} against each other: ${(e as Error).message}`);
      }
    }
  }
}
