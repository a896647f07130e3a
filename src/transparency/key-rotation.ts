// Log key rotation statements (docs/transparency.md "Log key and rotation"): the domain's old log key signs
// "the log of DOMAIN is signed by NEW from TIME on". A client that pinned the old key accepts heads signed by
// the new one only through an unbroken chain of such statements from its pinned key. Signed bytes:
//
//   "urn:pepkeys:kt:0:key-rotation" 0x00   (context: no head or other message verifies as a rotation)
//   u16  domain byte length, then the domain (UTF-8, lowercase)
//   32 bytes old raw Ed25519 public key
//   32 bytes new raw Ed25519 public key
//   u64  time, milliseconds since the Unix epoch
import { sign, verify, type KeyObject } from 'node:crypto';
import { x, type Element } from '../xml/index.ts';
import { b64, KtFormatError, NS_KT, uint, unb64 } from './protocol.ts';
import { ed25519PublicKeyFromRaw, rawEd25519PublicKey } from './tree-head.ts';

export const KEY_ROTATION_CONTEXT = 'urn:pepkeys:kt:0:key-rotation';

export interface KeyRotation {
  domain: string;
  oldKey: Uint8Array;
  newKey: Uint8Array;
  time: number;
  /** By the old key. */
  signature: Uint8Array;
}

export function keyRotationSignatureInput(r: Omit<KeyRotation, 'signature'>): Uint8Array {
  const domain = Buffer.from(r.domain, 'utf8');
  if (domain.length > 0xffff || r.oldKey.length !== 32 || r.newKey.length !== 32 || !Number.isSafeInteger(r.time) || r.time < 0) throw new RangeError('malformed key rotation');
  const ctx = Buffer.from(`${KEY_ROTATION_CONTEXT}\0`, 'ascii');
  const out = Buffer.alloc(ctx.length + 2 + domain.length + 64 + 8);
  let o = ctx.copy(out, 0);
  o = out.writeUInt16BE(domain.length, o);
  o += domain.copy(out, o);
  o += Buffer.from(r.oldKey).copy(out, o);
  o += Buffer.from(r.newKey).copy(out, o);
  out.writeBigUInt64BE(BigInt(r.time), o);
  return out;
}

export function signKeyRotation(domain: string, oldPrivate: KeyObject, newPrivate: KeyObject, time: number): KeyRotation {
  const r = { domain, oldKey: rawEd25519PublicKey(oldPrivate), newKey: rawEd25519PublicKey(newPrivate), time };
  return { ...r, signature: new Uint8Array(sign(null, keyRotationSignatureInput(r), oldPrivate)) };
}

export function verifyKeyRotation(r: KeyRotation): boolean {
  try {
    return r.signature.length === 64 && verify(null, keyRotationSignatureInput(r), ed25519PublicKeyFromRaw(r.oldKey), r.signature);
  } catch {
    return false;
  }
}

export function buildKeyRotation(r: KeyRotation): Element {
  return x('key-rotation', { xmlns: NS_KT, domain: r.domain, old: b64(r.oldKey), new: b64(r.newKey), time: String(r.time), signature: b64(r.signature) });
}

export function parseKeyRotation(el: Element): KeyRotation {
  if (el.local !== 'key-rotation' || el.ns !== NS_KT) throw new KtFormatError(`not a key rotation: <${el.local} xmlns='${el.ns}'>`);
  if (!el.attrs.domain) throw new KtFormatError('key rotation without a domain');
  return { domain: el.attrs.domain, oldKey: unb64(el.attrs.old, 32), newKey: unb64(el.attrs.new, 32), time: uint(el.attrs.time, 'time'), signature: unb64(el.attrs.signature, 64) };
}
