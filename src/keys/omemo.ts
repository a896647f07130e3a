// OMEMO keys as published over PEP (XEP-0384), read so that a user can compare the fingerprint their client
// shows with what the server serves. Two generations are in use:
// - legacy (0.3, `eu.siacs.conversations.axolotl`): profanity, Gajim, Dino, Conversations. Device list in
//   `…devicelist` (<list><device id/></list>), one bundle node per device `…bundles:ID`, identity key
//   Curve25519 in libsignal's serialisation (a 0x05 type byte, then 32 bytes).
// - 0.8+ (`urn:xmpp:omemo:2`): <devices><device id label?/></devices>, all bundles in one node with item id =
//   device id, identity key Ed25519 (32 bytes).
// Clients show the fingerprint as the 32 key bytes in hex (profanity and Conversations group them by 8).
import type { Element } from '../xml/index.ts';
import { KeyError } from './errors.ts';

export type OmemoVersion = 'legacy' | 'omemo2';

export const OMEMO_NS: Readonly<Record<OmemoVersion, string>> = { legacy: 'eu.siacs.conversations.axolotl', omemo2: 'urn:xmpp:omemo:2' };

/** The PEP node holding the device list. */
export function omemoDeviceListNode(v: OmemoVersion): string {
  return v === 'legacy' ? `${OMEMO_NS.legacy}.devicelist` : `${OMEMO_NS.omemo2}:devices`;
}

/** The PEP node holding a device's bundle, and the item id it is under (undefined: the node's only item). */
export function omemoBundleLocation(v: OmemoVersion, deviceId: number): { node: string; itemId?: string } {
  return v === 'legacy' ? { node: `${OMEMO_NS.legacy}.bundles:${deviceId}` } : { node: `${OMEMO_NS.omemo2}:bundles`, itemId: String(deviceId) };
}

export interface OmemoDevice {
  id: number;
  /** OMEMO 0.8+ only; unauthenticated unless its labelsig is checked, so shown as the device's claim. */
  label?: string;
}

const MAX_DEVICE_ID = 2 ** 31 - 1;

function deviceId(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d{1,10}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 1 && n <= MAX_DEVICE_ID ? n : undefined;
}

/** The devices of a device-list payload; entries with an id outside 1..2^31-1 are left out. */
export function parseOmemoDeviceList(payload: Element): { version: OmemoVersion; devices: OmemoDevice[] } {
  const version: OmemoVersion | undefined =
    payload.ns === OMEMO_NS.legacy && payload.local === 'list' ? 'legacy' : payload.ns === OMEMO_NS.omemo2 && payload.local === 'devices' ? 'omemo2' : undefined;
  if (!version) throw new KeyError('bad-payload', `not an OMEMO device list: <${payload.local} xmlns='${payload.ns}'>`);
  const devices: OmemoDevice[] = [];
  for (const d of payload.getChildren('device', payload.ns)) {
    const id = deviceId(d.attrs.id);
    if (id === undefined) continue;
    devices.push(version === 'omemo2' && d.attrs.label ? { id, label: d.attrs.label } : { id });
  }
  return { version, devices };
}

export interface OmemoBundleInfo {
  version: OmemoVersion;
  /** The 32 bytes of the identity key that clients show as the fingerprint. */
  identityKey: Buffer;
  signedPreKeyId: number | undefined;
  preKeys: number;
}

/** Reads the identity key and counts of a bundle payload. */
export function parseOmemoBundle(payload: Element): OmemoBundleInfo {
  if (payload.local !== 'bundle' || (payload.ns !== OMEMO_NS.legacy && payload.ns !== OMEMO_NS.omemo2)) {
    throw new KeyError('bad-payload', `not an OMEMO bundle: <${payload.local} xmlns='${payload.ns}'>`);
  }
  const version: OmemoVersion = payload.ns === OMEMO_NS.legacy ? 'legacy' : 'omemo2';
  const ikText = payload.getChildText(version === 'legacy' ? 'identityKey' : 'ik', payload.ns);
  if (!ikText) throw new KeyError('bad-payload', 'OMEMO bundle without an identity key');
  const raw = Buffer.from(ikText.replace(/\s+/g, ''), 'base64');
  let identityKey: Buffer;
  // libsignal prefixes Curve25519 public keys with the type byte 0x05; 0.8+ publishes the bare Ed25519 key.
  if (version === 'legacy' && raw.length === 33 && raw[0] === 0x05) identityKey = raw.subarray(1);
  else if (raw.length === 32) identityKey = raw;
  else throw new KeyError('bad-key', `OMEMO identity key of ${raw.length} bytes`);
  const spk = payload.getChild(version === 'legacy' ? 'signedPreKeyPublic' : 'spk', payload.ns);
  const prekeys = payload.getChild('prekeys', payload.ns)?.getChildren(version === 'legacy' ? 'preKeyPublic' : 'pk', payload.ns) ?? [];
  return { version, identityKey, signedPreKeyId: deviceId(spk?.attrs[version === 'legacy' ? 'signedPreKeyId' : 'id']), preKeys: prekeys.length };
}

/** The fingerprint as clients print it: 64 lowercase hex digits in groups of 8. */
export function formatOmemoFingerprint(identityKey: Buffer): string {
  return identityKey.toString('hex').replace(/(.{8})(?!$)/g, '$1 ');
}
