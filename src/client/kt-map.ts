// Client-side verification of Stage 2 answers (docs/transparency.md "What a lookup proves"): a lookup or
// history of (JID, node) against a signed map head and the domain's VRF public key, and an append-only proof
// between two map heads. Every check is local; a failure is a KtMapVerifyError saying what the domain did wrong.
import type { Element } from '../xml/index.ts';
import { equalHashes, leafHash } from '../transparency/hash.ts';
import { verifyInclusion } from '../transparency/inclusion.ts';
import { decodeLeaf, LeafFormatError } from '../transparency/leaf.ts';
import { KtFormatError, NS_KT, parseHashes, uint, unb64 } from '../transparency/protocol.ts';
import { verifyMapHead, type SignedMapHead } from '../transparency/map-head.ts';
import { parseAppendProof, parseMapHead, parsePath } from '../transparency/map-protocol.ts';
import { MapLabelError, verifyMapLabel } from '../transparency/map-label.ts';
import { verifyOpening } from '../transparency/map-commitment.ts';
import { verifyMembership, verifyNonMembership } from '../transparency/map/lookup-proof.ts';
import { verifyAppendOnly } from '../transparency/map/append-proof.ts';
import { EMPTY_SUBTREE } from '../transparency/map/hash.ts';

export type KtMapVerifyCode =
  | 'bad-signature' // the map head's signature does not verify
  | 'key-changed' // the head is signed by a key other than the pinned log key
  | 'wrong-domain'
  | 'vrf' // a label is not the VRF output for this (JID, node, version)
  | 'opening' // the commitment does not open to the leaf's hash
  | 'bad-leaf' // the log leaf is not a key event of this (JID, node), or not at its sequence number
  | 'inclusion' // the leaf is not in the log at the head's log size
  | 'membership' // a version's entry is not in the map under the head's root
  | 'non-membership' // the next version's absence is not proven against the head's root
  | 'not-append-only' // the later map is not the earlier one plus new entries
  | 'not-latest' // a fetched item is not the latest version the map proves (`key fetch --verify-map`)
  | 'vrf-key-changed' // the domain serves another VRF key than the one pinned
  | 'not-in-map' // with --strict: a fetched item is newer than the map's latest epoch
  | 'split-view' // a map head of an epoch already verified, with other content: both heads are the proof
  | 'rollback' // a map head of an epoch older than the one verified before
  | 'log-mismatch' // the map head's (log size, log root) is not consistent with the tree head verified before
  | 'bad-answer';

export class KtMapVerifyError extends Error {
  /** For split-view, rollback and log-mismatch: the two signed heads (XML) that contradict each other. */
  constructor(readonly code: KtMapVerifyCode, message: string, readonly proof: string[] = []) {
    super(message);
    this.name = 'KtMapVerifyError';
  }
}

export interface MapTrust {
  domain: string;
  /** The domain's VRF public key (its <vrf-key/>, pinned like the log key). */
  vrfKey: Uint8Array;
  /** The domain's pinned log key; when given, the map head must be signed with it. */
  logKey?: Uint8Array;
}

/** What checking a map head needs (an append-only proof has no labels to check). */
export type HeadTrust = Pick<MapTrust, 'domain' | 'logKey'>;

export interface VerifiedVersion {
  version: number;
  seq: number;
  leaf: Uint8Array;
}

export interface VerifiedLookup {
  head: SignedMapHead;
  /** The versions shown, oldest first: the latest only for a lookup, all of them for a history. */
  versions: VerifiedVersion[];
  /** The number of versions (JID, node) has in the map as of the head: 0 when it has no key event. */
  latest: number;
}

const fail = (code: KtMapVerifyCode, message: string): never => {
  throw new KtMapVerifyError(code, message);
};

function checkHead(el: Element | undefined, trust: HeadTrust): SignedMapHead {
  if (!el) return fail('bad-answer', 'no map head in the answer');
  const head = parseMapHead(el);
  if (head.domain !== trust.domain) fail('wrong-domain', `a map head of ${head.domain}, not ${trust.domain}`);
  if (!verifyMapHead(head)) fail('bad-signature', `the map head of epoch ${head.epoch} is not validly signed`);
  if (trust.logKey && !equalHashes(head.key, trust.logKey)) fail('key-changed', 'the map head is signed by a key other than the pinned log key');
  return head;
}

/** A malformed answer (bad base64, a version with no label encoding, …) is the domain's fault too: 'bad-answer'. */
function malformedIsBad<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof KtMapVerifyError) throw err;
    if (err instanceof KtFormatError || err instanceof MapLabelError || err instanceof LeafFormatError) throw new KtMapVerifyError('bad-answer', `malformed answer: ${err.message}`);
    throw err;
  }
}

/** Verifies a <map-lookup/> answer for (jid, node); `history` when all versions were asked for. */
export function verifyMapLookup(answer: Element, trust: MapTrust, jid: string, node: string, history: boolean): VerifiedLookup {
  return malformedIsBad(() => lookupChecks(answer, trust, jid, node, history));
}

function lookupChecks(answer: Element, trust: MapTrust, jid: string, node: string, history: boolean): VerifiedLookup {
  if (answer.local !== 'map-lookup' || answer.ns !== NS_KT) fail('bad-answer', 'not a map lookup');
  if (answer.attrs.jid !== jid || answer.attrs.node !== node) fail('bad-answer', 'a lookup of another (JID, node)');
  const head = checkHead(answer.getChild('map-head', NS_KT), trust);
  const label = (version: number, el: Element, code: 'vrf'): Uint8Array => {
    const claimed = unb64(el.attrs.label, 32);
    const proved = verifyMapLabel(trust.vrfKey, jid, node, version, unb64(el.attrs.vrf, 80));
    if (!proved || !equalHashes(proved, claimed)) fail(code, `version ${version}'s label is not the VRF output for ${jid} ${node}`);
    return claimed;
  };
  const versions: VerifiedVersion[] = [];
  for (const v of answer.getChildren('version', NS_KT)) {
    const n = uint(v.attrs.n, 'n');
    const l = label(n, v, 'vrf');
    const seq = uint(v.attrs.seq, 'seq');
    const leaf = unb64(v.getChildText('leaf', NS_KT), undefined);
    let ev;
    try {
      ev = decodeLeaf(leaf);
    } catch {
      return fail('bad-leaf', `version ${n}'s log leaf does not decode`);
    }
    if (ev.jid !== jid || ev.node !== node || ev.seq !== seq) fail('bad-leaf', `version ${n}'s log leaf is not a key event of ${jid} ${node} at ${seq}`);
    const commitment = unb64(v.attrs.commitment, 32);
    if (!verifyOpening(commitment, unb64(v.attrs.nonce, 32), l, leafHash(leaf))) fail('opening', `version ${n}'s commitment does not open to its log leaf`);
    const inclusion = v.getChild('inclusion', NS_KT);
    if (!inclusion || uint(inclusion.attrs.size, 'size') !== head.logSize || !verifyInclusion(seq, head.logSize, leafHash(leaf), parseHashes(inclusion), head.logRoot)) {
      fail('inclusion', `version ${n}'s log leaf is not in the log of ${head.logSize} leaves the map head names`);
    }
    if (!verifyMembership(head.root, { label: l, commitment }, parsePath(v, false).siblings)) fail('membership', `version ${n} is not in the map of epoch ${head.epoch}`);
    versions.push({ version: n, seq, leaf });
  }
  const absent = answer.getChild('absent', NS_KT) ?? fail('bad-answer', 'no proof that the next version is absent');
  const next = uint(absent.attrs.n, 'n');
  const latest = next - 1;
  // What was shown must be exactly the latest version, or every version 1..latest.
  const expected = history ? Array.from({ length: latest }, (_, i) => i + 1) : latest > 0 ? [latest] : [];
  if (versions.length !== expected.length || versions.some((v, i) => v.version !== expected[i])) fail('bad-answer', `the versions shown are not ${history ? 'all versions' : 'the latest version'} below ${next}`);
  const absentLabel = label(next, absent, 'vrf');
  if (!verifyNonMembership(head.root, absentLabel, parsePath(absent, true))) fail('non-membership', `version ${next} is not proven absent: the answer may hide a newer key`);
  return { head, versions, latest };
}

/** Verifies a <map-append/> answer: the map of its `to` head is the map of its `from` head plus new entries. */
export function verifyMapAppend(answer: Element, trust: HeadTrust): { from?: SignedMapHead; to: SignedMapHead; inserted: number } {
  return malformedIsBad(() => appendChecks(answer, trust));
}

function appendChecks(answer: Element, trust: HeadTrust): { from?: SignedMapHead; to: SignedMapHead; inserted: number } {
  if (answer.local !== 'map-append' || answer.ns !== NS_KT) fail('bad-answer', 'not an append-only proof');
  const heads = answer.getChildren('map-head', NS_KT).map((h) => checkHead(h, trust));
  const from = uint(answer.attrs.from, 'from');
  const [a, b] = from === 0 ? [undefined, heads[0]] : [heads[0], heads[1]];
  if (!b || (from > 0 && a?.epoch !== from) || b.epoch !== uint(answer.attrs.to, 'to')) fail('bad-answer', 'the map heads are not those of the epochs asked for');
  if (a && (a.logSize > b!.logSize || a.time > b!.time)) fail('not-append-only', 'the later map head covers less of the log');
  const proof = parseAppendProof(answer);
  if (!verifyAppendOnly(a?.root ?? EMPTY_SUBTREE, b!.root, proof)) fail('not-append-only', `the map of epoch ${b!.epoch} is not the map of epoch ${from} plus new entries`);
  return { from: a, to: b!, inserted: proof.inserted.length };
}
