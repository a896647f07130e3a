// OpenPGP keys as XEP-0373 (OX) publishes them over PEP: a metadata node `urn:xmpp:openpgp:0:public-keys`
// listing v4 fingerprints with dates, and one node per key, `…:public-keys:FINGERPRINT`, whose item holds the
// key base64-encoded in <pubkey><data/>. The spec says binary OpenPGP; profanity 0.13 base64-encodes the
// ASCII-armored export instead, so both are read. A key is accepted only when its own fingerprint is the one
// its node is named by, so a user comparing with their client compares with the key actually served.
import type { Element } from '../xml/index.ts';
import { KeyError } from './errors.ts';
import { importOpenPgpPublicKey, type OpenPgpImport } from './material.ts';

export const NS_OX = 'urn:xmpp:openpgp:0';
export const OX_METADATA_NODE = `${NS_OX}:public-keys`;

export function oxKeyNode(fingerprint: string): string {
  return `${OX_METADATA_NODE}:${fingerprint}`;
}

export interface OxKeyMetadata {
  /** 40 upper-case hex digits. */
  fingerprint: string;
  date: string;
}

/** The announced keys of a <public-keys-list/>; malformed or repeated fingerprints are left out. */
export function parseOxPublicKeysList(payload: Element): OxKeyMetadata[] {
  if (payload.local !== 'public-keys-list' || payload.ns !== NS_OX) {
    throw new KeyError('bad-payload', `not an OX public key list: <${payload.local} xmlns='${payload.ns}'>`);
  }
  const seen = new Set<string>();
  const out: OxKeyMetadata[] = [];
  for (const m of payload.getChildren('pubkey-metadata', NS_OX)) {
    const fpr = (m.attrs['v4-fingerprint'] ?? '').toUpperCase();
    if (!/^[0-9A-F]{40}$/.test(fpr) || seen.has(fpr)) continue;
    seen.add(fpr);
    out.push({ fingerprint: fpr, date: m.attrs.date ?? '' });
  }
  return out;
}

/** Reads the key of a <pubkey/> payload and checks it is the key the node is named by. */
export async function readOxPublicKey(payload: Element, expectedFingerprint: string): Promise<OpenPgpImport> {
  if (payload.local !== 'pubkey' || payload.ns !== NS_OX) {
    throw new KeyError('bad-payload', `not an OX public key: <${payload.local} xmlns='${payload.ns}'>`);
  }
  const data = payload.getChildText('data', NS_OX);
  if (!data) throw new KeyError('bad-payload', 'OX public key without <data/>');
  const bytes = Buffer.from(data.replace(/\s+/g, ''), 'base64');
  const armored = bytes.subarray(0, 64).toString('latin1').includes('-----BEGIN PGP');
  const key = await importOpenPgpPublicKey(armored ? bytes.toString('utf8') : new Uint8Array(bytes));
  if (key.fingerprint !== expectedFingerprint.toUpperCase()) {
    throw new KeyError('print-mismatch', `the key under ${expectedFingerprint} has fingerprint ${key.fingerprint}`);
  }
  return key;
}

/** OpenPGP v4 fingerprint as gpg prints it: ten groups of four, two halves. */
export function formatOpenPgpFingerprint(fingerprint: string): string {
  const g = fingerprint.toUpperCase().match(/.{1,4}/g) ?? [];
  return `${g.slice(0, 5).join(' ')}  ${g.slice(5).join(' ')}`.trim();
}
