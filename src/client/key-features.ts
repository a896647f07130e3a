// The disco features a key client advertises (XEP-0189 §10), with the XEP-0163 §4.3.3 "+notify" interests.
import { NS_PUBKEY_1, NS_PUBKEY_2, NS_REVOKE_1, NS_REVOKE_2, NS_ATTEST_1, NS_ATTEST_2, type PayloadVersion } from '../protocol/xep0189.ts';

// XEP-0163 §4.3.3: a client interested in notifications for node N advertises the disco feature "N+notify".
export function pubkeyFeature(ns: string): string {
  return `${ns}+notify`;
}

/** Every namespace and +notify feature we advertise (XEP-0189 §10, XEP-0163 §4.3.3). */
export function keyFeatures(notify: boolean): string[] {
  const ns = [NS_PUBKEY_1, NS_PUBKEY_2, NS_REVOKE_1, NS_REVOKE_2, NS_ATTEST_1, NS_ATTEST_2];
  return notify ? [...ns, ...ns.map(pubkeyFeature)] : ns;
}

/** Payload versions to try, ours first: a 0.13 client only knows urn:xmpp:pubkey:1. */
export function versionsFrom(preferred: PayloadVersion): readonly PayloadVersion[] {
  return preferred === 2 ? [2, 1] : [1, 2];
}
