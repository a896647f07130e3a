// `--verify-map` of `key fetch`: every XEP-0189 item the session receives must be the latest version the
// domain's verifiable map proves for its (owner JID, node) (docs/transparency.md "What a lookup proves"): the
// lookup verifies and its latest version commits to the RFC 9162 hash of the very log leaf that logs this item
// (or, on a node of several items, the latest version is another item served beside it). The log check
// (verify-log.ts) runs first: it finds that leaf (its sequence number), which tells a stale item (a failure)
// from one published after the map's latest epoch (the map lags the log by up to one epoch): that one is "not
// yet in the map", reported and admitted, unless --strict. A failure is a KtMapVerifyError and the item is
// refused before it reaches the trust store. The lookup's map head is checked against the domain's record in
// kt-heads.json like every map head the client sees (client/kt-map-client.ts: append-only from the last one,
// no split view, no rollback, consistent with the last tree head).
import { parseJid } from '../../jid/index.ts';
import { IqError, FileKtHeadStore, KtMapClient, type KeyAdmission, type MapLookupResult, type XmppClient } from '../../client/index.ts';
import type { PubsubItem } from '../../client/pubsub.ts';
import { KtMapVerifyError } from '../../client/kt-map.ts';
import { decodeLeaf } from '../../transparency/leaf.ts';
import { equalHashes, sha256 } from '../../transparency/hash.ts';
import { join } from 'node:path';
import { KT_HEADS_FILE } from '../kt-paths.ts';
import type { LogCheck } from './verify-log.ts';

export interface MapChecked {
  jid: string;
  node: string;
  item: string;
  /** 'proven': the map's latest version is this item or one served with it; 'pending': its log entry is newer than the map. */
  state: 'proven' | 'pending';
  /** The map epoch checked against (0: the domain has no map epoch yet) and the log size it covers. */
  epoch: number;
  logSize: number;
  /** The item's log entry; when proven, the map's latest version (this item's, or a newer item's served beside it). */
  seq: number;
  version?: number;
}

export interface MapCheck {
  checked: MapChecked[];
  admit: KeyAdmission;
}

export function mapCheck(client: XmppClient, homeDir: string, timeoutMs: number, log: LogCheck, strict: boolean): MapCheck {
  const checked: MapChecked[] = [];
  const map = new KtMapClient(client, new FileKtHeadStore(join(homeDir, KT_HEADS_FILE)), timeoutMs);
  const admit: KeyAdmission = async (k) => {
    await log.admit(k);
    const origin = k.origin!; // the log check refuses anything not from PEP
    const jid = parseJid(k.jid).bare;
    const domain = parseJid(jid).domain;
    const logged = log.verified.findLast((v) => v.jid === jid && v.node === origin.node && v.item === origin.item.id)!;
    const base = { jid, node: origin.node, item: origin.item.id ?? '', seq: logged.seq };
    const pending = (epoch: number, logSize: number) => {
      if (strict) throw new KtMapVerifyError('not-in-map', `${jid}'s item ${base.item} on ${origin.node} (log entry ${logged.seq}) is not yet in the map of ${domain}: epoch ${epoch} covers log size ${logSize}`);
      checked.push({ ...base, state: 'pending', epoch, logSize });
    };
    let v: MapLookupResult;
    try {
      v = await map.lookup(jid, origin.node, false);
    } catch (err) {
      // A domain whose map has no epoch yet (it is built after the first tree head): nothing is in it.
      if (err instanceof IqError && err.condition === 'item-not-found') return pending(0, 0);
      throw err;
    }
    const { epoch, logSize } = v.head;
    // Logged after the map's log size: the map cannot know it yet.
    if (logged.seq >= logSize) return pending(epoch, logSize);
    const latest = v.versions.at(-1);
    const what = `${jid}'s item ${base.item} on ${origin.node} (log entry ${logged.seq})`;
    if (!latest) throw new KtMapVerifyError('not-latest', `${what} is served, but the map of ${domain} (epoch ${epoch}) proves ${jid} has no key event on ${origin.node}`);
    // A node may hold several items: an older one is fine as long as the map's latest publish is served too.
    // A latest retract, purge or node deletion of this item is the log check's to refuse (it was newest there).
    const ev = decodeLeaf(latest.leaf);
    const isLatest = (it: PubsubItem) =>
      ev.type === 'publish' && ev.itemId === it.id && ev.payloadHash !== undefined && equalHashes(ev.payloadHash, sha256(Buffer.from(it.payload?.toString() ?? '', 'utf8')));
    if (latest.seq === logged.seq ? !isLatest(origin.item) : ev.type === 'publish' && !(origin.served ?? [origin.item]).some(isLatest)) {
      throw new KtMapVerifyError('not-latest', `${what} is served as current, but the map of ${domain} (epoch ${epoch}) proves its latest version ${v.latest} is the ${ev.type} of item ${ev.itemId || '(none)'} (log entry ${latest.seq}), which is not served`);
    }
    checked.push({ ...base, state: 'proven', epoch, logSize, version: v.latest });
  };
  return { checked, admit };
}
