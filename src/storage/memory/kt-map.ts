// The verifiable maps in memory (storage/kt-map.ts): per domain, the entries sorted by label and the epochs.
import { compareLabels, lowerBound } from '../../transparency/map/bits.ts';
import { KtMapEpochError, type KtMapEntry, type KtMapEpoch, type KtMapStore } from '../kt-map.ts';

interface DomainMap {
  sorted: KtMapEntry[];
  byKey: Map<string, KtMapEntry[]>;
  epochs: KtMapEpoch[];
}

const copyEntry = (e: KtMapEntry): KtMapEntry => ({ ...e, label: new Uint8Array(e.label), commitment: new Uint8Array(e.commitment) });
const copyEpoch = (e: KtMapEpoch): KtMapEpoch => ({ ...e, logRoot: new Uint8Array(e.logRoot), root: new Uint8Array(e.root), key: new Uint8Array(e.key), signature: new Uint8Array(e.signature) });
const keyOf = (jid: string, node: string) => `${jid}\0${node}`;

/** `op` is the adapter's wrapper (closed-store check, asynchronous results). */
export function createMemoryKtMap(op: <T>(fn: () => T) => Promise<T>): KtMapStore {
  const maps = new Map<string, DomainMap>();
  const mapOf = (domain: string): DomainMap | undefined => maps.get(domain);
  return {
    range: (domain, lo, hi, epoch, limit) =>
      op(() => {
        const sorted = mapOf(domain)?.sorted ?? [];
        const out: { label: Uint8Array; commitment: Uint8Array }[] = [];
        for (let i = lowerBound(sorted, lo); i < sorted.length && out.length < limit; i++) {
          const e = sorted[i]!;
          if (compareLabels(e.label, hi) > 0) break;
          if (e.epoch <= epoch) out.push({ label: new Uint8Array(e.label), commitment: new Uint8Array(e.commitment) });
        }
        return out;
      }),
    get: (domain, label) =>
      op(() => {
        const sorted = mapOf(domain)?.sorted ?? [];
        const e = sorted[lowerBound(sorted, label)];
        return e && compareLabels(e.label, label) === 0 ? copyEntry(e) : undefined;
      }),
    inserted: (domain, after, upTo, limit) =>
      op(() => (mapOf(domain)?.sorted ?? []).filter((e) => e.epoch > after && e.epoch <= upTo).slice(0, limit).map(copyEntry)),
    versions: (domain, jid, node, from, limit) =>
      op(() => (mapOf(domain)?.byKey.get(keyOf(jid, node)) ?? []).filter((e) => e.version >= from).slice(0, limit).map(copyEntry)),
    latestVersion: (domain, jid, node) => op(() => mapOf(domain)?.byKey.get(keyOf(jid, node))?.at(-1)?.version ?? 0),
    addEpoch: (domain, epoch, entries) =>
      op(() => {
        const m: DomainMap = maps.get(domain) ?? { sorted: [], byKey: new Map(), epochs: [] };
        const next = (m.epochs.at(-1)?.epoch ?? 0) + 1;
        if (epoch.epoch !== next) throw new KtMapEpochError(`map epoch ${epoch.epoch} is not the next one (${next})`);
        if (entries.some((e) => e.epoch !== epoch.epoch)) throw new KtMapEpochError('an entry of another epoch');
        // Checked before anything changes: the whole epoch goes in or nothing does.
        const labels = new Set<string>();
        for (const e of entries) {
          const hex = Buffer.from(e.label).toString('hex');
          const at = m.sorted[lowerBound(m.sorted, e.label)];
          if (labels.has(hex) || (at && compareLabels(at.label, e.label) === 0)) throw new KtMapEpochError('map label already present');
          labels.add(hex);
        }
        for (const e of entries) {
          const c = copyEntry(e);
          m.sorted.splice(lowerBound(m.sorted, c.label), 0, c);
          const k = keyOf(c.jid, c.node);
          const list = m.byKey.get(k) ?? [];
          list.push(c);
          list.sort((a, b) => a.version - b.version);
          m.byKey.set(k, list);
        }
        m.epochs.push(copyEpoch(epoch));
        maps.set(domain, m);
      }),
    latestEpoch: (domain) =>
      op(() => {
        const e = mapOf(domain)?.epochs.at(-1);
        return e && copyEpoch(e);
      }),
    epoch: (domain, epoch) =>
      op(() => {
        const e = mapOf(domain)?.epochs[epoch - 1];
        return e && copyEpoch(e);
      }),
  };
}
