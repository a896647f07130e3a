// Key items "not yet in the map" (verify-map.ts: logged after the map's latest epoch, admitted unless
// --strict) checked again once a map head covers them: `key watch --verify-map` does it as map heads come,
// `key fetch --verify-map --wait-map S` waits for it (bounded) before the key reaches the trust store.
// Coverage is learnt from the domain's map heads node (docs/transparency.md "Publication of map heads"),
// polling <map-head/> as a fallback; the re-check is a lookup at the first epoch seen that covers the item's
// log entry (its `epoch` attribute), not at the latest: a newer key event logged meanwhile would make the
// item look stale there. At that epoch, the latest version of (JID, node) must be the item's own log entry
// (proven), or a later one (superseded: the item was current when fetched, a newer event came after it); an
// earlier one, or none, means the map left out a key event it covers, the loud failure of `key fetch`.
import { join } from 'node:path';
import { x, type Element } from '../../xml/index.ts';
import { parseJid } from '../../jid/index.ts';
import { followHeads, FileKtHeadStore, KtMapClient, type HeadFollower, type KeyAdmission, type XmppClient } from '../../client/index.ts';
import type { PubsubItem } from '../../client/pubsub.ts';
import { KtMapVerifyError, verifyMapLookup } from '../../client/kt-map.ts';
import { decodeLeaf } from '../../transparency/leaf.ts';
import { equalHashes, sha256 } from '../../transparency/hash.ts';
import { NS_KT } from '../../transparency/protocol.ts';
import { KT_MAP_HEADS_NODE, parseMapHead } from '../../transparency/map-protocol.ts';
import type { SignedMapHead } from '../../transparency/map-head.ts';
import { KT_HEADS_FILE } from '../kt-paths.ts';
import type { MapCheck, MapChecked } from './verify-map.ts';
import type { TrustStore } from '../../keys/trust.ts';

/** A key item the map check left pending: its log entry is newer than the map's latest epoch. */
export interface PendingItem {
  jid: string;
  domain: string;
  node: string;
  item: PubsubItem;
  /** Its log entry. */
  seq: number;
}

/** What a re-check needs of the session. */
export interface PendingContext {
  client: XmppClient;
  homeDir: string;
  timeoutMs: number;
  /** The session's trust store, where the key is recorded once admitted. */
  trust?: TrustStore;
}

export type RecheckOutcome =
  | { state: 'proven'; epoch: number; logSize: number; version: number }
  | { state: 'superseded'; epoch: number; logSize: number; version: number; by: number };

/** The map check's admission, calling `onPending` (which may wait, or throw to refuse) for each item it left pending. */
export function withPendingItems(map: MapCheck, onPending: (p: PendingItem, checked: MapChecked) => Promise<void>): KeyAdmission {
  return async (k) => {
    const from = map.checked.length;
    await map.admit(k);
    const origin = k.origin;
    if (!origin) return;
    const jid = parseJid(k.jid).bare;
    const c = map.checked.slice(from).findLast((c) => c.jid === jid && c.node === origin.node && c.item === (origin.item.id ?? ''));
    if (c?.state === 'pending') await onPending({ jid, domain: parseJid(jid).domain, node: origin.node, item: origin.item, seq: c.seq }, c);
  };
}

/** Checks a pending item against the map of `head`'s epoch, which covers its log entry. Throws a KtMapVerifyError on a failure. */
export async function recheckPending({ client, homeDir, timeoutMs }: PendingContext, p: PendingItem, head: SignedMapHead): Promise<RecheckOutcome> {
  const store = new FileKtHeadStore(join(homeDir, KT_HEADS_FILE));
  const map = new KtMapClient(client, store, timeoutMs);
  const vrf = await map.vrfKey(p.domain);
  const answer = (await client.iq(x('iq', { type: 'get', to: p.domain }, x('map-lookup', { xmlns: NS_KT, jid: p.jid, node: p.node, history: 'false', epoch: String(head.epoch) })), timeoutMs)).getChild('map-lookup', NS_KT);
  if (!answer) throw new KtMapVerifyError('bad-answer', 'no <map-lookup/> in the answer');
  const v = verifyMapLookup(answer, { domain: p.domain, vrfKey: vrf.key, logKey: (await store.get(p.domain))?.key }, p.jid, p.node, false);
  // The kept state (kt-map-client.ts) checks this head too. A map head kept since may be newer than the epoch
  // asked for: then the domain proves it extends this one, which is no rollback.
  const kept = await store.getMapHead(p.domain);
  if (kept && kept.epoch > v.head.epoch) {
    await map.proveExtends(v.head, kept, { from: 'of the re-check', to: 'verified before' });
    const tree = await store.get(p.domain);
    if (tree) await map.checkLog(v.head, tree);
  } else {
    await map.accept(v.head);
  }
  if (vrf.firstUse) await store.putVrfKey(p.domain, vrf.key);
  const { epoch, logSize } = v.head;
  const what = `${p.jid}'s item ${p.item.id ?? ''} on ${p.node} (log entry ${p.seq})`;
  if (logSize <= p.seq) throw new KtMapVerifyError('bad-answer', `asked for epoch ${head.epoch}, which covers ${what}, ${p.domain} answered with epoch ${epoch}, which does not`);
  const latest = v.versions.at(-1);
  if (!latest || latest.seq < p.seq) {
    throw new KtMapVerifyError('not-latest', `${what} was admitted as not yet in the map, but the map of ${p.domain} at epoch ${epoch}, which covers it, proves ${latest ? `its latest version ${v.latest} is log entry ${latest.seq}` : `${p.jid} has no key event on ${p.node}`}: the map left it out`);
  }
  if (latest.seq > p.seq) return { state: 'superseded', epoch, logSize, version: v.latest, by: latest.seq };
  const ev = decodeLeaf(latest.leaf);
  const same = ev.type === 'publish' && ev.itemId === p.item.id && ev.payloadHash !== undefined && equalHashes(ev.payloadHash, sha256(Buffer.from(p.item.payload?.toString() ?? '', 'utf8')));
  if (!same) throw new KtMapVerifyError('not-latest', `the map of ${p.domain} at epoch ${epoch} commits log entry ${p.seq} to a ${ev.type} of item ${ev.itemId || '(none)'}, not to ${what} as served`);
  return { state: 'proven', epoch, logSize, version: v.latest };
}

/**
 * Waits for a domain's map to cover log entries: follows its map heads node (a notification means "maybe a
 * new head") and polls <map-head/> every `pollMs` besides (a lost notification, or a refused subscription).
 */
export class MapCoverage {
  private waiters: { seq: number; done: (h: SignedMapHead | undefined) => void }[] = [];
  private follower: HeadFollower | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly client: XmppClient,
    readonly domain: string,
    private readonly opts: { pollMs: number; timeoutMs: number },
  ) {}

  /** Starts following; says whether the domain took the subscription, and why not. */
  async start(): Promise<HeadFollower> {
    this.follower = await followHeads(this.client, this.domain, () => this.check(), { pollMs: this.opts.pollMs, timeoutMs: this.opts.timeoutMs, node: KT_MAP_HEADS_NODE });
    if (this.follower.mode === 'subscribed') {
      this.timer = setInterval(() => this.check(), this.opts.pollMs);
      this.timer.unref();
    }
    return this.follower;
  }

  /** The first map head seen whose log size exceeds `seq`, or undefined after `waitMs`. */
  covering(seq: number, waitMs: number): Promise<SignedMapHead | undefined> {
    return new Promise((resolve) => {
      const w = {
        seq,
        done: (h: SignedMapHead | undefined) => {
          clearTimeout(t);
          this.waiters = this.waiters.filter((o) => o !== w);
          resolve(h);
        },
      };
      const t = setTimeout(() => w.done(undefined), waitMs);
      this.waiters.push(w);
      this.check();
    });
  }

  /** One <map-head/> request at a time; a notification during one makes one more. */
  private check(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        if (!this.waiters.length || !this.client.isOpen) return;
        const el = await this.client.iq(x('iq', { type: 'get', to: this.domain }, x('map-head', { xmlns: NS_KT })), this.opts.timeoutMs).then((r) => r.getChild('map-head', NS_KT), () => undefined);
        // Only a hint of coverage: the re-check verifies the head it is answered with.
        let head: SignedMapHead | undefined;
        try {
          head = el && parseMapHead(el);
        } catch {
          head = undefined;
        }
        if (head) for (const w of this.waiters.filter((w) => w.seq < head.logSize)) w.done(head);
      } while (this.again);
    })().finally(() => (this.running = undefined));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const w of [...this.waiters]) w.done(undefined);
    await this.follower?.stop();
    await this.running;
  }
}

/** One MapCoverage per domain, started on first use; `onPolling` hears of a domain that refused the subscription. */
export function coverages(pollMs: number, onPolling?: (domain: string, reason: string) => void) {
  const all = new Map<string, Promise<MapCoverage>>();
  return {
    follow({ client, timeoutMs }: PendingContext, domain: string): Promise<MapCoverage> {
      let c = all.get(domain);
      if (!c) {
        c = (async () => {
          const m = new MapCoverage(client, domain, { pollMs, timeoutMs });
          const f = await m.start();
          if (f.mode === 'polling') onPolling?.(domain, f.reason ?? '');
          return m;
        })();
        all.set(domain, c);
      }
      return c;
    },
    async stop(): Promise<void> {
      await Promise.all([...all.values()].map(async (c) => (await c.catch(() => undefined))?.stop()));
    },
  };
}
