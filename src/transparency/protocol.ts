// The XMPP side of the log (docs/transparency.md "Protocol"): namespace, node name, and the XML forms of
// tree heads, proofs and entries, shared by the server module and the client. Binary values are base64.
import { x, type Element } from '../xml/index.ts';
import type { SignedTreeHead } from './tree-head.ts';

export const NS_KT = 'urn:pepkeys:kt:0';
/** The pubsub node, on the domain's own service (its bare domain JID), holding its signed tree heads. */
export const KT_HEADS_NODE = `${NS_KT}:heads`;
/** Most entries one request returns. */
export const KT_MAX_ENTRIES = 1000;

export const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

export class KtFormatError extends Error {
  readonly code = 'KT_BAD_FORMAT';
}

/** Strict base64 of an exact length (when given): a proof hash, a key, a signature. */
export function unb64(s: string | undefined, length?: number): Uint8Array {
  if (s === undefined || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw new KtFormatError('not base64');
  const b = new Uint8Array(Buffer.from(s, 'base64'));
  if (length !== undefined && b.length !== length) throw new KtFormatError(`expected ${length} bytes, got ${b.length}`);
  return b;
}

/** A non-negative decimal integer attribute (sizes, sequence numbers, times). */
export function uint(s: string | undefined, what: string): number {
  if (s === undefined || !/^(0|[1-9][0-9]{0,15})$/.test(s) || !Number.isSafeInteger(Number(s))) throw new KtFormatError(`${what} must be a non-negative integer`);
  return Number(s);
}

export function buildTreeHead(h: SignedTreeHead): Element {
  return x('tree-head', {
    xmlns: NS_KT,
    domain: h.domain,
    size: String(h.size),
    time: String(h.time),
    root: b64(h.root),
    key: b64(h.key),
    signature: b64(h.signature),
  });
}

export function parseTreeHead(el: Element): SignedTreeHead {
  if (el.local !== 'tree-head' || el.ns !== NS_KT) throw new KtFormatError(`not a tree head: <${el.local} xmlns='${el.ns}'>`);
  const domain = el.attrs.domain;
  if (!domain) throw new KtFormatError('tree head without a domain');
  return {
    domain,
    size: uint(el.attrs.size, 'size'),
    time: uint(el.attrs.time, 'time'),
    root: unb64(el.attrs.root, 32),
    key: unb64(el.attrs.key, 32),
    signature: unb64(el.attrs.signature, 64),
  };
}

export const buildHashes = (hashes: Uint8Array[]): Element[] => hashes.map((h) => x('hash', {}, b64(h)));

export const parseHashes = (el: Element): Uint8Array[] => el.getChildren('hash', NS_KT).map((h) => unb64(h.text(), 32));
