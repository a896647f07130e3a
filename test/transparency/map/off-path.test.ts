// A dishonest server may sign the root of a tree that is not in canonical form. The verifiers must not accept a
// leaf that lies off its label's path even when the hashes add up to such a root.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodeHash } from '../../../src/transparency/hash.ts';
import { mapLeafHash, mapRoot, type MapEntry } from '../../../src/transparency/map/hash.ts';
import { rootOfPath, verifyNonMembership } from '../../../src/transparency/map/lookup-proof.ts';
import { verifyAppendOnly } from '../../../src/transparency/map/append-proof.ts';

const entry = (first: number, c: number): MapEntry => {
  const label = new Uint8Array(32);
  label[0] = first;
  return { label, commitment: new Uint8Array(32).fill(c) };
};

describe('verifiable map: leaves off their path', () => {
  it('non-membership: another entry ending the path must share its prefix', () => {
    const looked = entry(0x00, 0).label; // bits 00…
    const m = entry(0xc0, 7); // bits 11…: not under prefix 0
    const sibling = mapLeafHash(entry(0x80, 9));
    // A root made for the lie: M's leaf put on the label's path at depth 1.
    const fakeRoot = rootOfPath(looked, mapLeafHash(m), [sibling]);
    assert.equal(verifyNonMembership(fakeRoot, looked, { siblings: [sibling], leaf: m }), false);
    // The same shape with a leaf that is on the path verifies (the check is the prefix, nothing else).
    const on = entry(0x40, 7); // bits 01…
    assert.ok(verifyNonMembership(rootOfPath(looked, mapLeafHash(on), [sibling]), looked, { siblings: [sibling], leaf: on }));
  });

  it('append-only: a lone old entry given under another prefix is refused', () => {
    const a = entry(0x00, 1); // bits 0…
    const m = entry(0x80, 2); // bits 1…
    const x = entry(0x40, 3); // bits 01…: the new entry, on the left
    // The old tree with A and M swapped: N(H(M), H(A)).
    const oldRoot = nodeHash(mapLeafHash(m), mapLeafHash(a));
    const proof = { inserted: [x], items: [{ t: 'split' as const }, { t: 'leaf' as const, entry: m }, { t: 'leaf' as const, entry: a }] };
    const newRoot = nodeHash(mapRoot([m, x].sort((p, q) => Buffer.compare(p.label, q.label))), mapLeafHash(a));
    assert.equal(verifyAppendOnly(oldRoot, newRoot, proof), false);
    // In canonical form the same proof shape verifies.
    const good = { inserted: [x], items: [{ t: 'split' as const }, { t: 'leaf' as const, entry: a }, { t: 'leaf' as const, entry: m }] };
    assert.ok(verifyAppendOnly(mapRoot([a, m]), mapRoot([a, x, m]), good));
  });
});
