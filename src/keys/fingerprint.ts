// Fingerprints exactly as each XEP-0189 version defines them. The byte strings hashed are documented in
// docs/keys.md; the normalisation of XML character data is ours (the specs leave it open and their example
// prints cannot be reproduced from the example data).
import type { Element } from '../xml/index.ts';
import { canonicalize, withoutInterElementText } from '../xml/canonical.ts';
import { digest, type HashAlgo } from './hash.ts';
import { stripWhitespace } from './material.ts';
import { KeyError } from './errors.ts';

/** Leading/trailing XML whitespace removed (element values are written on their own lines in the specs). */
export function trimXml(s: string): string {
  return s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
}

export interface PrintFieldsV1 {
  begin: string;
  end: string;
  jid: string;
  key: string;
}

/**
 * XEP-0189 0.13 §3: "the input string to the hash function is the concatenation of the begin date, the end date,
 * the JID, and the public key itself". We hash UTF-8(trim(begin) + trim(end) + trim(jid) + key-without-whitespace):
 * the dates and JID as written (no reformatting), the base64 key with every XML whitespace character removed.
 */
export function printInputV1(f: PrintFieldsV1): string {
  return trimXml(f.begin) + trimXml(f.end) + trimXml(f.jid) + stripWhitespace(f.key);
}

/** XEP-0189 0.13 print: lowercase hex SHA-256 (other algorithms only for cross-version comparisons). */
export function printV1(f: PrintFieldsV1, algo: HashAlgo = 'sha-256'): string {
  return digest(algo, printInputV1(f)).toString('hex');
}

export interface PrintFieldsV2 {
  begin: string;
  end: string;
  jid: string;
  modulus: string;
  publicExponent: string;
}

/** str(n) of XEP-0189 0.14: the canonical decimal form (no whitespace, no leading zeros). */
export function decimalString(text: string, what: string): string {
  const s = stripWhitespace(text);
  if (!/^\d+$/.test(s)) throw new KeyError('bad-payload', `${what} is not a decimal integer`);
  return BigInt(s).toString(10);
}

/**
 * XEP-0189 0.14 §3: Base64(SHA-256(UTF8-encode(begin + end + jid + str(modulus) + str(exponent)))), with the
 * hash named by 'algo'. Dates and JID trimmed as written; modulus and exponent in canonical decimal.
 */
export function printInputV2(f: PrintFieldsV2): string {
  return trimXml(f.begin) + trimXml(f.end) + trimXml(f.jid) + decimalString(f.modulus, 'modulus') + decimalString(f.publicExponent, 'publicExponent');
}

export function printV2(f: PrintFieldsV2, algo: HashAlgo = 'sha-256'): string {
  return digest(algo, printInputV2(f)).toString('base64');
}

/**
 * XEP-0189 0.5 §2: the item id is "the SHA256 hash of the key's normalized <KeyValue/>, <PGPData/> or <X509Data/>
 * element (all character data between all elements MUST be removed and the XML MUST be converted to canonical
 * form)". Canonical XML 1.0 of the element as the apex of a subset, with inherited namespace declarations
 * limited to the visibly used ones (so the id does not depend on the enclosing stanza). Text inside leaf
 * elements (e.g. base64 line breaks in <Modulus/>) is kept: the spec only removes text between elements.
 */
export function keyElementCanonical(el: Element): string {
  return canonicalize(withoutInterElementText(el), { mode: 'exclusive' });
}

export function keyElementPrint(el: Element): string {
  return digest('sha-256', keyElementCanonical(el)).toString('hex');
}
