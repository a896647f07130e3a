// How the SQL adapters store a transparency-log leaf (migration 6): not the canonical leaf bytes of
// docs/transparency.md, which repeat the JID, the node and hex text, but what they cannot derive. The row
// holds the log, the sequence number and the interned JID and node (kt_names); the body holds the rest:
//
//   u8   flags: bits 0-2 event type (1-4); bit 3 payload hash present; bit 4 item id is "current";
//        bits 5-6 fingerprint form: 0 none, 1 UTF-8 text, 2 "PREFIX:" + lowercase hex stored as bytes
//   u48  time (ms)
//   item id, unless bit 4: varint byte length + UTF-8
//   32 bytes payload hash, if bit 3
//   fingerprint: form 1: varint byte length + UTF-8; form 2: u8 prefix number (PREFIXES), varint n, n bytes
//
// or the byte 0xff and the canonical leaf, for a leaf this cannot express exactly. The canonical leaf is
// rebuilt with encodeLeaf and must come out byte for byte as it went in: encodeBody checks that.
// PREFIXES only ever grows: stored bodies name prefixes by their position.
import { encodeLeaf, KEY_EVENT_TYPES, type KeyEventDraft } from '../../transparency/leaf.ts';

const PREFIXES = ['sha-256', 'sha-1', 'sha-224', 'sha-384', 'sha-512', 'sha3-256', 'sha3-384', 'sha3-512', 'omemo', 'openpgp-v4'];
const RAW = 0xff;
const CURRENT = 'current';
const CURRENT_BYTES = Buffer.from(CURRENT, 'utf8');

export function writeVarint(out: Buffer, n: number, o: number): number {
  while (n >= 0x80) {
    out[o++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[o++] = n;
  return o;
}

function writeText(out: Buffer, s: string, o: number): number {
  const n = Buffer.byteLength(s, 'utf8');
  o = writeVarint(out, n, o);
  return o + out.write(s, o, 'utf8');
}

/**
 * The body of `event` as leaf number `seq`. `verify` rebuilds the canonical leaf from it and keeps the leaf
 * whole if it differs (migration 6 converts with it); appends skip it (7 µs of a publish): every form above
 * is exact by construction for a leaf encodeLeaf wrote, and times beyond 48 bits are checked anyway.
 */
export function encodeBody(event: KeyEventDraft, seq: number, canonical?: Uint8Array, verify = true): Buffer {
  const leaf = () => canonical ?? encodeLeaf({ ...event, seq });
  // Sized generously, written in place: this runs for every key event, inside the write's transaction.
  const fp = event.fingerprint ?? '';
  const colon = fp.indexOf(':');
  const prefix = colon > 0 ? PREFIXES.indexOf(fp.slice(0, colon)) : -1;
  const hex = fp.slice(colon + 1);
  const binary = prefix >= 0 && hex.length > 0 && hex.length % 2 === 0 && /^[0-9a-f]+$/.test(hex);
  const current = event.itemId === CURRENT;
  const out = Buffer.allocUnsafe(7 + (current ? 0 : 5 + 3 * event.itemId.length) + 32 + 6 + 3 * fp.length);
  let flags = KEY_EVENT_TYPES.indexOf(event.type) + 1;
  if (event.payloadHash) flags |= 0x08;
  if (current) flags |= 0x10;
  if (fp) flags |= binary ? 0x40 : 0x20;
  out[0] = flags;
  const t = event.time;
  const hi = Math.floor(t / 0x1_0000_0000);
  out.writeUInt16BE(hi & 0xffff, 1);
  out.writeUInt32BE(t - hi * 0x1_0000_0000, 3);
  let o = 7;
  if (!current) o = writeText(out, event.itemId, o);
  if (event.payloadHash) {
    out.set(event.payloadHash, o);
    o += 32;
  }
  if (binary) {
    out[o++] = prefix;
    o = writeVarint(out, hex.length / 2, o);
    o += out.write(hex, o, 'hex');
  } else if (fp) {
    o = writeText(out, fp, o);
  }
  const body = out.subarray(0, o);
  // Anything this form would not give back exactly (time beyond 48 bits, …) is kept whole.
  if (hi >= 0x10000 || (verify && !Buffer.from(leafFromBody(seq, event.jid, event.node, body)).equals(Buffer.from(leaf())))) {
    return Buffer.concat([Buffer.from([RAW]), leaf()]);
  }
  return body;
}

// Module-level helpers rather than closures: leafFromBody runs for up to 8 leaves of every proof.
let afterVarint = 0;
/** Where the last readVarint ended. */
export const varintEnd = (): number => afterVarint;
export function readVarint(b: Uint8Array, o: number): number {
  let n = 0;
  let m = 1;
  for (;;) {
    const x = b[o++];
    if (x === undefined) throw new RangeError('truncated varint');
    n += (x & 0x7f) * m;
    if (x < 0x80) break;
    m *= 0x80;
  }
  afterVarint = o;
  return n;
}

function putStr(out: Buffer, s: Uint8Array, w: number): number {
  w = out.writeUInt16BE(s.length, w);
  out.set(s, w);
  return w + s.length;
}

/**
 * The canonical leaf (docs/transparency.md) of a stored row, written straight from the body (proofs hash
 * several per request). `jid` and `node` may be given as their UTF-8 bytes.
 */
export function leafFromBody(seq: number, jid: string | Uint8Array, node: string | Uint8Array, body: Uint8Array): Uint8Array {
  if (body[0] === RAW) return body.subarray(1);
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const jidBytes = typeof jid === 'string' ? Buffer.from(jid, 'utf8') : jid;
  const nodeBytes = typeof node === 'string' ? Buffer.from(node, 'utf8') : node;
  let o = 0;
  const flags = b[o++]!;
  const type = flags & 0x07;
  if (type < 1 || type > KEY_EVENT_TYPES.length) throw new RangeError(`stored leaf ${seq} has no event type`);
  const timeAt = o;
  o += 6;
  let n: number;
  let item: Uint8Array = CURRENT_BYTES;
  if (!(flags & 0x10)) {
    n = readVarint(b, o);
    o = afterVarint;
    item = b.subarray(o, o + n);
    o += n;
  }
  let ph: Uint8Array | undefined;
  if (flags & 0x08) {
    ph = b.subarray(o, o + 32);
    o += 32;
  }
  const form = (flags >> 5) & 0x03;
  let fpText: Uint8Array | undefined;
  let fpPrefix = '';
  let fpBin: Uint8Array | undefined;
  if (form === 1) {
    n = readVarint(b, o);
    o = afterVarint;
    fpText = b.subarray(o, o + n);
    o += n;
  } else if (form === 2) {
    fpPrefix = PREFIXES[b[o++]!]!;
    n = readVarint(b, o);
    o = afterVarint;
    fpBin = b.subarray(o, o + n);
    o += n;
  }
  const fpLen = fpText ? fpText.length : fpBin ? fpPrefix.length + 1 + 2 * fpBin.length : 0;
  const out = Buffer.alloc(18 + 2 + jidBytes.length + 2 + nodeBytes.length + 2 + item.length + 1 + (ph ? 32 : 0) + 2 + fpLen);
  let w = 0;
  out[w++] = 0; // leaf version 0
  out[w++] = type;
  const hi = Math.floor(seq / 0x1_0000_0000);
  w = out.writeUInt32BE(hi, w);
  w = out.writeUInt32BE(seq - hi * 0x1_0000_0000, w);
  w += 2; // time's upper 16 bits are 0: the body holds 48
  w += b.copy(out, w, timeAt, timeAt + 6);
  w = putStr(out, jidBytes, w);
  w = putStr(out, nodeBytes, w);
  w = putStr(out, item, w);
  out[w++] = ph ? 32 : 0;
  if (ph) {
    out.set(ph, w);
    w += 32;
  }
  w = out.writeUInt16BE(fpLen, w);
  if (fpText) out.set(fpText, w);
  if (fpBin) {
    w += out.write(fpPrefix, w, 'latin1');
    out[w++] = 0x3a; // ':'
    out.write(Buffer.from(fpBin.buffer, fpBin.byteOffset, fpBin.byteLength).toString('hex'), w, 'latin1');
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
