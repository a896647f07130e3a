// The log leaves one epoch of the map takes (docs/transparency.md "Stage 2"): of the leaves in [start, end), the
// last key event of each (JID, node), in log order. The map holds each pair's state as of each epoch, as AKD
// and CONIKS do, and every event stays in the log, which owners monitor (`key monitor`). This bounds an
// epoch's VRF work by the pairs that changed in it, not by their events: a client that republishes its key on
// every connection, or in a loop, costs one label per epoch, and the map keeps up with the log under a flood.
import type { LogEntry, TransparencyStore } from '../../../storage/types.ts';
import { decodeLeaf } from '../../../transparency/leaf.ts';

export interface EpochLeaf extends LogEntry {
  jid: string;
  node: string;
}

/**
 * The last leaf of each (JID, node) among the log's leaves [start, end), in log order, read `page` at a time;
 * undefined when `stopping()` turns true between two pages.
 */
export async function epochLeaves(log: TransparencyStore, domain: string, start: number, end: number, page: number, stopping: () => boolean): Promise<EpochLeaf[] | undefined> {
  const last = new Map<string, EpochLeaf>();
  for (let at = start; at < end; at += page) {
    if (stopping()) return undefined;
    for (const { seq, leaf } of await log.entries(domain, at, Math.min(end, at + page))) {
      const { jid, node } = decodeLeaf(leaf);
      const key = `${jid}\0${node}`;
      // Deleted first so that the map's insertion order stays the order of each pair's last event.
      last.delete(key);
      last.set(key, { seq, leaf, jid, node });
    }
  }
  return [...last.values()];
}
