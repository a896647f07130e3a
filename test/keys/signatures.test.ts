// Revocations and attestations: signed strings, RSA-SHA256 (PKCS#1 v1.5) and Ed25519 signatures checked against
// openssl's (both schemes are deterministic), OpenPGP detached signatures from GnuPG and from openpgp.js, and
// every way a revocation must be rejected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { parseXml } from '../../src/xml/index.ts';
import {
  createPubkey, createRevocation, verifyRevocation, assertRevocation, buildRevocation, parseRevocation, revocationSignedString,
  createAttestation, verifyAttestation, buildAttestation, parseAttestation, signerFromPubkey, verifierFromPubkey,
  openPgpSigner, openPgpVerifier, openPgpPrintBytes, importOpenPgpPublicKey, splitArmorBody, unarmorBody, KeyError,
  type Pubkey, type Revocation,
} from '../../src/keys/index.ts';
import { edPrivate, edPublic, fixtureText, fixtureXml, rsaPrivate, rsaPublic, vectors as v } from './helpers.ts';

const window = { begin: new Date(v.begin), end: new Date(v.end) };
const rsaPk = createPubkey({ version: 1, publicKey: rsaPublic(), jid: v.jid, ...window });
const edPk = createPubkey({ version: 1, publicKey: edPublic(), jid: v.jid, ...window });
const rsaSigner = signerFromPubkey(rsaPk, rsaPrivate());
const edSigner = signerFromPubkey(edPk, edPrivate());
const at = new Date(v.revocationTime);
const now = new Date('2025-07-01T00:00:00Z');

test('vector: RSA-SHA256 revocation equals the openssl signature over the documented string', async () => {
  const rev = await createRevocation({ version: 1, revoked: edPk, signer: rsaSigner, time: at });
  assert.equal(revocationSignedString(rev), v.revokeEd25519ByRsaSignedString);
  assert.equal(rev.signature, v.revokeEd25519ByRsaSignature);
  assert.deepEqual(await verifyRevocation(rev, { signer: verifierFromPubkey(rsaPk), revoked: edPk, now }), { ok: true });
});

test('vector: Ed25519 revocation equals the openssl signature', async () => {
  const rev = await createRevocation({ version: 1, revoked: rsaPk, signer: edSigner, time: at });
  assert.equal(revocationSignedString(rev), v.revokeRsaByEd25519SignedString);
  assert.equal(rev.signature, v.revokeRsaByEd25519Signature);
  const parsed = parseRevocation(parseXml(buildRevocation(rev).toString()));
  assert.deepEqual(await verifyRevocation(parsed, { signer: verifierFromPubkey(edPk), revoked: rsaPk, now }), { ok: true });
});

async function rejects(rev: Revocation, code: string, opts: { signer?: Pubkey; revoked?: Pubkey } = {}) {
  const o = { signer: verifierFromPubkey(opts.signer ?? rsaPk), now, ...(opts.revoked ? { revoked: opts.revoked } : {}) };
  const out = await verifyRevocation(rev, o);
  assert.equal(out.ok, false);
  assert.equal(!out.ok && out.code, code);
  await assert.rejects(assertRevocation(rev, o), (e: unknown) => e instanceof KeyError && e.code === code);
}

test('a revocation whose signature or prints do not check out is rejected', async () => {
  const rev = await createRevocation({ version: 1, revoked: edPk, signer: rsaSigner, time: at });
  await rejects({ ...rev, revocationtime: '2025-06-01T12:00:01Z' }, 'bad-signature');
  await rejects({ ...rev, key: rev.key.replace('A', 'B') }, 'bad-signature');
  const sig = Buffer.from(rev.signature, 'base64');
  sig[10]! ^= 1;
  await rejects({ ...rev, signature: sig.toString('base64') }, 'bad-signature');
  await rejects({ ...rev, signature: 'not base64!' }, 'bad-signature');
  // Signed by RSA but claims to be verified with the Ed25519 key: revocationprint does not match.
  await rejects(rev, 'print-mismatch', { signer: edPk });
  await rejects({ ...rev, revocationprint: { algo: 'sha-256', value: v.ed25519Print } }, 'print-mismatch');
  // The UUID keyprint of the spec example is not a fingerprint of anything.
  await rejects({ ...rev, keyprint: { algo: 'sha-256', value: '60561AEE-4187-4122-8A71-ACF9195DE572' } }, 'print-mismatch', { revoked: edPk });
  await rejects(rev, 'print-mismatch', { revoked: rsaPk });
});

test('times: future revocations and signers outside their window are rejected', async () => {
  const rev = await createRevocation({ version: 1, revoked: edPk, signer: rsaSigner, time: at });
  const early = await verifyRevocation(rev, { signer: verifierFromPubkey(rsaPk), now: new Date('2025-06-01T11:00:00Z') });
  assert.equal(!early.ok && early.code, 'bad-payload');
  await assert.rejects(createRevocation({ version: 1, revoked: edPk, signer: rsaSigner, time: new Date('2035-01-01T00:00:00Z') }), (e: unknown) => e instanceof KeyError && e.code === 'key-expired');
  await assert.rejects(createRevocation({ version: 1, revoked: edPk, signer: rsaSigner, time: new Date('2023-01-01T00:00:00Z') }), (e: unknown) => e instanceof KeyError && e.code === 'key-not-yet-valid');
  const shortLived = createPubkey({ version: 1, publicKey: rsaPublic(), jid: v.jid, begin: new Date('2024-01-01T00:00:00Z'), end: new Date('2025-01-01T00:00:00Z') });
  const old = await createRevocation({ version: 1, revoked: edPk, signer: signerFromPubkey(shortLived, rsaPrivate()), time: new Date('2024-06-01T00:00:00Z') });
  const forged = { ...old, revocationtime: '2025-06-01T00:00:00Z' };
  const out = await verifyRevocation(forged, { signer: verifierFromPubkey(shortLived), now });
  assert.equal(!out.ok && out.code, 'key-expired');
});

test('signerFromPubkey refuses a private key that does not belong to the published key', () => {
  assert.throws(() => signerFromPubkey(rsaPk, edPrivate()), KeyError);
});

test('0.14 revocation with base64 prints and sha-512', async () => {
  const rsa2 = createPubkey({ publicKey: rsaPublic(), jid: v.jid, ...window });
  const rev = await createRevocation({ version: 2, revoked: rsa2, signer: edSigner, time: at, algo: 'sha-512' });
  assert.equal(rev.keyprint.algo, 'sha-512');
  assert.equal(Buffer.from(rev.keyprint.value, 'base64').length, 64);
  assert.equal(rev.key, v.rsaSpki); // <key/> carries the SPKI derived from modulus and exponent
  const parsed = parseRevocation(parseXml(buildRevocation(rev).toString()));
  assert.deepEqual(parsed, rev);
  assert.deepEqual(await verifyRevocation(parsed, { signer: verifierFromPubkey(edPk), revoked: rsa2, now }), { ok: true });
});

test('GnuPG-made OpenPGP revocation (armor body like the spec examples) verifies', async () => {
  const rev = parseRevocation(fixtureXml('revocation-openpgp-gnupg.xml'));
  const imported = await importOpenPgpPublicKey(fixtureText('openpgp-romeo.pub.asc'));
  assert.equal(imported.kind, 'ed25519');
  assert.equal(openPgpPrintBytes(imported.key).toString('hex'), fixtureText('openpgp-romeo.print').trim());
  const signer = openPgpVerifier(imported.key);
  assert.deepEqual(await verifyRevocation(rev, { signer, revoked: rsaPk, now: new Date() }), { ok: true });
  // CRC line is checked; a flipped bit in the body fails either the CRC or the signature.
  const { data } = splitArmorBody(rev.signature);
  assert.throws(() => unarmorBody(`${data}=AAAA`), KeyError);
  const tampered = { ...rev, revocationtime: '2025-06-02T08:30:01Z' };
  const out = await verifyRevocation(tampered, { signer, now: new Date() });
  assert.equal(!out.ok && out.code, 'bad-signature');
});

test('openpgp.js signer: revocation and attestation round-trip through XML and verify', async () => {
  const { privateKey, publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'nurse@capulet.lit' }], format: 'object' });
  const signer = openPgpSigner(privateKey);
  const rev = await createRevocation({ version: 1, revoked: rsaPk, signer, time: at });
  assert.equal(rev.revocationprint.value, openPgpPrintBytes(publicKey).toString('hex'));
  const sigText = buildRevocation(rev).getChildText('signature')!;
  const lines = sigText.split('\n');
  assert.match(lines.at(-1)!, /^=[A-Za-z0-9+/]{4}$/);
  assert.ok(lines.slice(0, -1).every((l) => l.length <= 64));
  const parsed = parseRevocation(parseXml(buildRevocation(rev).toString()));
  assert.deepEqual(await verifyRevocation(parsed, { signer: openPgpVerifier(publicKey), revoked: rsaPk, now }), { ok: true });
  // Full armored blocks are accepted too.
  const armored = await openpgp.sign({ message: await openpgp.createMessage({ binary: Buffer.from(revocationSignedString(rev)) }), signingKeys: privateKey, detached: true });
  assert.deepEqual(await verifyRevocation({ ...rev, signature: armored }, { signer: openPgpVerifier(publicKey), now }), { ok: true });

  const att = await createAttestation({ version: 1, subject: rsaPk, signer, signerJid: 'nurse@capulet.lit', time: at });
  assert.deepEqual(await verifyAttestation(parseAttestation(parseXml(buildAttestation(att).toString())), { subject: rsaPk, signer: openPgpVerifier(publicKey), now }), { ok: true });
});

test('attestations: RSA attests Ed25519 (0.13) and 0.14 with sha-384; wrong subject or signer rejected', async () => {
  const att = await createAttestation({ version: 1, subject: edPk, signer: rsaSigner, signerJid: 'romeo@montague.lit/orchard', time: at });
  assert.equal(att.signerjid, 'romeo@montague.lit');
  assert.equal(att.keyprint.value, v.ed25519Print);
  assert.equal(att.signerprint.value, v.v1Print);
  assert.deepEqual(await verifyAttestation(att, { subject: edPk, signer: verifierFromPubkey(rsaPk), now }), { ok: true });
  const wrongSubject = await verifyAttestation(att, { subject: rsaPk, signer: verifierFromPubkey(rsaPk), now });
  assert.equal(!wrongSubject.ok && wrongSubject.code, 'print-mismatch');
  const wrongSigner = await verifyAttestation(att, { subject: edPk, signer: verifierFromPubkey(edPk), now });
  assert.equal(!wrongSigner.ok && wrongSigner.code, 'print-mismatch');
  const tampered = await verifyAttestation({ ...att, signerjid: 'tybalt@capulet.lit' }, { subject: edPk, signer: verifierFromPubkey(rsaPk), now });
  assert.equal(!tampered.ok && tampered.code, 'bad-signature');

  const rsa2 = createPubkey({ publicKey: rsaPublic(), jid: v.jid, ...window });
  const att2 = await createAttestation({ version: 2, subject: rsa2, signer: edSigner, signerJid: v.jid, time: at, algo: 'sha-384' });
  const el = buildAttestation(att2);
  assert.equal(el.getChild('keyprint')!.attrs.algo, 'sha-384');
  assert.deepEqual(await verifyAttestation(parseAttestation(parseXml(el.toString())), { subject: rsa2, signer: verifierFromPubkey(edPk), now }), { ok: true });
});
