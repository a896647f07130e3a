// XEP-0189 0.14 urn:xmpp:pubkey:2 / revoke:2 / attest:2: spec examples ↔ objects, round trips, <rsakey/>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from '../../src/xml/index.ts';
import {
  parsePubkey, buildPubkey, isPubkeyRequest, parseRevocation, buildRevocation, parseAttestation, buildAttestation,
  isGenerating, checkPubkeyPrint, pubkeyPublicKey, rsaComponents, createPubkey, KeyError, NS_PUBKEY_2, NS_REVOKE_2,
  NS_ATTEST_2, type PubkeyRsa,
} from '../../src/keys/index.ts';
import { fixtureJson, fixtureXml, payload, rsaPublic, vectors } from './helpers.ts';

test('0.14 Example 1 <pubkey/> with <rsakey/> parses to the expected object and round-trips', () => {
  const pk = parsePubkey(fixtureXml('v2-pubkey.xml'));
  assert.deepEqual(pk, fixtureJson('v2-pubkey.json'));
  const built = buildPubkey(pk);
  assert.equal(built.attrs.xmlns, NS_PUBKEY_2);
  assert.equal(built.getChild('rsakey')!.getChild('print')!.attrs.algo, 'sha-256');
  assert.deepEqual(parsePubkey(parseXml(built.toString())), pk);
});

test('the 0.14 example modulus is a 1024-bit RSA key; its print does not match its data', () => {
  const pk = parsePubkey(fixtureXml('v2-pubkey.xml'));
  const c = rsaComponents(pubkeyPublicKey(pk));
  assert.equal(c.modulus.toString(2).length, 1024);
  assert.equal(c.publicExponent, 65537n);
  assert.equal(checkPubkeyPrint(pk), false);
});

test('0.14 request/response/message examples (0.13-style children under the :2 namespace)', () => {
  assert.equal(isPubkeyRequest(payload(fixtureXml('v2-pubkey-request-iq.xml'))), true);
  const expected = fixtureJson('v2-pubkey-response-iq.json');
  assert.deepEqual(parsePubkey(payload(fixtureXml('v2-pubkey-response-iq.xml'))), expected);
  assert.deepEqual(parsePubkey(payload(fixtureXml('v2-pubkey-message.xml'))), expected);
  assert.equal(isGenerating(fixtureXml('v2-generating-presence.xml')), true);
});

test('0.14 revocation example (base64 keyprint, hex revocationprint) parses and round-trips', () => {
  const rev = parseRevocation(fixtureXml('v2-revocation.xml'));
  assert.deepEqual(rev, fixtureJson('v2-revocation.json'));
  const built = buildRevocation(rev);
  assert.equal(built.name, 'revoke');
  assert.equal(built.attrs.xmlns, NS_REVOKE_2);
  assert.deepEqual(parseRevocation(parseXml(built.toString())), rev);
});

test('0.14 attestation example parses and round-trips', () => {
  const att = parseAttestation(fixtureXml('v2-attest.xml'));
  assert.deepEqual(att, fixtureJson('v2-attest.json'));
  const built = buildAttestation(att);
  assert.equal(built.attrs.xmlns, NS_ATTEST_2);
  assert.deepEqual(parseAttestation(parseXml(built.toString())), att);
});

test("'algo' other than the default is kept and written; unknown algorithms are refused", () => {
  const rev = { ...parseRevocation(fixtureXml('v2-revocation.xml')), keyprint: { algo: 'sha-512' as const, value: 'x' } };
  const el = buildRevocation(rev);
  assert.equal(el.getChild('keyprint')!.attrs.algo, 'sha-512');
  assert.equal(el.getChild('revocationprint')!.attrs.algo, undefined); // default stays implicit
  assert.deepEqual(parseRevocation(parseXml(el.toString())), rev);
  const md5 = el.toString().replace("algo=\"sha-512\"", "algo=\"md5\"");
  assert.throws(() => parseRevocation(parseXml(md5)), (e: unknown) => e instanceof KeyError && e.code === 'unsupported-algorithm');
  // IANA names are case-insensitive
  assert.equal(parseRevocation(parseXml(el.toString().replace('sha-512', 'SHA-512'))).keyprint.algo, 'sha-512');
});

test('createPubkey v2 builds <rsakey/> with decimal modulus and the documented print', () => {
  const pk = createPubkey({ publicKey: rsaPublic(), jid: vectors.jid, begin: new Date(vectors.begin), end: new Date(vectors.end) }) as PubkeyRsa;
  assert.equal(pk.version, 2);
  assert.equal(pk.form, 'rsakey');
  assert.equal(pk.rsakey.modulus, vectors.rsaModulusDecimal);
  assert.equal(pk.rsakey.publicExponent, '65537');
  assert.deepEqual(pk.rsakey.print, { algo: 'sha-256', value: vectors.v2PrintSha256 });
  assert.equal(checkPubkeyPrint(pk), true);
  assert.deepEqual(parsePubkey(parseXml(buildPubkey(pk).toString())), pk);
});

test('modulus with leading zeros or whitespace is read as str(int)', () => {
  const xml = fixtureXml('v2-pubkey.xml').toString().replace('<modulus>', '<modulus>000');
  const pk = parsePubkey(parseXml(xml)) as PubkeyRsa;
  assert.equal(pk.rsakey.modulus.startsWith('1379'), true);
  assert.throws(() => parsePubkey(parseXml(xml.replace('<publicExponent>65537', '<publicExponent>0x10001'))), KeyError);
});
