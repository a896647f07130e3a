// Pre-0.9 XEP-0189: W3C XML-Signature <KeyInfo/> (KeyName, KeyValue/RSAKeyValue, X509Data, PGPData), <pubkeys/>
// requests with <fprint/> selection and the third-party 'jid' attribute, and XEP-0222's <x509cert/> payload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from '../../src/xml/index.ts';
import {
  parseKeyInfo, buildKeyInfo, keyInfoPrint, keyInfoFromPublicKey, keyInfoFromCertificate, keyInfoPublicKey, parsePubkeys,
  buildPubkeys, selectedBy, keyInfoItem, parseTmpX509Key, buildTmpX509Key, importOpenPgpPublicKey, importX509,
  spkiBase64, KeyError, NS_PUBKEYS_0_5, NS_PUBKEY_TMP, NS_XMLDSIG, type KeyInfo,
} from '../../src/keys/index.ts';
import { edPublic, fixtureText, fixtureXml, rsaPublic, vectors as v } from './helpers.ts';

function strip(ki: KeyInfo): KeyInfo {
  const { element: _e, ...rest } = ki;
  return rest;
}

test('0.5 publish: KeyInfo with KeyName and RSAKeyValue; item id = KeyName = fingerprint', () => {
  const iq = fixtureXml('keyinfo-publish-0.5.xml');
  const publish = iq.getChild('pubsub')!.getChild('publish')!;
  assert.equal(publish.attrs.node, NS_PUBKEYS_0_5);
  const item = publish.getChild('item')!;
  const ki = parseKeyInfo(item.getChild('KeyInfo', NS_XMLDSIG)!);
  assert.deepEqual(strip(ki), { keyName: v.keyValuePrint, keyValue: { type: 'rsa', modulus: v.rsaModulusBase64, exponent: 'AQAB' } });
  assert.equal(spkiBase64(keyInfoPublicKey(ki)), v.rsaSpki);
  assert.equal(keyInfoItem(ki).attrs.id, item.attrs.id);
});

test('keyInfoFromPublicKey builds the same KeyInfo and id; round trip through XML', () => {
  const ki = keyInfoFromPublicKey(rsaPublic());
  assert.equal(ki.keyName, v.keyValuePrint);
  const el = buildKeyInfo(ki);
  assert.equal(keyInfoPrint(el), v.keyValuePrint);
  assert.deepEqual(strip(parseKeyInfo(parseXml(el.toString()))), ki);
  assert.throws(() => keyInfoFromPublicKey(edPublic()), (e: unknown) => e instanceof KeyError && e.code === 'unsupported-algorithm');
});

test('X509Data with a certificate: parse, key extraction, round trip, own id', () => {
  const cert = importX509(fixtureText('test-rsa-2048.cert.pem'));
  const ki = keyInfoFromCertificate(cert);
  const el = buildKeyInfo(ki);
  const back = parseKeyInfo(parseXml(el.toString()));
  assert.deepEqual(strip(back), ki);
  assert.equal(back.x509Data!.certificates[0], cert.derBase64);
  assert.equal(spkiBase64(keyInfoPublicKey(back)), v.rsaSpki);
  // Same key in two formats: different ids (the id covers the key element), names may be shared (0.5 §2).
  assert.notEqual(keyInfoPrint(el), v.keyValuePrint);
});

test('PGPData, DSAKeyValue and unknown KeyValue children round-trip', async () => {
  const imported = await importOpenPgpPublicKey(fixtureText('openpgp-romeo.pub.asc'));
  const keyId = Buffer.from(imported.key.getKeyID().toHex(), 'hex').toString('base64');
  const ki: KeyInfo = { keyName: 'romeo', pgpData: { keyId, keyPacket: Buffer.from(imported.key.keyPacket.write()).toString('base64') } };
  assert.deepEqual(strip(parseKeyInfo(parseXml(buildKeyInfo(ki).toString()))), ki);
  const dsa: KeyInfo = { keyValue: { type: 'dsa', p: 'AQ==', q: 'Ag==', g: 'Aw==', y: 'BA==' } };
  assert.deepEqual(strip(parseKeyInfo(parseXml(buildKeyInfo(dsa).toString()))), dsa);
  const other = parseKeyInfo(parseXml(`<KeyInfo xmlns='${NS_XMLDSIG}'><KeyValue><ECKeyValue xmlns='http://www.w3.org/2009/xmldsig11#'/></KeyValue></KeyInfo>`));
  assert.equal(other.keyValue!.type, 'other');
  assert.equal(buildKeyInfo(strip(other)).toString(), `<KeyInfo xmlns="${NS_XMLDSIG}"><KeyValue><ECKeyValue xmlns="http://www.w3.org/2009/xmldsig11#"/></KeyValue></KeyInfo>`);
});

test('RSAKeyValue directly under KeyInfo (seen in early implementations) is read', () => {
  const ki = parseKeyInfo(parseXml(`<KeyInfo xmlns='${NS_XMLDSIG}'><RSAKeyValue><Modulus>${v.rsaModulusBase64}</Modulus><Exponent>AQAB</Exponent></RSAKeyValue></KeyInfo>`));
  assert.equal(spkiBase64(keyInfoPublicKey(ki)), v.rsaSpki);
});

test('KeyInfo without a key element is refused', () => {
  assert.throws(() => parseKeyInfo(parseXml(`<KeyInfo xmlns='${NS_XMLDSIG}'><KeyName>x</KeyName></KeyInfo>`)), KeyError);
  assert.throws(() => parseKeyInfo(parseXml(`<KeyInfo xmlns='urn:other'><KeyValue/></KeyInfo>`)), KeyError);
});

test('<pubkeys/> request with <fprint/> selects only matching keys', () => {
  const req = parsePubkeys(fixtureXml('pubkeys-request-fprint-0.5.xml').getChild('pubkeys')!);
  assert.deepEqual(req, { ns: NS_PUBKEYS_0_5, fprints: [v.keyValuePrint], keys: [] });
  const mine = keyInfoFromPublicKey(rsaPublic());
  const other = keyInfoFromCertificate(fixtureText('test-rsa-2048.cert.pem'));
  assert.equal(selectedBy(req.fprints, mine), true);
  assert.equal(selectedBy(req.fprints, other), false);
  assert.equal(selectedBy([v.keyValuePrint.toUpperCase()], mine), true);
  assert.equal(selectedBy([], other), true);
  assert.deepEqual(parsePubkeys(parseXml(buildPubkeys(req).toString())), req);
});

test("third-party request with 'jid'; response carrying keys; urn:xmpp:tmp:pubkey namespace", () => {
  const req = parsePubkeys(fixtureXml('pubkeys-third-party-0.5.xml').getChild('pubkeys')!);
  assert.deepEqual(req, { ns: NS_PUBKEYS_0_5, jid: 'juliet@capulet.lit', fprints: [], keys: [] });
  assert.equal(buildPubkeys(req).toString(), `<pubkeys xmlns="${NS_PUBKEYS_0_5}" jid="juliet@capulet.lit"/>`);
  const resp = buildPubkeys({ ns: NS_PUBKEY_TMP, jid: 'juliet@capulet.lit', keys: [keyInfoFromPublicKey(rsaPublic())] });
  const parsed = parsePubkeys(parseXml(resp.toString()));
  assert.equal(parsed.ns, NS_PUBKEY_TMP);
  assert.equal(parsed.keys.length, 1);
  assert.equal(keyInfoPrint(parsed.keys[0]!), v.keyValuePrint);
  assert.throws(() => parsePubkeys(parseXml(`<pubkeys xmlns='urn:xmpp:pubkey:1'/>`)), KeyError);
});

test("XEP-0222's <key xmlns='urn:xmpp:tmp:pubkey'><x509cert/></key>", () => {
  assert.deepEqual(parseTmpX509Key(fixtureXml('xep0222-key-x509cert.xml')), { certificate: 'der-encoded-cert' });
  const der = importX509(fixtureText('test-rsa-2048.cert.pem')).derBase64;
  const back = parseTmpX509Key(parseXml(buildTmpX509Key(der).toString()));
  assert.equal(spkiBase64(importX509(back.certificate).publicKey), v.rsaSpki);
});
