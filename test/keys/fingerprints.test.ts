// Our published test vectors: fixed keys → fixed prints, computed independently with openssl and python3 by
// test/fixtures/xep0189/make-vectors.sh (never with this code), so they cannot pass by accident.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from '../../src/xml/index.ts';
import {
  createPubkey, printInputV1, printV1, printInputV2, printV2, pubkeyPrintId, buildPubkey, parsePubkey,
  keyElementCanonical, keyElementPrint, keyInfoPrint, checkPubkeyPrint, decodePrint, printMatches, digest,
  type PubkeyAscii,
} from '../../src/keys/index.ts';
import { edPublic, fixtureXml, rsaPublic, vectors as v } from './helpers.ts';

test('vector: 0.13 print of the fixture RSA key', () => {
  const pk = createPubkey({ version: 1, publicKey: rsaPublic(), jid: v.jid, begin: new Date(v.begin), end: new Date(v.end) }) as PubkeyAscii;
  assert.equal(pk.key, v.rsaSpki);
  assert.equal(printInputV1(pk), v.v1PrintInput);
  assert.equal(pk.print, v.v1Print);
  assert.equal(pk.print, 'eb46f41194dbca99a924af3e9954125cab0df1d6697a20be40b537c423ce7b03');
  assert.equal(pubkeyPrintId(pk), `sha-256:${v.v1Print}`);
});

test('vector: 0.13 print of the fixture Ed25519 key', () => {
  const pk = createPubkey({ publicKey: edPublic(), jid: v.jid, begin: new Date(v.begin), end: new Date(v.end) }) as PubkeyAscii;
  assert.equal(pk.version, 1);
  assert.equal(pk.key, v.ed25519Spki);
  assert.equal(pk.print, v.ed25519Print);
});

test('vector: 0.14 print, sha-256 and sha-512', () => {
  const f = { begin: v.begin, end: v.end, jid: v.jid, modulus: v.rsaModulusDecimal, publicExponent: '65537' };
  assert.equal(printInputV2(f), v.v2PrintInput);
  assert.equal(printV2(f), v.v2PrintSha256);
  assert.equal(printV2(f), 'CHAFFIP+13704Huoe79dikFNlRoCBMi8tW7WxLJJTRY=');
  assert.equal(printV2(f, 'sha-512'), v.v2PrintSha512);
  const pk = createPubkey({ publicKey: rsaPublic(), jid: v.jid, begin: new Date(v.begin), end: new Date(v.end), algo: 'sha-512' });
  assert.equal(checkPubkeyPrint(pk), true);
  assert.equal(pk.form === 'rsakey' && pk.rsakey.print.value, v.v2PrintSha512);
});

test('whitespace in <key/> and around values does not change the 0.13 print', () => {
  const wrapped = v.rsaSpki.match(/.{1,64}/g)!.join('\n      ');
  const xml = `<pubkey xmlns='urn:xmpp:pubkey:1'>
    <begin>\n ${v.begin} </begin><end>${v.end}\n</end><jid> ${v.jid}</jid>
    <key>\n      ${wrapped}\n    </key>
    <print>${v.v1Print}</print></pubkey>`;
  const pk = parsePubkey(parseXml(xml));
  assert.equal(printInputV1(pk as PubkeyAscii), v.v1PrintInput);
  assert.equal(checkPubkeyPrint(pk), true);
  // Upper-case hex prints are accepted.
  assert.equal(checkPubkeyPrint({ ...(pk as PubkeyAscii), print: v.v1Print.toUpperCase() }), true);
});

test('the print covers begin, end and JID as written: any change gives another print', () => {
  const base = { begin: v.begin, end: v.end, jid: v.jid, key: v.rsaSpki };
  const p = printV1(base);
  assert.notEqual(printV1({ ...base, begin: '2024-01-01T00:00:00.000Z' }), p); // same instant, other text
  assert.notEqual(printV1({ ...base, jid: 'Juliet@capulet.lit' }), p);
  assert.notEqual(printV1({ ...base, end: '2034-01-01T00:00:01Z' }), p);
});

test('vector: KeyInfo item id = SHA-256 of the canonical <KeyValue/>', () => {
  const iq = fixtureXml('keyinfo-publish-0.5.xml');
  const item = iq.getChild('pubsub')!.getChild('publish')!.getChild('item')!;
  const keyInfo = item.getChild('KeyInfo')!;
  const keyValue = keyInfo.getChild('KeyValue')!;
  assert.equal(keyElementCanonical(keyValue), v.keyValueCanonical);
  assert.equal(keyElementPrint(keyValue), v.keyValuePrint);
  assert.equal(keyInfoPrint(keyInfo), v.keyValuePrint);
  assert.equal(item.attrs.id, v.keyValuePrint);
});

test('KeyInfo id ignores serialisation differences but not content differences', () => {
  const forms = [
    `<KeyInfo xmlns='http://www.w3.org/2000/09/xmldsig#'><KeyValue><RSAKeyValue><Modulus>${v.rsaModulusBase64}</Modulus><Exponent>AQAB</Exponent></RSAKeyValue></KeyValue></KeyInfo>`,
    `<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:KeyName>x</ds:KeyName>\n <ds:KeyValue xmlns:ds="http://www.w3.org/2000/09/xmldsig#" >\n  <ds:RSAKeyValue>\t<ds:Modulus>${v.rsaModulusBase64}</ds:Modulus>\n<ds:Exponent>AQAB</ds:Exponent></ds:RSAKeyValue></ds:KeyValue></ds:KeyInfo>`,
  ];
  assert.equal(keyInfoPrint(parseXml(forms[0]!)), v.keyValuePrint);
  // A prefixed form canonicalises to prefixed names: a different (but stable) id, as Canonical XML defines.
  const prefixed = keyInfoPrint(parseXml(forms[1]!));
  assert.notEqual(prefixed, v.keyValuePrint);
  assert.equal(prefixed, keyInfoPrint(parseXml(forms[1]!.replace(/\n/g, ''))));
  // Line breaks inside <Modulus/> are character data of a leaf: they count.
  const wrapped = forms[0]!.replace(v.rsaModulusBase64, v.rsaModulusBase64.match(/.{1,64}/g)!.join('\n'));
  assert.notEqual(keyInfoPrint(parseXml(wrapped)), v.keyValuePrint);
});

test('prints decode from hex or base64 by digest size; other text does not decode', () => {
  const bytes = digest('sha-256', 'x');
  assert.equal(printMatches({ algo: 'sha-256', value: bytes.toString('hex') }, bytes), true);
  assert.equal(printMatches({ algo: 'sha-256', value: bytes.toString('base64') }, bytes), true);
  assert.equal(decodePrint({ algo: 'sha-256', value: '60561AEE-4187-4122-8A71-ACF9195DE572' }), undefined);
  assert.equal(decodePrint({ algo: 'sha-512', value: bytes.toString('hex') }), undefined);
  assert.equal(printMatches({ algo: 'sha-256', value: digest('sha-256', 'y').toString('hex') }, bytes), false);
});

test('built <pubkey/> XML re-parses to the same print', () => {
  const pk = createPubkey({ version: 1, publicKey: rsaPublic(), jid: v.jid, begin: new Date(v.begin), end: new Date(v.end) });
  const again = parsePubkey(parseXml(buildPubkey(pk).toString()));
  assert.equal(checkPubkeyPrint(again), true);
  assert.equal(pubkeyPrintId(again), pubkeyPrintId(pk));
});
