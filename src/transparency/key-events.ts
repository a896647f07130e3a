// Which PEP nodes hold keys, and the fingerprint a key event's leaf records (docs/transparency.md "Key
// events"). Every way of publishing a key the SDK knows counts: XEP-0189 in all its versions (keys,
// revocations, attestations), OMEMO (XEP-0384, legacy and 0.8+) and OpenPGP for XMPP (XEP-0373).
import type { Element } from '../xml/index.ts';
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
