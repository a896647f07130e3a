// The client's Stage 2 state per domain (docs/transparency.md "Client state of the map"): the VRF key pinned on
// first use and the last map head verified, kept beside the tree head (kt-head-store.ts). Every map head a
// lookup brings is checked against both before it is kept:
// - a newer epoch must come with a verified append-only proof from the stored epoch (`<map-append/>`, asked
//   in halves when the span is too long for one answer);
// - the same epoch with other content is a split view (the two signed heads are the proof), an older epoch a
//   rollback;
// - its (log size, log root) must be the stored tree head's when the sizes are equal, else consistent with it
//   (the domain proves it like between tree heads).
import { x, type Element } from '../xml/index.ts';
import { parseJid } from '../jid/index.ts';
import { equalHashes } from '../transparency/hash.ts';
import { buildTreeHead, KtFormatError, NS_KT } from '../transparency/protocol.ts';
import { parseVrfKey } from '../transparency/vrf-key.ts';
import { buildMapHead } from '../transparency/map-protocol.ts';
import type { SignedMapHead } from '../transparency/map-head.ts';
import type { SignedTreeHead } from '../transparency/tree-head.ts';
import { KtMapVerifyError, verifyMapAppend, verifyMapLookup, type VerifiedLookup } from './kt-map.ts';
import { FileKtHeadStore, type KtHeadStore } from './kt-head-store.ts';
import { KtClient, type LogPoint } from './transparency.ts';
import { KtVerifyError } from './kt-errors.ts';
import { keyLinks, type KeyLinks } from './kt-key-links.ts';
import { IqError } from './errors.ts';
import type { XmppClient } from './client.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export interface MapLookupResult extends VerifiedLookup {
  /** The map head verified before this lookup's (undefined on first use). */
  previous?: SignedMapHead;
  /** Entries the append-only proof from `previous` showed inserted (0 when the epoch did not change). */
  inserted: number;
  /** The domain's VRF key the labels were checked with, and whether this lookup pinned it (first use). */
  vrfKey: Uint8Array;
  vrfKeyPinnedNow: boolean;
}

/** Same statement: two signed heads of one epoch may differ only in their signature (never, with Ed25519). */
export function sameMapHead(a: SignedMapHead, b: SignedMapHead): boolean {
  return a.domain === b.domain && a.epoch === b.epoch && a.logSize === b.logSize && equalHashes(a.logRoot, b.logRoot) && equalHashes(a.root, b.root);
}

export const describeMapHead = (h: SignedMapHead): string =>
  `epoch ${h.epoch}, log size ${h.logSize}, log root ${hex(h.logRoot).slice(0, 16)}…, map root ${hex(h.root).slice(0, 16)}…, time ${new Date(h.time).toISOString()}`;

export class KtMapClient {
  private readonly kt: KtClient;

  constructor(private readonly client: XmppClient, private readonly store: KtHeadStore, private readonly timeoutMs?: number) {
    this.kt = new KtClient(client, store, timeoutMs);
  }

  private async ask(domain: string, payload: Element): Promise<Element> {
    const r = await this.client.iq(x('iq', { type: 'get', to: domain }, payload), this.timeoutMs);
    return r.getChild(payload.local, NS_KT) ?? fail('bad-answer', `${domain} answered <${payload.local}/> without a <${payload.local}/>`);
  }

  /** Which log keys are each domain's own, from the key pinned in the store and the domain's rotation statements. */
  keyLinks(): KeyLinks {
    return keyLinks(this.kt, async (domain) => (await this.store.get(domain))?.key);
  }

  private where(): string {
    return this.store instanceof FileKtHeadStore ? ` in ${this.store.path}` : '';
  }

  /** The VRF key to check labels with: the pinned one, else (first use) the one served. */
  async vrfKey(domain: string): Promise<{ key: Uint8Array; firstUse: boolean }> {
    const el = await this.ask(domain, x('vrf-key', { xmlns: NS_KT }));
    let served: Uint8Array;
    try {
      served = parseVrfKey(el);
    } catch (err) {
      if (!(err instanceof KtFormatError)) throw err;
      return fail('bad-answer', `${domain} sent a malformed VRF key: ${err.message}`);
    }
    const pinned = await this.store.getVrfKey(domain);
    if (pinned && !equalHashes(pinned, served)) {
      fail('vrf-key-changed', `${domain} now serves another VRF key than the one pinned${this.where()}: its labels can no longer be checked (pinned ${hex(pinned)}, served ${hex(served)})`);
    }
    return { key: served, firstUse: !pinned };
  }

  /**
   * Looks (jid, node) up in its domain's map and verifies the answer, then checks its map head against the
   * domain's stored state (accept) and keeps it. A domain with no tree head stored gets one first: it pins the
   * log key the map head must be signed with, and is the log the map head is checked against. A map head
   * signed by another key brings the tree head up to date (which follows a signed log key rotation, or fails).
   */
  async lookup(jid: string, node: string, history: boolean): Promise<MapLookupResult> {
    const domain = parseJid(jid).domain;
    const vrf = await this.vrfKey(domain);
    if (!(await this.store.get(domain))) await this.kt.update(domain);
    const answer = await this.ask(domain, x('map-lookup', { xmlns: NS_KT, jid, node, history: String(history) }));
    const verify = async () => verifyMapLookup(answer, { domain, vrfKey: vrf.key, logKey: (await this.store.get(domain))?.key }, jid, node, history);
    let v: VerifiedLookup;
    try {
      v = await verify();
    } catch (err) {
      if (!(err instanceof KtMapVerifyError && err.code === 'key-changed')) throw err;
      await this.kt.update(domain);
      v = await verify();
    }
    const { previous, inserted } = await this.accept(v.head);
    if (vrf.firstUse) await this.store.putVrfKey(domain, vrf.key);
    return { ...v, ...(previous ? { previous } : {}), inserted, vrfKey: vrf.key, vrfKeyPinnedNow: vrf.firstUse };
  }

  /**
   * Checks a map head (its signature already verified) against the last one stored for its domain and the
   * stored tree head, and stores it when it is newer. Throws a KtMapVerifyError (split-view, rollback,
   * not-append-only, log-mismatch) otherwise.
   */
  async accept(head: SignedMapHead): Promise<{ previous?: SignedMapHead; inserted: number }> {
    const domain = head.domain;
    const previous = await this.store.getMapHead(domain);
    let inserted = 0;
    if (previous) {
      if (head.epoch < previous.epoch) {
        fail('rollback', `${domain} serves map epoch ${head.epoch}, but epoch ${previous.epoch} was verified before: an old map served as current (${describeMapHead(head)})`, [previous, head]);
      }
      if (head.epoch === previous.epoch && !sameMapHead(head, previous)) splitView(previous, head, 'verified before', 'served now');
      if (head.epoch > previous.epoch) inserted = await this.proveExtends(previous, head);
    }
    const tree = await this.store.get(domain);
    if (tree) await this.checkLog(head, tree);
    if (!previous || head.epoch > previous.epoch) await this.store.putMapHead(head);
    return { ...(previous ? { previous } : {}), inserted };
  }

  /**
   * Proves the map of `to` extends the map of `from` (two verified heads of one domain, `from` the older), in
   * steps the domain agrees to answer; returns the entries inserted.
   */
  async proveExtends(from: SignedMapHead, to: SignedMapHead, names = { from: 'verified before', to: 'of the lookup' }): Promise<number> {
    const domain = to.domain;
    const logKey = (await this.store.get(domain))?.key;
    let at = from;
    let step = to.epoch;
    let inserted = 0;
    while (at.epoch < to.epoch) {
      let answer: Element;
      try {
        answer = await this.ask(domain, x('map-append', { xmlns: NS_KT, from: String(at.epoch), to: String(step) }));
      } catch (err) {
        // Too many entries for one answer: ask for half the span (each step's heads chain to the next).
        if (err instanceof IqError && err.condition === 'not-acceptable' && step - at.epoch > 1) {
          step = at.epoch + Math.ceil((step - at.epoch) / 2);
          continue;
        }
        throw err;
      }
      // No key imposed on the proof's heads: the older ones may be signed by a log key rotated away since. Each
      // must say what a head already trusted says; an intermediate one be signed by the key before or now.
      const r = verifyMapAppend(answer, { domain });
      if (!sameMapHead(r.from!, at)) splitView(at, r.from!, at === from ? names.from : 'of the previous step', 'in the append-only proof');
      if (step === to.epoch && !sameMapHead(r.to, to)) splitView(to, r.to, names.to, 'in the append-only proof');
      if (step < to.epoch && ![at.key, logKey].some((k) => k && equalHashes(k, r.to.key))) {
        fail('key-changed', `the map head of epoch ${r.to.epoch} in ${domain}'s append-only proof is signed by a key that is neither its log key nor the one of epoch ${at.epoch}`);
      }
      inserted += r.inserted;
      at = r.to;
      step = to.epoch;
    }
    return inserted;
  }

  /** The map head's log (size, root) against a verified tree head of its domain: equal at equal sizes, else proven consistent. */
  async checkLog(head: SignedMapHead, tree: SignedTreeHead): Promise<void> {
    const domain = head.domain;
    const mapLog: LogPoint = { size: head.logSize, root: head.logRoot };
    const mismatch = (why: string): never =>
      fail('log-mismatch', `the map head of ${domain} (${describeMapHead(head)}) names a log that ${why} the tree head of size ${tree.size} (root ${hex(tree.root).slice(0, 16)}…): ${domain} signed two different logs`, [tree, head]);
    if (head.logSize === tree.size) {
      if (!equalHashes(head.logRoot, tree.root)) mismatch('has another root than');
      return;
    }
    const [older, newer] = head.logSize < tree.size ? [mapLog, tree] : [tree, mapLog];
    try {
      await this.kt.verifyConsistent(domain, older, newer);
    } catch (err) {
      if (err instanceof KtVerifyError && err.code === 'inconsistent') mismatch('the domain cannot prove consistent with');
      throw err;
    }
  }
}

function fail(code: KtMapVerifyError['code'], message: string, heads: (SignedMapHead | SignedTreeHead)[] = []): never {
  const proof = heads.map((h) => ('epoch' in h ? buildMapHead(h) : buildTreeHead(h)).toString());
  throw new KtMapVerifyError(code, proof.length ? `${message}\n${proof.map((p) => `  ${p}`).join('\n')}` : message, proof);
}

function splitView(a: SignedMapHead, b: SignedMapHead, aWhat: string, bWhat: string): never {
  const domain = a.domain;
  const sameKey = equalHashes(a.key, b.key);
  return fail('split-view', `SPLIT VIEW of ${domain}'s map: two map heads of epoch ${a.epoch} with different content, the one ${aWhat} (${describeMapHead(a)}) and the one ${bWhat} (${describeMapHead(b)}); ${sameKey ? `both are signed by ${domain}'s log key: proof that ${domain} shows different maps to different people` : 'they are signed by different log keys'}`, [a, b]);
}
