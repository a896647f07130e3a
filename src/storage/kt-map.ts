// The verifiable map's storage (issue 14 Stage 2, docs/transparency.md "Map storage"): per served domain, the
// map's entries (a label, a commitment, the epoch that inserted it) with the server-private facts behind each
// (whose key event it is: JID, node, version, log sequence), and the signed map head of every epoch. The map
// only grows: an entry is never changed or removed, and the map as of epoch e is the entries of epoch <= e.
import { prefixBounds } from '../transparency/map/bits.ts';
import type { MapEntrySource } from '../transparency/map/tree.ts';

export interface KtMapEntry {
  label: Uint8Array;
  commitment: Uint8Array;
  /** The epoch whose map first holds this entry. */
  epoch: number;
  // Server-private: never sent except to answer a lookup of this very (JID, node).
  jid: string;
  node: string;
  /** 1 for the first key event of (jid, node), then 2, 3, … */
  version: number;
  /** Sequence number of the key event's leaf in the domain's log. */
  seq: number;
}

/** A map epoch and its signed head (transparency/map-head.ts). */
export interface KtMapEpoch {
  epoch: number;
  /** The log leaves [0, logSize) are in the map as of this epoch. */
  logSize: number;
  /** The log's RFC 9162 root at logSize: the map head binds the map to the log it was built from. */
  logRoot: Uint8Array;
  root: Uint8Array;
  time: number;
  /** Raw Ed25519 public key that signed the head, and the signature. */
  key: Uint8Array;
  signature: Uint8Array;
}

export interface KtMapStore {
  /**
   * The first `limit` entries (label and commitment only, by label) with lo <= label <= hi in the map as of
   * `epoch`: a label prefix's subtree (transparency/map/tree.ts).
   */
  range(domain: string, lo: Uint8Array, hi: Uint8Array, epoch: number, limit: number): Promise<{ label: Uint8Array; commitment: Uint8Array }[]>;
  /** One entry by label, in any epoch. */
  get(domain: string, label: Uint8Array): Promise<KtMapEntry | undefined>;
  /** The entries inserted by epochs after `after` up to `upTo`, by label; at most `limit`. */
  inserted(domain: string, after: number, upTo: number, limit: number): Promise<KtMapEntry[]>;
  /** The entries of (jid, node), by version, with version >= `from`; at most `limit`. */
  versions(domain: string, jid: string, node: string, from: number, limit: number): Promise<KtMapEntry[]>;
  /** The highest version of (jid, node) in the map, 0 when it has none. */
  latestVersion(domain: string, jid: string, node: string): Promise<number>;
  /**
   * Adds epoch `e.epoch` (one more than the latest, or 1) with its new entries (all of that epoch), in one
   * transaction. Rejects, changing nothing, when the epoch is not the next one or a label is already there.
   */
  addEpoch(domain: string, e: KtMapEpoch, entries: KtMapEntry[]): Promise<void>;
  /** The latest epoch, or undefined when the domain has no map yet. */
  latestEpoch(domain: string): Promise<KtMapEpoch | undefined>;
  epoch(domain: string, epoch: number): Promise<KtMapEpoch | undefined>;
}

export class KtMapEpochError extends Error {
  readonly code = 'KT_MAP_EPOCH';
}

/** The map of `domain` as of `epoch`, as the tree reads it (transparency/map/tree.ts). */
export function mapSource(store: KtMapStore, domain: string, epoch: number): MapEntrySource {
  return {
    range: (prefix, depth, limit) => {
      const { lo, hi } = prefixBounds(prefix, depth);
      return store.range(domain, lo, hi, epoch, limit);
    },
  };
}
