// The leaf of a domain's key-transparency log: one key event, in a canonical, versioned binary encoding
// (docs/transparency.md "Leaf format"). The leaf input hashed into the tree (RFC 9162 §2.1.1) is exactly
// these bytes, so any implementation that encodes the same event gets the same leaf hash.
//
//   u8   version (0)
//   u8   event type: 1 publish, 2 retract, 3 purge, 4 node deletion
//   u64  sequence number (the leaf's index in the log)
//   u64  time, milliseconds since the Unix epoch
//   str  JID (the bare JID of the PEP service, i.e. the key's owner)
//   str  node
//   str  item id ('' for purge and node deletion)
//   u8   n = 0 or 32, then n bytes: SHA-256 of the payload as served (publish only)
//   str  fingerprint, "algo:hex" of the key the event concerns ('' when there is none)
// Integers are big-endian; str is a u16 byte length then that many bytes of UTF-8.

export const LEAF_VERSION = 0;

export const KEY_EVENT_TYPES = ['publish', 'retract', 'purge', 'delete'] as const;
export type KeyEventType = (typeof KEY_EVENT_TYPES)[number];

export interface KeyEvent {
  type: KeyEventType;
  seq: number;
  time: number;
  jid: string;
  node: string;
  itemId: string;
  payloadHash?: Uint8Array;
  fingerprint?: string;
}

/** An event before the log gives it its sequence number (inside the transaction that stores it). */
export type KeyEventDraft = Omit<KeyEvent, 'seq'>;

export class LeafFormatError extends Error {
  readonly code = 'KT_BAD_LEAF';
}

const MAX_STR = 0xffff;

/**
 * Throws LeafFormatError when `e` has no leaf encoding. An adapter that encodes leaves later (at the end of
 * a group-commit batch) checks this first, so such an event fails its own write, not the whole batch.
 */
export function assertEncodable(e: KeyEventDraft): void {
  for (const s of [e.jid, e.node, e.itemId, e.fingerprint ?? '']) {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: only long strings need counting.
    if (s.length * 3 > MAX_STR && Buffer.byteLength(s, 'utf8') > MAX_STR) throw new LeafFormatError('a leaf string is longer than 65535 bytes');
  }
  if (e.payloadHash && e.payloadHash.length !== 32) throw new LeafFormatError('payload hash must be 32 bytes');
  if (!Number.isSafeInteger(e.time) || e.time < 0) throw new LeafFormatError('bad sequence or time');
  if (!KEY_EVENT_TYPES.includes(e.type)) throw new LeafFormatError(`unknown event type ${e.type}`);
}

export function encodeLeaf(e: KeyEvent): Uint8Array {
  // Sized first and written in place: this runs for every key event, inside the write's transaction.
  const strs = [e.jid, e.node, e.itemId, e.fingerprint ?? ''];
  const lens = strs.map((s) => Buffer.byteLength(s, 'utf8'));
  for (const n of lens) if (n > MAX_STR) throw new LeafFormatError('a leaf string is longer than 65535 bytes');
  assertEncodable(e);
  if (!Number.isSafeInteger(e.seq) || e.seq < 0) throw new LeafFormatError('bad sequence or time');
  const phLen = e.payloadHash ? 32 : 0;
  const out = Buffer.alloc(2 + 16 + lens.reduce((n, l) => n + 2 + l, 0) + 1 + phLen);
  let o = 0;
  out[o++] = LEAF_VERSION;
  out[o++] = KEY_EVENT_TYPES.indexOf(e.type) + 1;
  o = writeU64(out, e.seq, o);
  o = writeU64(out, e.time, o);
  o = writeStr(out, strs[0]!, lens[0]!, o);
  o = writeStr(out, strs[1]!, lens[1]!, o);
  o = writeStr(out, strs[2]!, lens[2]!, o);
  out[o++] = phLen;
  if (e.payloadHash) {
    out.set(e.payloadHash, o);
    o += 32;
  }
  writeStr(out, strs[3]!, lens[3]!, o);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

function writeStr(out: Buffer, s: string, len: number, o: number): number {
  o = out.writeUInt16BE(len, o);
  return o + out.write(s, o, 'utf8');
}

/** A safe integer as u64 big-endian, without going through BigInt. */
function writeU64(b: Buffer, n: number, o: number): number {
  const hi = Math.floor(n / 0x1_0000_0000);
  b.writeUInt32BE(hi, o);
  b.writeUInt32BE(n - hi * 0x1_0000_0000, o + 4);
  return o + 8;
}

/** Decodes a leaf; throws LeafFormatError on anything but the exact encoding of one event. */
export function decodeLeaf(bytes: Uint8Array): KeyEvent {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  const need = (n: number) => {
    if (o + n > b.length) throw new LeafFormatError('leaf is truncated');
  };
  need(18);
  if (b.readUInt8(0) !== LEAF_VERSION) throw new LeafFormatError(`unknown leaf version ${b.readUInt8(0)}`);
  const type = KEY_EVENT_TYPES[b.readUInt8(1) - 1];
  if (!type) throw new LeafFormatError(`unknown event type ${b.readUInt8(1)}`);
  const seq = b.readBigUInt64BE(2);
  const time = b.readBigUInt64BE(10);
  if (seq > BigInt(Number.MAX_SAFE_INTEGER) || time > BigInt(Number.MAX_SAFE_INTEGER)) throw new LeafFormatError('sequence or time out of range');
  o = 18;
  const str = () => {
    need(2);
    const n = b.readUInt16BE(o);
    o += 2;
    need(n);
    const s = new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(o, o + n));
    o += n;
    return s;
  };
  const jid = str();
  const node = str();
  const itemId = str();
  need(1);
  const phLen = b.readUInt8(o++);
  if (phLen !== 0 && phLen !== 32) throw new LeafFormatError('payload hash must be absent or 32 bytes');
  need(phLen);
  const payloadHash = phLen ? new Uint8Array(b.subarray(o, o + phLen)) : undefined;
  o += phLen;
  const fingerprint = str();
  if (o !== b.length) throw new LeafFormatError('trailing bytes after the leaf');
  const e: KeyEvent = { type, seq: Number(seq), time: Number(time), jid, node, itemId };
  if (payloadHash) e.payloadHash = payloadHash;
  if (fingerprint) e.fingerprint = fingerprint;
  return e;
}
