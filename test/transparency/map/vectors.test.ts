// Fixed vectors for the map's encoding, worked out by hand (and with an independent SHA-256), so a change of
// bit order, prefix byte or canonical form shows here first.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mapLeafHash, mapRoot, EMPTY_SUBTREE, type MapEntry } from '../../../src/transparency/map/hash.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const label = (first: number): Uint8Array => {
  const l = new Uint8Array(32);
  l[0] = first;
  return l;
};
const fill = (v: number): Uint8Array => new Uint8Array(32).fill(v);

// L1 = 00…00 (bits 00…), L2 = 40 00…00 (bits 01…), L3 = 80 00…00 (bits 1…); commitments 11…, 22…, 33….
const e1: MapEntry = { label: label(0x00), commitment: fill(0x11) };
const e2: MapEntry = { label: label(0x40), commitment: fill(0x22) };
const e3: MapEntry = { label: label(0x80), commitment: fill(0x33) };

describe('verifiable map test vectors', () => {
  it('an empty map is 32 zero bytes; one entry is its leaf hash, SHA-256(0x00 || label || commitment)', () => {
    assert.equal(hex(mapRoot([])), hex(EMPTY_SUBTREE));
    assert.equal(hex(EMPTY_SUBTREE), '00'.repeat(32));
    // H3 = SHA-256(00 || 80 00…00 || 33…33)
    assert.equal(hex(mapLeafHash(e3)), 'acd980f6924879ce22570dbed07e4dc1793bd11bbdfc2ec6f8e8b734b9f85bc5');
    assert.equal(hex(mapRoot([e3])), hex(mapLeafHash(e3)));
  });

  it('three entries: root = N(N(H1, H2), H3)', () => {
    // Bit 0 splits {L1, L2} | {L3}: L3 is alone on the right, so the right child is H3 itself (not buried).
    // Bit 1 splits L1 | L2: the left child is N(H1, H2) = SHA-256(01 || H1 || H2).
    // Root = SHA-256(01 || N(H1, H2) || H3).
    assert.equal(hex(mapRoot([e1, e2, e3])), 'e78335c5c210a01e2d626323d632bd4c4333d51bac89f0331734e66e4a40a65c');
  });

  it('two entries sharing two bits: the empty siblings are zero hashes', () => {
    // L1 = 00… and L4 = 20… (bits 001…) agree on bits 0 and 1, so root = N(N(N(H1, H4), 0^32), 0^32).
    const e4: MapEntry = { label: label(0x20), commitment: fill(0x22) };
    assert.equal(hex(mapRoot([e1, e4])), 'a3780e1b5e37ff7cfc67158c597413b3780085b743dde1b11ca38e33cb9a81a1');
  });
});
