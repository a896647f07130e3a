// A map label: where a (JID, node, version) sits in the verifiable map (docs/transparency.md "VRF and labels").
// It is the first 32 bytes of the VRF output of a canonical encoding of the triple, so only the domain can
// compute labels (nobody can enumerate the map's JIDs from them) and anyone given the proof can check one.
//
//   alpha = "pepkeys-kt-map-v1"   17 ASCII bytes, no length: fixed context and version of this encoding
//           u16 + UTF-8           the bare JID, as in the log leaf (the key's owner)
//           u16 + UTF-8           the node
//           u32                   the version, ≥ 1 (the n-th epoch of the map with key events of this JID and node)
// Integers big-endian, like the log leaf.
import { vrfHash, vrfProveWithOutput, vrfVerify } from './vrf.ts';

export const MAP_ALPHA_CONTEXT = 'pepkeys-kt-map-v1';
export const MAP_LABEL_LENGTH = 32;

export class MapLabelError extends Error {
  readonly code = 'KT_MAP_LABEL';
}

export function mapAlpha(jid: string, node: string, version: number): Uint8Array {
  if (!Number.isInteger(version) || version < 1 || version > 0xffff_ffff) throw new MapLabelError(`map version must be an integer in 1..2^32-1, not ${version}`);
  if (jid === '' || jid.includes('/')) throw new MapLabelError('a map label is for a bare JID');
  const j = Buffer.from(jid, 'utf8');
  const n = Buffer.from(node, 'utf8');
  if (j.length > 0xffff || n.length > 0xffff) throw new MapLabelError('a JID or node is longer than 65535 bytes');
  const out = Buffer.alloc(MAP_ALPHA_CONTEXT.length + 2 + j.length + 2 + n.length + 4);
  let o = out.write(MAP_ALPHA_CONTEXT, 0, 'latin1');
  o = out.writeUInt16BE(j.length, o);
  o += j.copy(out, o);
  o = out.writeUInt16BE(n.length, o);
  o += n.copy(out, o);
  out.writeUInt32BE(version, o);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

export function mapLabel(secretKey: Uint8Array, jid: string, node: string, version: number): { label: Uint8Array; proof: Uint8Array } {
  const { proof, beta } = vrfProveWithOutput(secretKey, mapAlpha(jid, node, version));
  return { label: beta.slice(0, MAP_LABEL_LENGTH), proof };
}

/** The label alone, as mapLabel gives it, at a fraction of the cost (no proof: vrf.ts vrfHash); the map builder's. */
export function mapLabelOnly(secretKey: Uint8Array, jid: string, node: string, version: number): Uint8Array {
  return vrfHash(secretKey, mapAlpha(jid, node, version)).slice(0, MAP_LABEL_LENGTH);
}

/** The label the proof shows for (jid, node, version) under the domain's VRF key, or null; throws MapLabelError when the triple has no encoding (see mapAlpha). */
export function verifyMapLabel(publicKey: Uint8Array, jid: string, node: string, version: number, proof: Uint8Array): Uint8Array | null {
  const beta = vrfVerify(publicKey, mapAlpha(jid, node, version), proof);
  return beta ? beta.slice(0, MAP_LABEL_LENGTH) : null;
}
