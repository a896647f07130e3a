// Strict incremental UTF-8 decoding for a stream's bytes. A TextDecoder('utf-8', { fatal: true }) per
// connection does the same but holds a native ICU converter (~1.7 KB of RSS each, measured), which adds up
// over tens of thousands of idle connections. Here the state is at most three bytes of an unfinished
// character; validation is Node's buffer.isUtf8 (simdutf: rejects overlongs, surrogates and code points
// above U+10FFFF, as the fatal decoder does) and decoding is Buffer#toString.
import { Buffer, isUtf8 } from 'node:buffer';

export class Utf8StreamDecoder {
  /** The bytes of a character split across reads (0-3), kept for the next chunk. */
  private tail: Buffer | undefined;

  /** Bytes of an unfinished character held for the next chunk (a stream ending here ended mid-character). */
  get unfinishedBytes(): number {
    return this.tail?.length ?? 0;
  }

  /** Decodes the complete characters of `tail + chunk`; undefined when the bytes are not valid UTF-8. */
  decode(chunk: Uint8Array): string | undefined {
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.tail) {
      data = Buffer.concat([this.tail, data]);
      this.tail = undefined;
    }
    const complete = completeLength(data);
    const head = complete === data.length ? data : data.subarray(0, complete);
    if (!isUtf8(head)) return undefined;
    // A copy, so the (possibly large) read buffer is not kept alive by three bytes.
    if (complete < data.length) this.tail = Buffer.from(data.subarray(complete));
    return head.toString('utf8');
  }
}

/**
 * Length of the prefix that ends on a character boundary: a trailing lead byte whose continuation bytes
 * have not all arrived yet is left out. Anything else (including invalid bytes) is left in, for isUtf8 to
 * judge.
 */
function completeLength(b: Buffer): number {
  const n = b.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const byte = b[n - k]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    // ASCII, or a byte that can never start a character (C0, C1, F5-FF): nothing to wait for.
    if (byte < 0xc2 || byte > 0xf4) return n;
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
    if (need <= k) return n;
    // Wait only if what arrived so far can still become a valid character, so an error shows at once
    // (Unicode 15 table 3-7: the second byte's range depends on the lead; the rest are 80-BF).
    if (k >= 2) {
      const second = b[n - k + 1]!;
      const [lo, hi] = byte === 0xe0 ? [0xa0, 0xbf] : byte === 0xed ? [0x80, 0x9f] : byte === 0xf0 ? [0x90, 0xbf] : byte === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
      if (second < lo || second > hi) return n;
    }
    return n - k;
  }
  return n;
}
