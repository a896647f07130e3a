// Pre-0.9 XEP-0189 (0.2–0.7): keys as W3C XML-Signature <KeyInfo/> elements inside <pubkeys/>, published to a
// PEP node named after the (temporary) namespace; item ids are fingerprints of the canonicalised key element.
// Also the 0.8/0.9 <key xmlns='urn:xmpp:tmp:pubkey'><x509cert/></key> that XEP-0222's examples publish.
import type { KeyObject } from 'node:crypto';
import { x, Element } from '../xml/index.ts';
import { parseJid } from '../jid/index.ts';
import { LEGACY_PUBKEYS_NAMESPACES, NS_PUBKEYS_0_5, NS_PUBKEY_TMP, NS_XMLDSIG, type LegacyPubkeysNs } from '../protocol/xep0189.ts';
import { KeyError } from './errors.ts';
import { keyElementPrint, trimXml } from './fingerprint.ts';
import { bigintToBytes, bytesToBigint, importX509, rsaComponents, rsaPublicKeyFromComponents, stripWhitespace, type CertificateInfo } from './material.ts';

/** ds:CryptoBinary values are base64 of big-endian unsigned integers (XML-Signature §4.0.1). */
export interface RsaKeyValue {
  type: 'rsa';
  modulus: string;
  exponent: string;
}

export interface DsaKeyValue {
  type: 'dsa';
  p?: string;
  q?: string;
  g?: string;
  y: string;
  j?: string;
  seed?: string;
  pgenCounter?: string;
}

/** A KeyValue child we do not model (e.g. dsig11:ECKeyValue); kept as XML. */
export interface OtherKeyValue {
  type: 'other';
  element: Element;
}

export type KeyValue = RsaKeyValue | DsaKeyValue | OtherKeyValue;

export interface X509Data {
  certificates: string[];
  subjectNames: string[];
  issuerSerials: { issuerName: string; serialNumber: string }[];
  skis: string[];
  crls: string[];
}

export interface PgpData {
  /** Base64 of the 8-octet key ID. */
  keyId?: string;
  /** Base64 of an OpenPGP Key Material Packet. */
  keyPacket?: string;
}

export interface KeyInfo {
  keyName?: string;
  keyValue?: KeyValue;
  x509Data?: X509Data;
  pgpData?: PgpData;
  /** The element as received: fingerprints are computed over it, not over a re-serialisation. */
  element?: Element;
}

const KEY_ELEMENTS = ['KeyValue', 'PGPData', 'X509Data'];

export function parseKeyInfo(el: Element): KeyInfo {
  if (!el.is('KeyInfo', NS_XMLDSIG)) throw new KeyError('bad-payload', `expected <KeyInfo xmlns='${NS_XMLDSIG}'/>`);
  const ki: KeyInfo = { element: el };
  const name = el.getChild('KeyName', NS_XMLDSIG);
  if (name) ki.keyName = trimXml(name.text());
  const kv = el.getChild('KeyValue', NS_XMLDSIG);
  // Some early implementations put <RSAKeyValue/> straight under <KeyInfo/>; read it the same way.
  const rsaDirect = el.getChild('RSAKeyValue', NS_XMLDSIG);
  if (kv) ki.keyValue = parseKeyValue(kv);
  else if (rsaDirect) ki.keyValue = parseRsaKeyValue(rsaDirect);
  const xd = el.getChild('X509Data', NS_XMLDSIG);
  if (xd) ki.x509Data = parseX509Data(xd);
  const pd = el.getChild('PGPData', NS_XMLDSIG);
  if (pd) ki.pgpData = parsePgpData(pd);
  if (!ki.keyValue && !ki.x509Data && !ki.pgpData) throw new KeyError('bad-payload', '<KeyInfo/> carries no <KeyValue/>, <X509Data/> or <PGPData/>');
  return ki;
}

function txt(el: Element, local: string): string | undefined {
  const c = el.getChild(local, NS_XMLDSIG);
  return c ? stripWhitespace(c.text()) : undefined;
}

function parseRsaKeyValue(el: Element): RsaKeyValue {
  const modulus = txt(el, 'Modulus'), exponent = txt(el, 'Exponent');
  if (!modulus || !exponent) throw new KeyError('bad-payload', '<RSAKeyValue/> needs <Modulus/> and <Exponent/>');
  return { type: 'rsa', modulus, exponent };
}

function parseKeyValue(kv: Element): KeyValue {
  const inner = kv.elements[0];
  if (!inner) throw new KeyError('bad-payload', '<KeyValue/> is empty');
  if (inner.is('RSAKeyValue', NS_XMLDSIG)) return parseRsaKeyValue(inner);
  if (inner.is('DSAKeyValue', NS_XMLDSIG)) {
    const y = txt(inner, 'Y');
    if (!y) throw new KeyError('bad-payload', '<DSAKeyValue/> needs <Y/>');
    const out: DsaKeyValue = { type: 'dsa', y };
    for (const [k, local] of [['p', 'P'], ['q', 'Q'], ['g', 'G'], ['j', 'J'], ['seed', 'Seed'], ['pgenCounter', 'PgenCounter']] as const) {
      const v = txt(inner, local);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  return { type: 'other', element: inner };
}

function parseX509Data(el: Element): X509Data {
  const all = (local: string) => el.getChildren(local, NS_XMLDSIG).map((c) => stripWhitespace(c.text()));
  return {
    certificates: all('X509Certificate'),
    subjectNames: el.getChildren('X509SubjectName', NS_XMLDSIG).map((c) => trimXml(c.text())),
    issuerSerials: el.getChildren('X509IssuerSerial', NS_XMLDSIG).map((c) => ({
      issuerName: trimXml(c.getChildText('X509IssuerName', NS_XMLDSIG) ?? ''),
      serialNumber: trimXml(c.getChildText('X509SerialNumber', NS_XMLDSIG) ?? ''),
    })),
    skis: all('X509SKI'),
    crls: all('X509CRL'),
  };
}

function parsePgpData(el: Element): PgpData {
  const out: PgpData = {};
  const id = txt(el, 'PGPKeyID');
  const packet = txt(el, 'PGPKeyPacket');
  if (id !== undefined) out.keyId = id;
  if (packet !== undefined) out.keyPacket = packet;
  if (!id && !packet) throw new KeyError('bad-payload', '<PGPData/> needs <PGPKeyID/> or <PGPKeyPacket/>');
  return out;
}

/** Builds <KeyInfo/> in schema order: KeyName, KeyValue, X509Data, PGPData (all in the xmldsig namespace). */
export function buildKeyInfo(ki: KeyInfo): Element {
  const el = x('KeyInfo', { xmlns: NS_XMLDSIG });
  if (ki.keyName !== undefined) el.append(x('KeyName', null, ki.keyName));
  if (ki.keyValue) el.append(buildKeyValue(ki.keyValue));
  if (ki.x509Data) {
    const d = ki.x509Data;
    el.append(x('X509Data', null,
      d.issuerSerials.map((s) => x('X509IssuerSerial', null, x('X509IssuerName', null, s.issuerName), x('X509SerialNumber', null, s.serialNumber))),
      d.skis.map((v) => x('X509SKI', null, v)),
      d.subjectNames.map((v) => x('X509SubjectName', null, v)),
      d.certificates.map((v) => x('X509Certificate', null, v)),
      d.crls.map((v) => x('X509CRL', null, v))));
  }
  if (ki.pgpData) {
    el.append(x('PGPData', null,
      ki.pgpData.keyId !== undefined ? x('PGPKeyID', null, ki.pgpData.keyId) : undefined,
      ki.pgpData.keyPacket !== undefined ? x('PGPKeyPacket', null, ki.pgpData.keyPacket) : undefined));
  }
  return el;
}

function buildKeyValue(kv: KeyValue): Element {
  if (kv.type === 'rsa') return x('KeyValue', null, x('RSAKeyValue', null, x('Modulus', null, kv.modulus), x('Exponent', null, kv.exponent)));
  if (kv.type === 'dsa') {
    const order = [['P', kv.p], ['Q', kv.q], ['G', kv.g], ['Y', kv.y], ['J', kv.j], ['Seed', kv.seed], ['PgenCounter', kv.pgenCounter]] as const;
    return x('KeyValue', null, x('DSAKeyValue', null, order.filter(([, v]) => v !== undefined).map(([n, v]) => x(n, null, v!))));
  }
  return x('KeyValue', null, kv.element.clone());
}

/**
 * Item id / fingerprint of a <KeyInfo/> (XEP-0189 0.5 §2): SHA-256 hex of the first key element (KeyValue, PGPData
 * or X509Data, in document order) after removing inter-element text and canonicalising (see fingerprint.ts).
 */
export function keyInfoPrint(keyInfo: Element | KeyInfo): string {
  const el = keyInfo instanceof Element ? keyInfo : (keyInfo.element ?? buildKeyInfo(keyInfo));
  const keyEl = el.elements.find((c) => c.ns === NS_XMLDSIG && KEY_ELEMENTS.includes(c.local));
  if (!keyEl) throw new KeyError('bad-payload', '<KeyInfo/> has no key element to fingerprint');
  return keyElementPrint(keyEl);
}

/** A <KeyInfo/> for a public key; KeyName defaults to the fingerprint, as 0.5 recommends. */
export function keyInfoFromPublicKey(publicKey: KeyObject, keyName?: string): KeyInfo {
  if (publicKey.asymmetricKeyType !== 'rsa') throw new KeyError('unsupported-algorithm', 'XML-Signature <KeyValue/> carries RSA or DSA keys; use <X509Data/> or <PGPData/> for others');
  const c = rsaComponents(publicKey);
  const ki: KeyInfo = { keyValue: { type: 'rsa', modulus: bigintToBytes(c.modulus).toString('base64'), exponent: bigintToBytes(c.publicExponent).toString('base64') } };
  return withName(ki, keyName);
}

export function keyInfoFromCertificate(cert: CertificateInfo | string, keyName?: string): KeyInfo {
  const info = typeof cert === 'string' ? importX509(cert) : cert;
  return withName({ x509Data: { certificates: [info.derBase64], subjectNames: [info.subject.replace(/\n/g, ',')], issuerSerials: [], skis: [], crls: [] } }, keyName);
}

function withName(ki: KeyInfo, keyName: string | undefined): KeyInfo {
  return { keyName: keyName ?? keyInfoPrint(buildKeyInfo(ki)), ...ki };
}

/** The public key a <KeyInfo/> carries, where we can read it (RSA KeyValue or the first X.509 certificate). */
export function keyInfoPublicKey(ki: KeyInfo): KeyObject {
  if (ki.keyValue?.type === 'rsa') {
    return rsaPublicKeyFromComponents({
      modulus: bytesToBigint(Buffer.from(ki.keyValue.modulus, 'base64')),
      publicExponent: bytesToBigint(Buffer.from(ki.keyValue.exponent, 'base64')),
    });
  }
  const cert = ki.x509Data?.certificates[0];
  if (cert) return importX509(cert).publicKey;
  throw new KeyError('unsupported-algorithm', 'this <KeyInfo/> holds no RSA key value or X.509 certificate');
}

// ---------------------------------------------------------------- <pubkeys/> container

/**
 * <pubkeys/> of XEP-0189 0.4–0.7: a response or message carries <KeyInfo/> children; a request may select keys
 * with <fprint/> children (0.5) and name the owner with 'jid' (0.4, third-party requests and sends).
 */
export interface Pubkeys {
  ns: LegacyPubkeysNs;
  jid?: string;
  fprints: string[];
  keys: KeyInfo[];
}

export function isLegacyPubkeysNs(ns: string): ns is LegacyPubkeysNs {
  return (LEGACY_PUBKEYS_NAMESPACES as readonly string[]).includes(ns);
}

export function parsePubkeys(el: Element): Pubkeys {
  if (!el.is('pubkeys') || !isLegacyPubkeysNs(el.ns)) throw new KeyError('bad-payload', `expected <pubkeys xmlns='${NS_PUBKEYS_0_5}'/> or '${NS_PUBKEY_TMP}'`);
  const out: Pubkeys = {
    ns: el.ns,
    fprints: el.getChildren('fprint', el.ns).map((c) => trimXml(c.text())),
    keys: el.getChildren('KeyInfo', NS_XMLDSIG).map(parseKeyInfo),
  };
  const jid = el.attrs.jid;
  if (jid !== undefined) out.jid = parseJid(jid).full;
  return out;
}

export function buildPubkeys(p: Partial<Pubkeys> = {}): Element {
  const ns = p.ns ?? NS_PUBKEYS_0_5;
  return x('pubkeys', { xmlns: ns, jid: p.jid }, (p.fprints ?? []).map((f) => x('fprint', null, f)), (p.keys ?? []).map((k) => buildKeyInfo(k)));
}

/** Whether a received <KeyInfo/> is selected by a request's <fprint/> list (empty list selects all). */
export function selectedBy(fprints: string[], keyInfo: KeyInfo): boolean {
  if (fprints.length === 0) return true;
  const fp = keyInfoPrint(keyInfo).toLowerCase();
  return fprints.some((f) => f.toLowerCase() === fp);
}

/** A pubsub <item/> for a <KeyInfo/>, its id the fingerprint (XEP-0189 0.5 §2 SHOULD). */
export function keyInfoItem(ki: KeyInfo): Element {
  const el = ki.element ?? buildKeyInfo(ki);
  return x('item', { id: keyInfoPrint(el) }, el.clone());
}

// ---------------------------------------------------------------- XEP-0222 example payload (0.8/0.9 era)

/** <key xmlns='urn:xmpp:tmp:pubkey'><x509cert>base64 DER</x509cert></key> as published in XEP-0222's examples. */
export function parseTmpX509Key(el: Element): { certificate: string } {
  if (!el.is('key', NS_PUBKEY_TMP)) throw new KeyError('bad-payload', `expected <key xmlns='${NS_PUBKEY_TMP}'/>`);
  const c = el.getChild('x509cert', NS_PUBKEY_TMP);
  if (!c) throw new KeyError('bad-payload', '<key/> has no <x509cert/>');
  return { certificate: stripWhitespace(c.text()) };
}

export function buildTmpX509Key(certificateBase64: string): Element {
  return x('key', { xmlns: NS_PUBKEY_TMP }, x('x509cert', null, certificateBase64));
}
