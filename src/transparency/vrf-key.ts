// The XML form of a domain's VRF public key (docs/transparency.md "VRF and labels"), answered to
// <vrf-key xmlns='urn:pepkeys:kt:0'/>: <vrf-key suite='ECVRF-EDWARDS25519-SHA512-TAI'>base64 of 32 bytes</vrf-key>.
import { x, type Element } from '../xml/index.ts';
import { b64, KtFormatError, NS_KT, unb64 } from './protocol.ts';
import { VRF_SUITE } from './vrf.ts';

export function buildVrfKey(publicKey: Uint8Array): Element {
  return x('vrf-key', { xmlns: NS_KT, suite: VRF_SUITE }, b64(publicKey));
}

/** The 32-byte key; a suite other than ours is refused, not guessed at. */
export function parseVrfKey(el: Element): Uint8Array {
  if (el.local !== 'vrf-key' || el.ns !== NS_KT) throw new KtFormatError(`not a VRF key: <${el.local} xmlns='${el.ns}'>`);
  if (el.attrs.suite !== VRF_SUITE) throw new KtFormatError(`unknown VRF suite ${JSON.stringify(el.attrs.suite)}`);
  return unb64(el.text().trim(), 32);
}
