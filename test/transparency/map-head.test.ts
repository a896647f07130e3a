// Signed map heads: they verify, any change to a signed field breaks them, and a map head's signature can
// never verify as a tree head's (distinct context strings), nor the reverse.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { signMapHead, verifyMapHead, mapHeadSignatureInput } from '../../src/transparency/map-head.ts';
import { signTreeHead, verifyTreeHead } from '../../src/transparency/tree-head.ts';

const { privateKey } = generateKeyPairSync('ed25519');
const head = { domain: 'capulet.lit', epoch: 3, logSize: 42, time: 1_767_225_600_000, logRoot: new Uint8Array(32).fill(1), root: new Uint8Array(32).fill(2) };

describe('signed map heads', () => {
  it('verify, and fail when any signed field changes', () => {
    const h = signMapHead(head, privateKey);
    assert.ok(verifyMapHead(h));
    assert.equal(verifyMapHead({ ...h, domain: 'montague.lit' }), false);
    assert.equal(verifyMapHead({ ...h, epoch: 4 }), false);
    assert.equal(verifyMapHead({ ...h, logSize: 41 }), false);
    assert.equal(verifyMapHead({ ...h, time: h.time + 1 }), false);
    assert.equal(verifyMapHead({ ...h, logRoot: new Uint8Array(32).fill(3) }), false);
    assert.equal(verifyMapHead({ ...h, root: new Uint8Array(32).fill(3) }), false);
  });

  it('the signed bytes start with their own context string', () => {
    assert.equal(Buffer.from(mapHeadSignatureInput(head).subarray(0, 26)).toString('latin1'), 'urn:pepkeys:kt:0:map-head\0');
  });

  it('a map head signature is no tree head signature, and a tree head signature no map head signature', () => {
    const m = signMapHead(head, privateKey);
    assert.equal(verifyTreeHead({ domain: head.domain, size: head.logSize, time: head.time, root: head.root, key: m.key, signature: m.signature }), false);
    const t = signTreeHead({ domain: head.domain, size: head.logSize, time: head.time, root: head.root }, privateKey);
    assert.equal(verifyMapHead({ ...head, key: t.key, signature: t.signature }), false);
  });
});
