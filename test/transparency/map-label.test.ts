// Map labels (VRF of a canonical (JID, node, version) encoding) and the hiding commitments stored under them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mapAlpha, mapLabel, verifyMapLabel } from '../../src/transparency/map-label.ts';
import { commitmentNonce, commitValue, verifyOpening } from '../../src/transparency/map-commitment.ts';
import { vrfKeyPairFromSeed, vrfProofToHash } from '../../src/transparency/vrf.ts';

const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const NODE = 'urn:xmpp:pubkey:2';
// The RFC 8032 §7.1 TEST 1 seed, so the example in docs/transparency.md can be reproduced.
const KEY = vrfKeyPairFromSeed(hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'));

describe('mapAlpha', () => {
  it('is the documented encoding, byte for byte', () => {
    assert.equal(
      toHex(mapAlpha('juliet@capulet.lit', NODE, 1)),
      Buffer.from('pepkeys-kt-map-v1').toString('hex') +
        '0012' + Buffer.from('juliet@capulet.lit').toString('hex') +
        '0011' + Buffer.from(NODE).toString('hex') +
        '00000001',
    );
    // UTF-8 lengths are byte lengths.
    assert.equal(toHex(mapAlpha('é@x', 'n', 0xffff_ffff).subarray(17)), '0004c3a9407800016effffffff');
  });

  it('is unambiguous: shifting bytes between the JID and the node changes it', () => {
    assert.notDeepEqual(mapAlpha('a@b', 'cd', 1), mapAlpha('a@bc', 'd', 1));
  });

  it('refuses version 0, non-integers, versions beyond u32, full JIDs and empty JIDs', () => {
    for (const v of [0, -1, 1.5, 2 ** 32, Number.NaN]) assert.throws(() => mapAlpha('a@b', NODE, v), /version/);
    assert.throws(() => mapAlpha('a@b/res', NODE, 1), /bare JID/);
    assert.throws(() => mapAlpha('', NODE, 1), /bare JID/);
    assert.throws(() => mapAlpha('a@b', 'x'.repeat(65536), 1), /65535/);
  });
});

describe('mapLabel', () => {
  it('is the first 32 bytes of beta, and verifies with the public key only', () => {
    const { label, proof } = mapLabel(KEY.secretKey, 'juliet@capulet.lit', NODE, 1);
    assert.equal(label.length, 32);
    assert.deepEqual(label, vrfProofToHash(proof).subarray(0, 32));
    assert.deepEqual(verifyMapLabel(KEY.publicKey, 'juliet@capulet.lit', NODE, 1, proof), label);
  });

  it('a proof for one (JID, node, version) does not verify for another', () => {
    const { proof } = mapLabel(KEY.secretKey, 'juliet@capulet.lit', NODE, 1);
    assert.equal(verifyMapLabel(KEY.publicKey, 'juliet@capulet.lit', NODE, 2, proof), null);
    assert.equal(verifyMapLabel(KEY.publicKey, 'romeo@montague.lit', NODE, 1, proof), null);
    assert.equal(verifyMapLabel(KEY.publicKey, 'juliet@capulet.lit', 'urn:xmpp:pubkey:2:revocations', 1, proof), null);
  });

  it('gives each version its own label', () => {
    const labels = new Set([1, 2, 3].map((v) => toHex(mapLabel(KEY.secretKey, 'juliet@capulet.lit', NODE, v).label)));
    assert.equal(labels.size, 3);
  });
});

describe('the example of docs/transparency.md "VRF and labels"', () => {
  it('gives the documented alpha, proof, label, nonce and commitment', () => {
    assert.equal(toHex(KEY.publicKey), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    assert.equal(toHex(mapAlpha('juliet@capulet.lit', NODE, 1)), '7065706b6579732d6b742d6d61702d763100126a756c69657440636170756c65742e6c6974001175726e3a786d70703a7075626b65793a3200000001');
    const { label, proof } = mapLabel(KEY.secretKey, 'juliet@capulet.lit', NODE, 1);
    assert.equal(toHex(proof), '8f35c553c8182001cc1369ec7b94117d06c68027ffb79334ac868f61fff3e84124c77a26480db0b90617f8dd74a5c1f2c8f3212a0494fb532f570e717160b00d10ea6dba44e53933781a293ccf305101');
    assert.equal(toHex(label), '1960b76d22c60b044bcd3af7461c1ae3f0233a46207407956a35c9cfd461c114');
    const nonce = commitmentNonce(new Uint8Array(32).fill(7), label);
    assert.equal(toHex(nonce), '32d114a2c125ad1ba07dffd0ecd3aa30ffa8a1e389a2726907e3431d736572fc');
    const value = hex('d4cb29330bcae697131be63e95e9e740d2476676ac710732c6d1e5a405123e7a');
    assert.equal(toHex(commitValue(nonce, label, value)), 'df0f1ebceae3335544e401aea91a1ca03e9498a2df686ea50a55502071059d20');
  });
});

describe('map commitments', () => {
  const secret = new Uint8Array(32).fill(7);
  const { label } = mapLabel(KEY.secretKey, 'juliet@capulet.lit', NODE, 1);
  const value = new Uint8Array(32).fill(0xab);

  it('nonce = HMAC-SHA256(secret, label); commitment = HMAC-SHA256(nonce, context || label || value)', async () => {
    const { createHmac } = await import('node:crypto');
    const nonce = commitmentNonce(secret, label);
    assert.equal(toHex(nonce), createHmac('sha256', secret).update(label).digest('hex'));
    const c = commitValue(nonce, label, value);
    assert.equal(toHex(c), createHmac('sha256', nonce).update(Buffer.concat([Buffer.from('pepkeys-kt-commit-v1'), label, value])).digest('hex'));
  });

  it('opens with the right nonce and value only', () => {
    const nonce = commitmentNonce(secret, label);
    const c = commitValue(nonce, label, value);
    assert.equal(verifyOpening(c, nonce, label, value), true);
    const other = Uint8Array.from(value);
    other[0]! ^= 1;
    assert.equal(verifyOpening(c, nonce, label, other), false);
    assert.equal(verifyOpening(c, commitmentNonce(new Uint8Array(32), label), label, value), false);
    const otherLabel = mapLabel(KEY.secretKey, 'juliet@capulet.lit', NODE, 2).label;
    assert.equal(verifyOpening(c, nonce, otherLabel, value), false);
    assert.equal(verifyOpening(c.subarray(0, 31), nonce, label, value), false);
  });
});
