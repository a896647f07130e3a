// Log key rotation statements (docs/transparency.md "Log key and rotation"): signed by the old key over a
// fixed layout; any changed field, another domain, or a signature by the new key does not verify.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { parseXml } from '../../src/xml/index.ts';
import { buildKeyRotation, parseKeyRotation, signKeyRotation, verifyKeyRotation } from '../../src/transparency/key-rotation.ts';
import { signTreeHead, verifyTreeHead } from '../../src/transparency/tree-head.ts';

describe('log key rotation statements', () => {
  const old = generateKeyPairSync('ed25519').privateKey;
  const next = generateKeyPairSync('ed25519').privateKey;
  const r = signKeyRotation('capulet.lit', old, next, 1764892800000);

  it('verify, and survive their XML form', () => {
    assert.ok(verifyKeyRotation(r));
    assert.ok(verifyKeyRotation(parseKeyRotation(parseXml(buildKeyRotation(r).toString()))));
  });

  it('do not verify with any field changed', () => {
    assert.equal(verifyKeyRotation({ ...r, domain: 'montague.lit' }), false);
    assert.equal(verifyKeyRotation({ ...r, time: r.time + 1 }), false);
    assert.equal(verifyKeyRotation({ ...r, newKey: r.oldKey }), false);
    // Signed by the new key instead of the old one.
    const bySelf = signKeyRotation('capulet.lit', next, next, r.time);
    assert.equal(verifyKeyRotation({ ...r, signature: bySelf.signature }), false);
  });

  it('are not tree heads and tree heads are not statements (separate contexts)', () => {
    const head = signTreeHead({ domain: 'capulet.lit', size: 1, time: 1, root: new Uint8Array(32) }, old);
    assert.ok(verifyTreeHead(head));
    assert.equal(verifyKeyRotation({ ...r, signature: head.signature }), false);
  });
});
