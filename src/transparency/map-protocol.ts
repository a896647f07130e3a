// The XML forms of Stage 2 (docs/transparency.md "Map protocol"): map heads, lookup answers and append-only
// proofs, shared by the server module and the client. Binary values are base64, as in protocol.ts.
import { x, type Element } from '../xml/index.ts';
import { b64, buildHashes, KtFormatError, NS_KT, parseHashes, uint, unb64 } from './protocol.ts';
import type { SignedMapHead } from './map-head.ts';
import type { MapPathProof } from './map/lookup-proof.ts';
import type { AppendItem, AppendOnlyProof } from './map/append-proof.ts';
import type { MapEntry } from './map/hash.ts';

/** The pubsub node of the domain's own service where each map head is published (item id: the epoch). */
export const KT_MAP_HEADS_NODE = `${NS_KT}:map-heads`;

/** Most entries an append-only proof may insert; a larger span of epochs is refused (ask for smaller steps). */
export const KT_MAX_MAP_APPEND = 10_000;

export function buildMapHead(h: SignedMapHead): Element {
  return x('map-head', {
    xmlns: NS_KT,
    domain: h.domain,
    epoch: String(h.epoch),
    'log-size': String(h.logSize),
    time: String(h.time),
    'log-root': b64(h.logRoot),
    root: b64(h.root),
    key: b64(h.key),
    signature: b64(h.signature),
  });
}

export function parseMapHead(el: Element): SignedMapHead {
  if (el.local !== 'map-head' || el.ns !== NS_KT) throw new KtFormatError(`not a map head: <${el.local} xmlns='${el.ns}'>`);
  if (!el.attrs.domain) throw new KtFormatError('map head without a domain');
  return {
    domain: el.attrs.domain,
    epoch: uint(el.attrs.epoch, 'epoch'),
    logSize: uint(el.attrs['log-size'], 'log-size'),
    time: uint(el.attrs.time, 'time'),
    logRoot: unb64(el.attrs['log-root'], 32),
    root: unb64(el.attrs.root, 32),
    key: unb64(el.attrs.key, 32),
    signature: unb64(el.attrs.signature, 64),
  };
}

const entryAttrs = (e: MapEntry) => ({ label: b64(e.label), commitment: b64(e.commitment) });
const parseEntry = (el: Element): MapEntry => ({ label: unb64(el.attrs.label, 32), commitment: unb64(el.attrs.commitment, 32) });

/** <path> with the sibling hashes bottom-up, and <end label commitment/> when the path ends at another entry's leaf. */
export const buildPath = (p: MapPathProof): Element => x('path', {}, buildHashes(p.siblings));
export function parsePath(parent: Element, withEnd: boolean): MapPathProof {
  const path = parent.getChild('path', NS_KT);
  if (!path) throw new KtFormatError('a map proof without <path/>');
  const end = withEnd ? parent.getChild('end', NS_KT) : undefined;
  return { siblings: parseHashes(path), leaf: end ? parseEntry(end) : null };
}
export const buildEnd = (leaf: MapEntry | null): Element[] => (leaf ? [x('end', entryAttrs(leaf))] : []);

export function buildAppendProof(p: AppendOnlyProof): Element[] {
  const items = p.items.map((it) => {
    if (it.t === 'split' || it.t === 'empty') return x(it.t);
    if (it.t === 'leaf') return x('leaf', entryAttrs(it.entry));
    return x('node', {}, b64(it.hash));
  });
  return [x('inserted', {}, p.inserted.map((e) => x('entry', entryAttrs(e)))), x('old', {}, items)];
}

export function parseAppendProof(el: Element): AppendOnlyProof {
  const inserted = el.getChild('inserted', NS_KT);
  const old = el.getChild('old', NS_KT);
  if (!inserted || !old) throw new KtFormatError('an append-only proof without <inserted/> and <old/>');
  const items: AppendItem[] = old.elements.map((c): AppendItem => {
    if (c.local === 'split' || c.local === 'empty') return { t: c.local };
    if (c.local === 'leaf') return { t: 'leaf', entry: parseEntry(c) };
    if (c.local === 'node') return { t: 'node', hash: unb64(c.text(), 32) };
    throw new KtFormatError(`unknown append-only proof item <${c.local}/>`);
  });
  return { inserted: inserted.getChildren('entry', NS_KT).map(parseEntry), items };
}
