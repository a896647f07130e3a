// Which PEP nodes hold keys, and the fingerprint a key event's leaf records (docs/transparency.md "Key
// events"). Every way of publishing a key the SDK knows counts: XEP-0189 in all its versions (keys,
// revocations, attestations), OMEMO (XEP-0384, legacy and 0.8+) and OpenPGP for XMPP (XEP-0373).
import { parseXml, type Element } from '../xml/index.ts';
import type { KeyEventDraft } from './leaf.ts';
import { sha256 } from './hash.ts';
import { LEGACY_PUBKEYS_NAMESPACES } from '../protocol/xep0189.ts';
import { parsePubkey, pubkeyPrintId } from '../keys/pubkey.ts';
import { parseRevocation } from '../keys/revocation.ts';
import { parseAttestation } from '../keys/attestation.ts';
import { printIdOrUndefined } from '../keys/trust.ts';
import { OMEMO_NS, parseOmemoBundle } from '../keys/omemo.ts';
import { OX_METADATA_NODE } from '../keys/ox.ts';

const KEY_NODE_PREFIXES = [
  'urn:xmpp:pubkey:',
  'urn:xmpp:revoke:',
  'urn:xmpp:attest:',
  `${OMEMO_NS.legacy}.bundles:`,
  `${OMEMO_NS.omemo2}:`,
  `${OX_METADATA_NODE}:`,
];
const KEY_NODES = new Set<string>([...LEGACY_PUBKEYS_NAMESPACES, `${OMEMO_NS.legacy}.devicelist`, OX_METADATA_NODE]);

/** Whether events on this PEP node are key events, logged in the domain's transparency log. */
export function isKeyNode(node: string): boolean {
  return KEY_NODES.has(node) || KEY_NODE_PREFIXES.some((p) => node.startsWith(p));
}

/**
 * The fingerprint, as "algo:hex", of the key a published payload is or is about: an XEP-0189 key's print
 * computed from its data (never the published print), the print a revocation or attestation names, an
 * OMEMO bundle's identity key, an OX key node's OpenPGP v4 fingerprint. Undefined for payloads without one
 * (device lists, key lists) or that do not parse: the leaf still records the payload's hash.
 */
export function keyFingerprint(node: string, payload: Element | undefined): string | undefined {
  if (node.startsWith(`${OX_METADATA_NODE}:`)) {
    const fpr = node.slice(OX_METADATA_NODE.length + 1);
    return /^[0-9a-fA-F]{40}$/.test(fpr) ? `openpgp-v4:${fpr.toLowerCase()}` : undefined;
  }
  if (!payload) return undefined;
  try {
    if (payload.local === 'pubkey' && payload.ns.startsWith('urn:xmpp:pubkey:')) return pubkeyPrintId(parsePubkey(payload));
    if (payload.ns.startsWith('urn:xmpp:revoke:')) return printIdOrUndefined(parseRevocation(payload).revocationprint);
    if (payload.ns.startsWith('urn:xmpp:attest:')) return printIdOrUndefined(parseAttestation(payload).keyprint);
    if (payload.local === 'bundle') return `omemo:${parseOmemoBundle(payload).identityKey.toString('hex')}`;
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * A key event as a pubsub write hands it to the store: what the write knows. With `payload` (a publish), the
 * leaf's derived fields (the payload's hash, the key's fingerprint) are the store's to compute
 * (deriveKeyEvent), inline or, for SQLite, on its key-log thread once the write committed with the payload
 * journalled (storage/sqlite/kt-journal.ts). Without it, the fields given are the leaf's as they are.
 */
export type KeyEventInput = KeyEventDraft & {
  /** The payload exactly as stored and served (publish only). */
  payload?: string;
};

/** Longest fingerprint a leaf records: prints are short "algo:hex" strings; anything longer is not one. */
const MAX_FINGERPRINT = 1024;

/**
 * Fingerprints already computed, by node and payload hash (SHA-256, computed for the leaf anyway): the same
 * payload published again, as clients do on every connection (their own key, their OMEMO bundle) and as every
 * account does after a server restart, costs a hash and a lookup instead of an XML parse and a key decoding
 * (~15 µs of the key log's ~50 per event, docs/benchmarks.md). Least recently used first out.
 */
export class FingerprintCache {
  private readonly entries = new Map<string, string | null>();

  constructor(private readonly max = 4096) {}

  /** The fingerprint remembered for this payload (its `fingerprint` undefined when it has none), or undefined. */
  get(node: string, payloadHash: Uint8Array): { fingerprint: string | undefined } | undefined {
    const key = FingerprintCache.key(node, payloadHash);
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    // Most recently used last: Map keeps insertion order.
    this.entries.delete(key);
    this.entries.set(key, hit);
    return { fingerprint: hit ?? undefined };
  }

  set(node: string, payloadHash: Uint8Array, fingerprint: string | undefined): void {
    const key = FingerprintCache.key(node, payloadHash);
    this.entries.delete(key);
    this.entries.set(key, fingerprint ?? null);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }

  private static key(node: string, payloadHash: Uint8Array): string {
    return `${node}\n${Buffer.from(payloadHash.buffer, payloadHash.byteOffset, payloadHash.byteLength).toString('base64')}`;
  }
}

const sharedFingerprints = new FingerprintCache();

/**
 * The leaf fields of a key event: with a payload (a publish), its hash (SHA-256 of the payload as stored) and the
 * fingerprint the payload or node names (undefined when none, or when the payload does not parse). Never
 * throws for any payload: an acknowledged event must always get its leaf. `cache` remembers fingerprints by
 * payload hash (the fingerprint is a function of the node and the payload alone); pass null to compute anew.
 */
export function deriveKeyEvent(input: KeyEventInput, cache: FingerprintCache | null = sharedFingerprints): KeyEventDraft {
  const { type, time, jid, node, itemId, payload } = input;
  if (payload === undefined) return { type, time, jid, node, itemId, payloadHash: input.payloadHash, fingerprint: input.fingerprint };
  const payloadHash = sha256(Buffer.from(payload, 'utf8'));
  const cached = cache?.get(node, payloadHash);
  if (cached) return { type, time, jid, node, itemId, payloadHash, fingerprint: cached.fingerprint };
  let fingerprint: string | undefined;
  try {
    fingerprint = payload ? keyFingerprint(node, parseXml(payload)) : undefined;
  } catch {
    fingerprint = undefined;
  }
  if (fingerprint !== undefined && fingerprint.length > MAX_FINGERPRINT) fingerprint = undefined;
  cache?.set(node, payloadHash, fingerprint);
  return { type, time, jid, node, itemId, payloadHash, fingerprint };
}
