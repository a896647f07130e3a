// The Stage 2 IQs a domain answers (docs/transparency.md "Map protocol"): the latest map head, a lookup of
// (JID, node) (its latest version, or every version with history='true'), and an append-only proof between
// two epochs. Lookups are as public as the log's entries-of (anyone may ask about any JID, as anyone may
// fetch its PEP keys); what they must not do is reveal other JIDs, and they do not: they carry only this
// (JID, node)'s labels, and hashes.
import { x, type Element } from '../../../xml/index.ts';
import { StanzaError } from '../../../protocol/rfc6120.ts';
import { parseJid } from '../../../jid/index.ts';
import type { TransparencyStore } from '../../../storage/types.ts';
import { inclusionProof } from '../../../transparency/inclusion.ts';
import { b64, buildHashes, KT_MAX_ENTRIES, NS_KT, uint } from '../../../transparency/protocol.ts';
import { buildAppendProof, buildEnd, buildMapHead, buildPath, KT_MAX_MAP_APPEND } from '../../../transparency/map-protocol.ts';
import type { VrfWorker } from './vrf-worker.ts';
import { commitmentNonce } from '../../../transparency/map-commitment.ts';
import { proveLabel } from '../../../transparency/map/lookup-proof.ts';
import { proveAppendOnly } from '../../../transparency/map/append-proof.ts';
import { headOf, type DomainMapBuilder } from './map-builder.ts';
import type { MapKeys } from './map-keys.ts';

const MAP_IQS = new Set(['map-head', 'map-lookup', 'map-append']);
export const isMapIq = (payload: Element): boolean => MAP_IQS.has(payload.local);

function attr(el: Element, name: string): number {
  try {
    return uint(el.attrs[name], name);
  } catch (err) {
    throw new StanzaError('bad-request', (err as Error).message);
  }
}

export async function answerMapIq(payload: Element, builder: DomainMapBuilder, log: TransparencyStore, keys: MapKeys, vrf: VrfWorker): Promise<Element> {
  const domain = builder.domain;
  const served = await builder.served();
  if (!served) throw new StanzaError('item-not-found', 'the map has no epoch yet');
  // The epoch asked for (`epoch`, default the latest); `at` gives it with its map (older ones read through the latest).
  const asked = payload.attrs.epoch === undefined ? served.epoch.epoch : attr(payload, 'epoch');
  const missing = () => new StanzaError('item-not-found', `no map epoch ${asked} (latest: ${served.epoch.epoch})`);
  const at = async () => {
    const view = asked === 0 ? undefined : await builder.view(asked);
    if (!view?.epoch) throw missing();
    return { epoch: view.epoch, map: view.map };
  };
  switch (payload.local) {
    case 'map-head': {
      const e = asked === served.epoch.epoch ? served.epoch : asked > 0 && asked < served.epoch.epoch ? await builder.store.epoch(domain, asked) : undefined;
      if (!e) throw missing();
      return buildMapHead(headOf(domain, e));
    }
    case 'map-lookup': {
      let jid: string;
      try {
        jid = parseJid(payload.attrs.jid ?? '').bare;
      } catch {
        throw new StanzaError('bad-request', 'jid must be a JID');
      }
      const node = payload.attrs.node;
      if (!node) throw new StanzaError('bad-request', 'node is required');
      const history = payload.attrs.history === 'true' || payload.attrs.history === '1';
      const { epoch, map } = await at();
      const head = buildMapHead(headOf(domain, epoch));
      // Versions in the map as of that epoch only (a newer epoch may be being added).
      const all = (await builder.store.versions(domain, jid, node, 1, KT_MAX_ENTRIES + 1)).filter((e) => e.epoch <= epoch.epoch);
      if (all.length > KT_MAX_ENTRIES) throw new StanzaError('not-acceptable', `more than ${KT_MAX_ENTRIES} versions: not answered in one lookup`);
      const shown = history ? all : all.slice(-1);
      const read = (refs: Parameters<TransparencyStore['nodes']>[1]) => log.nodes(domain, refs);
      const next = (all.at(-1)?.version ?? 0) + 1;
      // The VRF proofs (a few ms of CPU each) come from the worker thread, all in one request.
      const proofs = await vrf.labels(keys.vrf.secretKey, [...shown.map((e): [string, string, number] => [jid, node, e.version]), [jid, node, next]]);
      const absent = proofs.pop()!;
      const versions: Element[] = [];
      for (const [i, e] of shown.entries()) {
        const proof = proofs[i]!.proof;
        const [leaf] = await log.entries(domain, e.seq, e.seq + 1);
        const path = await proveLabel(map, e.label);
        versions.push(
          x('version', { n: String(e.version), label: b64(e.label), vrf: b64(proof), commitment: b64(e.commitment), nonce: b64(commitmentNonce(keys.commitSecret, e.label)), seq: String(e.seq) },
            x('leaf', {}, b64(leaf!.leaf)),
            x('inclusion', { size: String(epoch.logSize) }, buildHashes(await inclusionProof(e.seq, epoch.logSize, read))),
            buildPath(path)),
        );
      }
      const path = await proveLabel(map, absent.label);
      return x('map-lookup', { xmlns: NS_KT, jid, node, history: String(history) }, head, versions,
        x('absent', { n: String(next), label: b64(absent.label), vrf: b64(absent.proof) }, buildPath(path), buildEnd(path.leaf)));
    }
    case 'map-append': {
      const from = attr(payload, 'from');
      const to = payload.attrs.to === undefined ? served.epoch.epoch : attr(payload, 'to');
      if (from > to) throw new StanzaError('bad-request', `from (${from}) is after to (${to})`);
      if (to > served.epoch.epoch) throw new StanzaError('item-not-found', `no map epoch ${to} yet (latest: ${served.epoch.epoch})`);
      const [a, b] = await Promise.all([from === 0 ? undefined : builder.store.epoch(domain, from), builder.store.epoch(domain, to)]);
      if ((from > 0 && !a) || !b) throw new StanzaError('item-not-found', 'no such map epoch');
      const inserted = await builder.store.inserted(domain, from, to, KT_MAX_MAP_APPEND + 1);
      if (inserted.length > KT_MAX_MAP_APPEND) {
        throw new StanzaError('not-acceptable', `more than ${KT_MAX_MAP_APPEND} entries between epochs ${from} and ${to}: ask for a shorter span`);
      }
      // The old map read through the latest one's cache: only what the new entries touch (epoch-view.ts).
      const old = (await builder.view(from, { upTo: to, entries: inserted }))!.map;
      const proof = await proveAppendOnly(old, inserted.map((e) => ({ label: e.label, commitment: e.commitment })));
      return x('map-append', { xmlns: NS_KT, from: String(from), to: String(to) },
        a ? buildMapHead(headOf(domain, a)) : [], buildMapHead(headOf(domain, b)), buildAppendProof(proof));
    }
    default:
      throw new StanzaError('feature-not-implemented', `unknown request <${payload.local}/>`);
  }
}
