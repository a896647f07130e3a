// Signed tree heads (docs/transparency.md "Signed tree head"): a domain's statement that its log had `size`
// leaves with root `root` at `time`, signed with the domain's Ed25519 log key. The signed bytes are a fixed
// binary layout, never XML, so no serialiser choice can change them:
//
//   "urn:pepkeys:kt:0:tree-head" 0x00    (27 bytes: context, so no other message verifies as a head)
//   u16  domain byte length, then the domain (UTF-8, as served: lowercase)
//   u64  size
//   u64  time, milliseconds since the Unix epoch
//   32 bytes root (RFC 9162 MTH of the first `size` leaves)
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { HASH_BYTES, sha256 } from './hash.ts';

export const TREE_HEAD_CONTEXT = 'urn:pepkeys:kt:0:tree-head';

export interface TreeHead {
  domain: string;
  size: number;
  time: number;
  root: Uint8Array;
}

export interface SignedTreeHead extends TreeHead {
  /** Raw 32-byte Ed25519 public key of the log key that signed it. */
  key: Uint8Array;
  signature: Uint8Array;
}

export function treeHeadSignatureInput(h: TreeHead): Uint8Array {
  const domain = Buffer.from(h.domain, 'utf8');
  if (domain.length > 0xffff || h.root.length !== HASH_BYTES || !Number.isSafeInteger(h.size) || h.size < 0 || !Number.isSafeInteger(h.time) || h.time < 0) {
    throw new RangeError('malformed tree head');
  }
  const ctx = Buffer.from(`${TREE_HEAD_CONTEXT}\0`, 'ascii');
  const out = Buffer.alloc(ctx.length + 2 + domain.length + 16 + HASH_BYTES);
  let o = ctx.copy(out, 0);
  o = out.writeUInt16BE(domain.length, o);
  o += domain.copy(out, o);
  o = out.writeBigUInt64BE(BigInt(h.size), o);
  o = out.writeBigUInt64BE(BigInt(h.time), o);
  Buffer.from(h.root).copy(out, o);
  return out;
}

/** The raw public key of an Ed25519 key object (the last 32 bytes of its SPKI DER). */
export function rawEd25519PublicKey(key: KeyObject): Uint8Array {
  const der = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return new Uint8Array(der.subarray(der.length - 32));
}

/** SPKI DER prefix of an Ed25519 public key (RFC 8410): the raw key follows. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function ed25519PublicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new RangeError('an Ed25519 public key is 32 bytes');
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** A log key's id: SHA-256 of its raw public key, hex (what docs and operators compare). */
export function logKeyId(raw: Uint8Array): string {
  return Buffer.from(sha256(raw)).toString('hex');
}

export function signTreeHead(h: TreeHead, privateKey: KeyObject): SignedTreeHead {
  const signature = new Uint8Array(sign(null, treeHeadSignatureInput(h), privateKey));
  return { ...h, key: rawEd25519PublicKey(privateKey), signature };
}

/** Checks the signature with the key the head names; whether that key is the domain's is the caller's question. */
export function verifyTreeHead(h: SignedTreeHead): boolean {
  try {
    return h.signature.length === 64 && verify(null, treeHeadSignatureInput(h), ed25519PublicKeyFromRaw(h.key), h.signature);
  } catch {
    return false;
  }
}
