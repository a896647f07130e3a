// XEP-0115 — Entity Capabilities, version 1.6. The verification string (§5.1) and its hash.
import { createHash } from 'node:crypto';

export const NS_CAPS = 'http://jabber.org/protocol/caps';

export interface CapsIdentityLike {
  category: string;
  type: string;
  lang?: string;
  name?: string;
}

export interface CapsFormLike {
  /** FORM_TYPE value. */
  formType: string;
  /** Other fields: var → values. */
  fields: { var: string; values: string[] }[];
}

/** Hash names of XEP-0115 §5.1 (IANA names) mapped to Node's. */
const HASHES: Record<string, string> = { 'sha-1': 'sha1', 'sha-224': 'sha224', 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' };

export function supportedCapsHash(name: string): boolean {
  return name in HASHES;
}

// XEP-0115 §5.1 sorts with "i;octet" collation: byte order of UTF-8, which for strings without surrogates
// equals code unit order, i.e. plain < comparison, not localeCompare.
const octet = (a: string, b: string): number => {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return Buffer.compare(ba, bb);
};

/** Returns undefined when the input is invalid per XEP-0115 §5.4 (duplicate identities, features or forms). */
export function capsVerificationString(identities: CapsIdentityLike[], features: string[], forms: CapsFormLike[]): string | undefined {
  const ids = identities.map((i) => `${i.category}/${i.type}/${i.lang ?? ''}/${i.name ?? ''}`);
  if (new Set(ids).size !== ids.length) return undefined;
  if (new Set(features).size !== features.length) return undefined;
  if (new Set(forms.map((f) => f.formType)).size !== forms.length) return undefined;
  let s = '';
  for (const i of ids.sort(octet)) s += `${i}<`;
  for (const f of [...features].sort(octet)) s += `${f}<`;
  for (const form of [...forms].sort((a, b) => octet(a.formType, b.formType))) {
    s += `${form.formType}<`;
    for (const field of [...form.fields].sort((a, b) => octet(a.var, b.var))) {
      s += `${field.var}<`;
      for (const v of [...field.values].sort(octet)) s += `${v}<`;
    }
  }
  return s;
}

export function capsHash(hash: string, verificationString: string): string {
  const h = HASHES[hash];
  if (!h) throw new Error(`unsupported caps hash ${hash}`);
  return createHash(h).update(verificationString, 'utf8').digest('base64');
}
