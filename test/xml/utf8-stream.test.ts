// Utf8StreamDecoder against the platform's fatal TextDecoder: same text for valid input however it is
// split, and invalid input always refused (at the latest when the stream ends with an unfinished character).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Utf8StreamDecoder } from '../../src/xml/utf8-stream.ts';

function decodeSplit(bytes: Uint8Array, cuts: number[]): { text?: string; unfinished: boolean } {
  const d = new Utf8StreamDecoder();
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let text = '';
  let from = 0;
  for (const to of [...points, bytes.length]) {
    const s = d.decode(bytes.subarray(from, to));
    if (s === undefined) return { unfinished: false };
    text += s;
    from = to;
  }
  return { text, unfinished: d.unfinishedBytes > 0 };
}

const reference = (bytes: Uint8Array): string | undefined => {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
};

describe('Utf8StreamDecoder', () => {
  it('decodes valid UTF-8 split anywhere exactly like TextDecoder', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), fc.array(fc.nat(), { maxLength: 8 }), (str, cuts) => {
        const bytes = new TextEncoder().encode(str);
        const r = decodeSplit(bytes, cuts);
        assert.equal(r.text, str);
        assert.equal(r.unfinished, false);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses whatever TextDecoder refuses, and nothing it accepts', () => {
    // Bytes biased towards the interesting ranges: lead bytes, continuations, C0/C1/F5-FF.
    const byte = fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0xbf }), fc.integer({ min: 0xc0, max: 0xff }));
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 16 }), fc.array(fc.nat(), { maxLength: 6 }), (arr, cuts) => {
        const bytes = Uint8Array.from(arr);
        const want = reference(bytes);
        const r = decodeSplit(bytes, cuts);
        if (want === undefined) assert.ok(r.text === undefined || r.unfinished, `accepted invalid ${Buffer.from(bytes).toString('hex')}`);
        else assert.deepEqual(r, { text: want, unfinished: false });
      }),
      { numRuns: 5000 },
    );
  });

  it('reports an impossible byte at once, not one read later', () => {
    for (const hex of ['ff', 'c0', 'c1', 'f5', 'e0 80', 'ed a0', 'f0 80', 'f4 90', 'e2 28']) {
      const d = new Utf8StreamDecoder();
      assert.equal(d.decode(Buffer.from(`61${hex.replace(/ /g, '')}`, 'hex')), undefined, hex);
    }
  });

  it('holds a character split across reads', () => {
    const d = new Utf8StreamDecoder();
    const big = Buffer.concat([Buffer.alloc(65536, 0x61), Buffer.from([0xf0, 0x9f])]);
    assert.equal(d.decode(big)!.length, 65536);
    assert.equal(d.unfinishedBytes, 2);
    assert.equal(d.decode(Buffer.from([0x98, 0x80])), '😀');
    assert.equal(d.unfinishedBytes, 0);
  });
});
