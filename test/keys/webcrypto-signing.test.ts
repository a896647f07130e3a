// The browser console's key path, run in Node's WebCrypto: a non-extractable Ed25519 CryptoKey, its pubkey
// built from SPKI, and revocations signed with WebCrypto that the node:crypto verifier accepts (and the reverse).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import {
  createPubkey, pubkeyFromSpki, createRevocation, verifyRevocation, buildRevocation, parseRevocation, verifierFromPubkey,
  signerFromPubkey, spkiBase64,
} from '../../src/keys/index.ts';
import { generateEd25519CryptoKey, spkiBase64Of, webCryptoSigner, webCryptoVerifier } from '../../src/keys/webcrypto-signing.ts';

const begin = new Date('2026-01-01T00:00:00Z');
const end = new Date('2027-01-01T00:00:00Z');
const at = new Date('2026-06-01T00:00:00Z');

describe('WebCrypto Ed25519 keys', () => {
  it('keeps the private key non-extractable', async () => {
    const pair = await generateEd25519CryptoKey();
    assert.equal(pair.privateKey.extractable, false);
    await assert.rejects(globalThis.crypto.subtle.exportKey('pkcs8', pair.privateKey));
  });

  it('builds the same pubkey (and print) from SPKI as createPubkey does from a KeyObject', async () => {
    const pair = await generateEd25519CryptoKey();
    const spki = await spkiBase64Of(pair.publicKey);
    const fromSpki = pubkeyFromSpki({ spki, jid: 'juliet@capulet.lit/balcony', begin, end });
    const fromNode = createPubkey({ publicKey: createPublicKey({ key: Buffer.from(spki, 'base64'), format: 'der', type: 'spki' }), jid: 'juliet@capulet.lit', begin, end });
    assert.deepEqual(fromSpki, fromNode);
    assert.equal(fromSpki.jid, 'juliet@capulet.lit');
  });

  it('signs revocations that the node:crypto verifier accepts, and refuses a tampered one', async () => {
    const pair = await generateEd25519CryptoKey();
    const pk = pubkeyFromSpki({ spki: await spkiBase64Of(pair.publicKey), jid: 'juliet@capulet.lit', begin, end });
    const rev = await createRevocation({ revoked: pk, signer: webCryptoSigner(pk, pair.privateKey), time: at });
    const parsed = parseRevocation(buildRevocation(rev));
    assert.deepEqual(await verifyRevocation(parsed, { signer: verifierFromPubkey(pk), revoked: pk, now: at }), { ok: true });
    assert.deepEqual(await verifyRevocation(parsed, { signer: await webCryptoVerifier(pk), revoked: pk, now: at }), { ok: true });
    const tampered = { ...parsed, revocationtime: '2026-05-01T00:00:00Z' };
    const outcome = await verifyRevocation(tampered, { signer: await webCryptoVerifier(pk), revoked: pk, now: at });
    assert.equal(outcome.ok, false);
  });

  it('verifies with WebCrypto what node:crypto signed', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const pk = pubkeyFromSpki({ spki: spkiBase64(publicKey), jid: 'romeo@montague.lit', begin, end });
    const rev = await createRevocation({ revoked: pk, signer: signerFromPubkey(pk, privateKey), time: at });
    assert.deepEqual(await verifyRevocation(rev, { signer: await webCryptoVerifier(pk), revoked: pk, now: at }), { ok: true });
    const other = await generateEd25519CryptoKey();
    const wrongKey = pubkeyFromSpki({ spki: await spkiBase64Of(other.publicKey), jid: 'romeo@montague.lit', begin, end });
    const outcome = await verifyRevocation(rev, { signer: await webCryptoVerifier(wrongKey), now: at });
    assert.equal(outcome.ok, false);
  });
});
