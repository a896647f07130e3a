// XEP-0189 0.13 urn:xmpp:pubkey:1 / revoke:1 / attest:1 / <generating/>: spec examples ↔ objects, round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from '../../src/xml/index.ts';
import {
  parsePubkey, buildPubkey, isPubkeyRequest, buildPubkeyRequest, parseRevocation, buildRevocation, parseAttestation,
  buildAttestation, buildGenerating, isGenerating, checkPubkeyPrint, KeyError, NS_PUBKEY_1, NS_REVOKE_1,
  revocationSignedString, attestationSignedString, pubkeyPublicKey, keyKind, assertPubkeyUsable, type Pubkey, type PubkeyAscii,
} from '../../src/keys/index.ts';
import { fixtureJson, fixtureXml, payload } from './helpers.ts';

test('0.13 Example 1 <pubkey/> parses to the expected object and round-trips', () => {
  const pk = parsePubkey(fixtureXml('v1-pubkey.xml'));
  assert.deepEqual(pk, fixtureJson('v1-pubkey.json'));
  assert.deepEqual(parsePubkey(parseXml(buildPubkey(pk).toString())), pk);
  assert.equal(keyKind(pubkeyPublicKey(pk)), 'rsa'); // the example key is a real RSA-2048 SPKI
});

test('the print in the 0.13 example cannot be reproduced from its data', () => {
  assert.equal(checkPubkeyPrint(parsePubkey(fixtureXml('v1-pubkey.xml'))), false);
});

test('0.13 response and message examples carry the same key', () => {
  const expected = fixtureJson('v1-pubkey.json');
  assert.deepEqual(parsePubkey(payload(fixtureXml('v1-pubkey-response-iq.xml'))), expected);
  assert.deepEqual(parsePubkey(payload(fixtureXml('v1-pubkey-message.xml'))), expected);
});

test('empty <pubkey/> is a request, not a key', () => {
  const req = payload(fixtureXml('v1-pubkey-request-iq.xml'));
  assert.equal(isPubkeyRequest(req), true);
  assert.equal(isPubkeyRequest(fixtureXml('v1-pubkey.xml')), false);
  assert.equal(buildPubkeyRequest(1).toString(), `<pubkey xmlns="${NS_PUBKEY_1}"/>`);
  assert.throws(() => parsePubkey(req), KeyError);
});

test('<pubkey/> with bad content is refused with a typed error', () => {
  const base = (inner: string) => parseXml(`<pubkey xmlns='urn:xmpp:pubkey:1'>${inner}</pubkey>`);
  const ok = '<begin>2009-12-11T20:12:37Z</begin><end>2010-12-11T23:59:59Z</end><jid>a@b</jid><key>AAAA</key><print>00</print>';
  assert.doesNotThrow(() => parsePubkey(base(ok)));
  for (const bad of [
    ok.replace('<jid>a@b</jid>', ''),
    ok.replace('2009-12-11T20:12:37Z', 'yesterday'),
    ok.replace('<key>AAAA</key>', '<key>not base64!</key>'),
    ok.replace('<jid>a@b</jid>', '<jid>@b</jid>'),
    ok.replace('2010-12-11T23:59:59Z', '2001-01-01T00:00:00Z'), // ends before it begins
  ]) {
    assert.throws(() => parsePubkey(base(bad)), (e: unknown) => e instanceof KeyError && e.code === 'bad-payload', bad);
  }
  assert.throws(() => parsePubkey(parseXml(`<pubkey xmlns='urn:other'>x</pubkey>`)), KeyError);
});

test('optional <uri/> round-trips', () => {
  const pk = { ...(fixtureJson('v1-pubkey.json') as Pubkey), uri: 'https://example.org/key.pem' } as Pubkey;
  assert.deepEqual(parsePubkey(parseXml(buildPubkey(pk).toString())), pk);
});

test('0.13 revocation example: root <revocation/> accepted, <revoke/> emitted, round trip', () => {
  const rev = parseRevocation(fixtureXml('v1-revocation.xml'));
  assert.deepEqual(rev, fixtureJson('v1-revocation.json'));
  const built = buildRevocation(rev);
  assert.equal(built.name, 'revoke');
  assert.equal(built.attrs.xmlns, NS_REVOKE_1);
  assert.deepEqual(parseRevocation(parseXml(built.toString())), rev);
  // The armor CRC stays on its own line, like the example.
  assert.match(built.getChildText('signature')!, /\n=PGFT$/);
});

test('the 0.13 "string to be signed" for the revocation example is reproduced exactly', () => {
  const rev = parseRevocation(fixtureXml('v1-revocation.xml'));
  // The text's string uses the SHA-256 keyprint where the XML example has a UUID.
  const signed = revocationSignedString({ ...rev, keyprint: { algo: 'sha-256', value: '13475c8e27399908b4447d7c52ab30822872832eba3a654f0d80e07fb4157673' } });
  const fromSpec = `MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA25/Y7oonF3+pRjZCk0cQ
lQFiUFvyMeUOnn01NLfqfBeT4xjahsxaYFPd+V8jIHtpO3nbkpfrBh5aLPCkqDzS
UFvmLaVSIMUt085kcT/Yv72BUWUGaISt7swSNfictRbVZ0k8TbXUDLIAYWN8lsie
NVxL13PS9pu3WNoORuKAV5RuzDS3djnjb6fti7fTwEUpQVwRrJXY6jNhv4c4zE3x
Pjm48gIlHbZrxuWNrXnKT6uwXnr6PJ6O3YspferJG1oA3kmOwm41yWDkalbKgkNZ
WeS+ahB/i9LIG+41CdekPpI0Kr0Ll9X7+zaPV6xzjlG8dYy7ZGm4eTL9STuWlPdL
+wIDAQAB13475c8e27399908b4447d7c52ab30822872832eba3a654f0d80e07f
b4157673becb78566783166f4a1a7c64e28dae288fe1a0f2825f6b593b336ce1
86c6b0562009-12-14T20:49:16Z`.replace(/\n/g, '');
  assert.equal(signed, fromSpec);
});

test('0.13 attestation example parses, round-trips, and its string to be signed matches the text', () => {
  const att = parseAttestation(fixtureXml('v1-attest.xml'));
  assert.deepEqual(att, fixtureJson('v1-attest.json'));
  assert.deepEqual(parseAttestation(parseXml(buildAttestation(att).toString())), att);
  const key = (parsePubkey(fixtureXml('v1-pubkey.xml')) as PubkeyAscii).key;
  const signed = attestationSignedString(key, { ...att, keyprint: { algo: 'sha-256', value: '13475c8e27399908b4447d7c52ab30822872832eba3a654f0d80e07fb4157673' } });
  assert.equal(
    signed,
    `MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA25/Y7oonF3+pRjZCk0cQ
lQFiUFvyMeUOnn01NLfqfBeT4xjahsxaYFPd+V8jIHtpO3nbkpfrBh5aLPCkqDzS
UFvmLaVSIMUt085kcT/Yv72BUWUGaISt7swSNfictRbVZ0k8TbXUDLIAYWN8lsie
NVxL13PS9pu3WNoORuKAV5RuzDS3djnjb6fti7fTwEUpQVwRrJXY6jNhv4c4zE3x
Pjm48gIlHbZrxuWNrXnKT6uwXnr6PJ6O3YspferJG1oA3kmOwm41yWDkalbKgkNZ
WeS+ahB/i9LIG+41CdekPpI0Kr0Ll9X7+zaPV6xzjlG8dYy7ZGm4eTL9STuWlPdL
+wIDAQAB13475c8e27399908b4447d7c52ab30822872832eba3a654f0d80e07f
b4157673stpeter@jabber.orgbecb78566783166f4a1a7c64e28dae288fe1a0
f2825f6b593b336ce186c6b0562009-12-14T18:43:00Z`.replace(/\n/g, ''),
  );
});

test('<generating/> presence extension', () => {
  assert.equal(isGenerating(fixtureXml('v1-generating-presence.xml')), true);
  assert.equal(isGenerating(parseXml(`<presence from='peter@jabber.org/foo'/>`)), false);
  assert.equal(buildGenerating(1).toString(), `<generating xmlns="${NS_PUBKEY_1}"/>`);
  assert.equal(isGenerating(parseXml(buildGenerating(1).toString())), true);
});

test('validity window: begin without TZD is UTC; use outside [begin, end] is refused', () => {
  const pk = parsePubkey(fixtureXml('v1-pubkey.xml'));
  assert.doesNotThrow(() => assertPubkeyUsable(pk, new Date('2009-12-11T20:12:37Z')));
  assert.doesNotThrow(() => assertPubkeyUsable(pk, new Date('2010-12-11T23:59:59Z')));
  assert.throws(() => assertPubkeyUsable(pk, new Date('2009-12-11T20:12:36Z')), (e: unknown) => e instanceof KeyError && e.code === 'key-not-yet-valid');
  assert.throws(() => assertPubkeyUsable(pk, new Date('2010-12-12T00:00:00Z')), (e: unknown) => e instanceof KeyError && e.code === 'key-expired');
});
