// Signed map heads (docs/transparency.md "Map head"): a domain's statement that its verifiable map at `epoch`
// has root `root` and holds the key events of the log's first `logSize` leaves, signed at `time` with the
// domain's Ed25519 log key, and binds it to the log: `logRoot` is the log's RFC 9162 root at `logSize`. The signed bytes are a fixed binary layout, with a context string of their own so
// that a map head can never pass for a tree head (tree-head.ts) or the reverse:
//
//   "urn:pepkeys:kt:0:map-head" 0x00     (26 bytes)
//   u16  domain byte length, then the domain (UTF-8)
//   u64  epoch, u64 log size, u64 time (milliseconds since the Unix epoch)
//   32 bytes log root (RFC 9162 MTH of the log's first `log size` leaves)
//   32 bytes map root (transparency/map/hash.ts)
import { sign, verify, type KeyObject } from 'node:crypto';
import { HASH_BYTES } from './hash.ts';
import { ed25519PublicKeyFromRaw, rawEd25519PublicKey } from './tree-head.ts';

export const MAP_HEAD_CONTEXT = 'urn:pepkeys:kt:0:map-head';

export interface MapHead {
  domain: string;
  epoch: number;
  logSize: number;
  time: number;
  logRoot: Uint8Array;
  root: Uint8Array;
}

export interface SignedMapHead extends MapHead {
  key: Uint8Array;
  signature: Uint8Array;
}

const u64ok = (n: number) => Number.isSafeInteger(n) && n >= 0;

export function mapHeadSignatureInput(h: MapHead): Uint8Array {
  const domain = Buffer.from(h.domain, 'utf8');
  if (domain.length > 0xffff || h.root.length !== HASH_BYTES || h.logRoot.length !== HASH_BYTES || !u64ok(h.epoch) || !u64ok(h.logSize) || !u64ok(h.time)) throw new RangeError('malformed map head');
  const ctx = Buffer.from(`${MAP_HEAD_CONTEXT}\0`, 'ascii');
  const out = Buffer.alloc(ctx.length + 2 + domain.length + 24 + 2 * HASH_BYTES);
  let o = ctx.copy(out, 0);
  o = out.writeUInt16BE(domain.length, o);
  o += domain.copy(out, o);
  o = out.writeBigUInt64BE(BigInt(h.epoch), o);
  o = out.writeBigUInt64BE(BigInt(h.logSize), o);
  o = out.writeBigUInt64BE(BigInt(h.time), o);
  o += Buffer.from(h.logRoot).copy(out, o);
  Buffer.from(h.root).copy(out, o);
  return out;
}

export function signMapHead(h: MapHead, privateKey: KeyObject): SignedMapHead {
  return { ...h, key: rawEd25519PublicKey(privateKey), signature: new Uint8Array(sign(null, mapHeadSignatureInput(h), privateKey)) };
}

/** Checks the signature with the key the head names; whether that key is the domain's is the caller's question. */
export function verifyMapHead(h: SignedMapHead): boolean {
  try {
    return h.signature.length === 64 && verify(null, mapHeadSignatureInput(h), ed25519PublicKeyFromRaw(h.key), h.signature);
  } catch {
    return false;
  }
}
