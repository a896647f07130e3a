// XEP-0189: Public Key Publishing — namespace and node names for every version we speak.
//   0.2–0.6 (2006–2007): W3C XML-Signature <KeyInfo/> inside <pubkeys/>, namespace
//            http://www.xmpp.org/extensions/xep-0189.html#ns (the temporary namespace of 0.4–0.6).
//   0.7      (2008-03-03): same payloads, temporary namespace renamed to urn:xmpp:tmp:pubkey (XEP-0053).
//   0.10–0.13 (2009-12 – 2010-01): urn:xmpp:pubkey:1 / urn:xmpp:revoke:1 / urn:xmpp:attest:1, ASCII key.
//   0.14     (2010-07-15): urn:xmpp:pubkey:2 / revoke:2 / attest:2 with <rsakey/> and hash agility.
// XEP-0163 §4: a PEP node is named after the namespace of its payload, so node names equal these namespaces.

/** XEP-0189 0.4–0.6 temporary namespace (also the PEP node name of that era). */
export const NS_PUBKEYS_0_5 = 'http://www.xmpp.org/extensions/xep-0189.html#ns';
/** XEP-0189 0.7–0.9 temporary namespace; XEP-0222's examples publish to this node. */
export const NS_PUBKEY_TMP = 'urn:xmpp:tmp:pubkey';
/** W3C XML-Signature namespace of <KeyInfo/> (XEP-0189 0.2–0.7). */
export const NS_XMLDSIG = 'http://www.w3.org/2000/09/xmldsig#';

// XEP-0189 0.13
export const NS_PUBKEY_1 = 'urn:xmpp:pubkey:1';
export const NS_REVOKE_1 = 'urn:xmpp:revoke:1';
export const NS_ATTEST_1 = 'urn:xmpp:attest:1';

// XEP-0189 0.14
export const NS_PUBKEY_2 = 'urn:xmpp:pubkey:2';
export const NS_REVOKE_2 = 'urn:xmpp:revoke:2';
export const NS_ATTEST_2 = 'urn:xmpp:attest:2';

/** Every namespace that may appear as a pre-0.9 <pubkeys/> container / PEP node. */
export const LEGACY_PUBKEYS_NAMESPACES = [NS_PUBKEYS_0_5, NS_PUBKEY_TMP] as const;
export type LegacyPubkeysNs = (typeof LEGACY_PUBKEYS_NAMESPACES)[number];

export type PayloadVersion = 1 | 2;

export const PUBKEY_NS: Record<PayloadVersion, string> = { 1: NS_PUBKEY_1, 2: NS_PUBKEY_2 };
export const REVOKE_NS: Record<PayloadVersion, string> = { 1: NS_REVOKE_1, 2: NS_REVOKE_2 };
export const ATTEST_NS: Record<PayloadVersion, string> = { 1: NS_ATTEST_1, 2: NS_ATTEST_2 };

/** Which version a payload namespace belongs to, in one of the tables above (undefined: neither). */
export function payloadVersionOf(table: Record<PayloadVersion, string>, ns: string): PayloadVersion | undefined {
  return ns === table[1] ? 1 : ns === table[2] ? 2 : undefined;
}

/** XEP-0189 0.13/0.14 §6: "the pubkey PEP node SHOULD have only one item, with an ItemID of 'current'". */
export const CURRENT_ITEM_ID = 'current';

/** XEP-0189 0.14 §3: the 'algo' attribute of fingerprints defaults to "sha-256". */
export const DEFAULT_PRINT_ALGO = 'sha-256';
