// <pubkey/> payloads of XEP-0189 0.13 (urn:xmpp:pubkey:1) and 0.14 (urn:xmpp:pubkey:2), the empty <pubkey/>
// request, and the <generating/> presence extension.
import type { KeyObject } from 'node:crypto';
import { x, type Element } from '../xml/index.ts';
import { parseJid, JidError } from '../jid/index.ts';
import { PUBKEY_NS, payloadVersionOf, type PayloadVersion } from '../protocol/xep0189.ts';
import { formatDateTime } from '../protocol/xep0082.ts';
import { KeyError } from './errors.ts';
import { digest, printMatches, printId, type Fingerprint, type HashAlgo } from './hash.ts';
import { printInputV1, printInputV2, printV1, printV2, decimalString } from './fingerprint.ts';
import { keyKind, publicKeyFromSpkiBase64, rsaComponents, rsaPublicKeyFromComponents, spkiBase64, stripWhitespace } from './material.ts';
import { parseValidity, assertValidAt, type Validity } from './validity.ts';
import { base64Lines, fingerprintElement, optionalText, payloadVersion, readFingerprint, requireText } from './xml-util.ts';

interface PubkeyCommon {
  /** XEP-0082 DateTime as written (trimmed); the print covers these exact characters. */
  begin: string;
  end: string;
  jid: string;
  uri?: string;
}

/**
 * XEP-0189 0.13 form: <key/> holds the "ASCII output" (base64 SubjectPublicKeyInfo, stored without whitespace)
 * and <print/> a hex SHA-256. 0.14's own request/response examples (§7, §8) still use this form under the
 * urn:xmpp:pubkey:2 namespace, so it is accepted with version 2 too.
 */
export interface PubkeyAscii extends PubkeyCommon {
  version: PayloadVersion;
  form: 'ascii';
  key: string;
  print: string;
}

/** XEP-0189 0.14 form: <rsakey/> with decimal modulus and exponent and a base64 print with 'algo'. */
export interface PubkeyRsa extends PubkeyCommon {
  version: 2;
  form: 'rsakey';
  rsakey: { modulus: string; publicExponent: string; print: Fingerprint };
}

export type Pubkey = PubkeyAscii | PubkeyRsa;

export const pubkeyVersionOf = (ns: string): PayloadVersion | undefined => payloadVersionOf(PUBKEY_NS, ns);

/** XEP-0189 §7: an empty <pubkey/> in an IQ get asks for the entity's key. */
export function isPubkeyRequest(el: Element): boolean {
  return el.is('pubkey') && pubkeyVersionOf(el.ns) !== undefined && el.elements.length === 0;
}

export function buildPubkeyRequest(version: PayloadVersion = 2): Element {
  return x('pubkey', { xmlns: PUBKEY_NS[version] });
}

export function parsePubkey(el: Element): Pubkey {
  const version = payloadVersion(el, ['pubkey'], PUBKEY_NS);
  const begin = requireText(el, 'begin', 'pubkey');
  const end = requireText(el, 'end', 'pubkey');
  parseValidity(begin, end);
  const jid = requireText(el, 'jid', 'pubkey');
  try {
    parseJid(jid);
  } catch (e) {
    if (e instanceof JidError) throw new KeyError('bad-payload', `<jid/> is not a JID: ${e.message}`);
    throw e;
  }
  const uri = optionalText(el, 'uri');
  const common: PubkeyCommon = uri === undefined ? { begin, end, jid } : { begin, end, jid, uri };
  const rsa = el.getChild('rsakey', el.ns);
  if (version === 2 && rsa) {
    const modulus = decimalString(requireText(rsa, 'modulus', 'rsakey'), 'modulus');
    const publicExponent = decimalString(requireText(rsa, 'publicExponent', 'rsakey'), 'publicExponent');
    return { version, form: 'rsakey', ...common, rsakey: { modulus, publicExponent, print: readFingerprint(rsa, 'print', 'rsakey') } };
  }
  const key = stripWhitespace(requireText(el, 'key', 'pubkey'));
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) throw new KeyError('bad-payload', '<key/> is not base64');
  return { version, form: 'ascii', ...common, key, print: requireText(el, 'print', 'pubkey') };
}

export function buildPubkey(pk: Pubkey): Element {
  const el = x('pubkey', { xmlns: PUBKEY_NS[pk.version] }, x('begin', null, pk.begin), x('end', null, pk.end), x('jid', null, pk.jid));
  if (pk.form === 'rsakey') {
    el.append(
      x('rsakey', null,
        x('modulus', null, pk.rsakey.modulus),
        x('publicExponent', null, pk.rsakey.publicExponent),
        // The 0.14 example writes algo='sha-256' explicitly; so do we.
        fingerprintElement('print', pk.rsakey.print, true)),
    );
  } else {
    el.append(x('key', null, base64Lines(pk.key)));
    el.append(x('print', null, pk.print));
  }
  if (pk.uri !== undefined) el.append(x('uri', null, pk.uri));
  return el;
}

export interface CreatePubkeyOptions {
  publicKey: KeyObject;
  jid: string;
  begin: Date;
  end: Date;
  uri?: string;
  /** 1 → urn:xmpp:pubkey:1 ASCII form; 2 → urn:xmpp:pubkey:2 <rsakey/> (RSA only). Default 2 for RSA, 1 otherwise. */
  version?: PayloadVersion;
  /** Hash for the 0.14 print; default sha-256. */
  algo?: HashAlgo;
}

/** Builds a pubkey record for our own key, with its print computed. */
export function createPubkey(o: CreatePubkeyOptions): Pubkey {
  const kind = keyKind(o.publicKey);
  const version = o.version ?? (kind === 'rsa' ? 2 : 1);
  const jid = parseJid(o.jid).bare;
  const begin = formatDateTime(o.begin);
  const end = formatDateTime(o.end);
  parseValidity(begin, end);
  const extra = o.uri === undefined ? {} : { uri: o.uri };
  if (version === 2) {
    // XEP-0189 0.14 defines only <rsakey/>; there is no element for an Ed25519 key.
    if (kind !== 'rsa') throw new KeyError('unsupported-algorithm', 'urn:xmpp:pubkey:2 can only carry RSA keys; use version 1 for Ed25519');
    const c = rsaComponents(o.publicKey);
    const fields = { begin, end, jid, modulus: c.modulus.toString(10), publicExponent: c.publicExponent.toString(10) };
    const algo = o.algo ?? 'sha-256';
    return { version: 2, form: 'rsakey', begin, end, jid, ...extra, rsakey: { modulus: fields.modulus, publicExponent: fields.publicExponent, print: { algo, value: printV2(fields, algo) } } };
  }
  return pubkeyFromSpki({ ...o, spki: spkiBase64(o.publicKey) });
}

/**
 * The urn:xmpp:pubkey:1 ASCII form for a key given as base64 SubjectPublicKeyInfo (e.g. exported by WebCrypto,
 * which has no KeyObject), with its print computed.
 */
export function pubkeyFromSpki(o: Omit<CreatePubkeyOptions, 'publicKey' | 'version' | 'algo'> & { spki: string }): PubkeyAscii {
  const jid = parseJid(o.jid).bare;
  const begin = formatDateTime(o.begin);
  const end = formatDateTime(o.end);
  parseValidity(begin, end);
  const key = stripWhitespace(o.spki);
  return { version: 1, form: 'ascii', begin, end, jid, ...(o.uri === undefined ? {} : { uri: o.uri }), key, print: printV1({ begin, end, jid, key }) };
}

/** The exact string whose digest is this key's print (see docs/keys.md). */
export function pubkeyPrintInput(pk: Pubkey): string {
  return pk.form === 'rsakey'
    ? printInputV2({ begin: pk.begin, end: pk.end, jid: pk.jid, modulus: pk.rsakey.modulus, publicExponent: pk.rsakey.publicExponent })
    : printInputV1(pk);
}

/** Digest of the print input with any algorithm (revocationprint/signerprint may name another hash in 0.14). */
export function pubkeyPrintBytes(pk: Pubkey, algo: HashAlgo = pubkeyPrintAlgo(pk)): Buffer {
  return digest(algo, pubkeyPrintInput(pk));
}

export function pubkeyPrintAlgo(pk: Pubkey): HashAlgo {
  return pk.form === 'rsakey' ? pk.rsakey.print.algo : 'sha-256';
}

/** The print as published. */
export function pubkeyPrint(pk: Pubkey): Fingerprint {
  return pk.form === 'rsakey' ? pk.rsakey.print : { algo: 'sha-256', value: pk.print };
}

/** Whether the published print matches the data (the spec examples' prints do not). */
export function checkPubkeyPrint(pk: Pubkey): boolean {
  return printMatches(pubkeyPrint(pk), pubkeyPrintBytes(pk));
}

export function assertPubkeyPrint(pk: Pubkey): void {
  if (!checkPubkeyPrint(pk)) throw new KeyError('print-mismatch', `published print of the key for ${pk.jid} does not match its data`);
}

/** Identity of this key for storage: computed from the data, never taken from the published print. */
export function pubkeyPrintId(pk: Pubkey): string {
  const algo = pubkeyPrintAlgo(pk);
  return printId(algo, pubkeyPrintBytes(pk, algo));
}

export function pubkeyPublicKey(pk: Pubkey): KeyObject {
  if (pk.form === 'rsakey') return rsaPublicKeyFromComponents({ modulus: BigInt(pk.rsakey.modulus), publicExponent: BigInt(pk.rsakey.publicExponent) });
  return publicKeyFromSpkiBase64(pk.key);
}

/** The public key as the ASCII output (base64 SPKI): what <revoke/> <key/> and signed strings carry. */
export function pubkeyKeyText(pk: Pubkey): string {
  return pk.form === 'rsakey' ? spkiBase64(pubkeyPublicKey(pk)) : pk.key;
}

export function pubkeyValidity(pk: Pubkey): Validity {
  return parseValidity(pk.begin, pk.end);
}

/** XEP-0189 §3 begin/end: refuse to use a key outside its window. */
export function assertPubkeyUsable(pk: Pubkey, at: Date = new Date()): void {
  assertValidAt(pubkeyValidity(pk), at, `key ${pk.jid}`);
}

// ---------------------------------------------------------------- <generating/> (XEP-0189 §9)

export function buildGenerating(version: PayloadVersion = 2): Element {
  return x('generating', { xmlns: PUBKEY_NS[version] });
}

/** Whether a presence stanza (or the element itself) signals key generation in progress. */
export function isGenerating(el: Element): boolean {
  if (el.is('generating') && pubkeyVersionOf(el.ns) !== undefined) return true;
  return el.elements.some((c) => c.is('generating') && pubkeyVersionOf(c.ns) !== undefined);
}
