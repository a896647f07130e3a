// <revoke/> payloads of XEP-0189 0.13 (urn:xmpp:revoke:1) and 0.14 (urn:xmpp:revoke:2): parse, build, sign,
// verify. The examples in both versions use the root name <revocation/> (and so does the 0.14 schema) while
// the text says <revoke/>: we accept both and emit <revoke/>.
import { x, type Element } from '../xml/index.ts';
import { REVOKE_NS, payloadVersionOf, type PayloadVersion } from '../protocol/xep0189.ts';
import { formatDateTime, parseDateTime, Xep0082Error } from '../protocol/xep0082.ts';
import { KeyError, type KeyErrorCode } from './errors.ts';
import { printMatches, type Fingerprint, type HashAlgo } from './hash.ts';
import { stripWhitespace } from './material.ts';
import { pubkeyKeyText, pubkeyPrintBytes, pubkeyPrintAlgo, type Pubkey } from './pubkey.ts';
import type { SigningKey, VerifyingKey } from './signing.ts';
import { signatureLines } from './signing.ts';
import { assertValidAt } from './validity.ts';
import { base64Lines, fingerprintElement, payloadVersion, readFingerprint, requireText } from './xml-util.ts';

export interface Revocation {
  version: PayloadVersion;
  /** The revoked public key (base64 SPKI), whitespace removed. */
  key: string;
  keyprint: Fingerprint;
  revocationprint: Fingerprint;
  revocationtime: string;
  /** Signature text with whitespace removed (see signing.ts for its two forms). */
  signature: string;
}

export const revokeVersionOf = (ns: string): PayloadVersion | undefined => payloadVersionOf(REVOKE_NS, ns);

export function parseRevocation(el: Element): Revocation {
  const version = payloadVersion(el, ['revoke', 'revocation'], REVOKE_NS);
  const revocationtime = requireText(el, 'revocationtime', 'revoke');
  checkDateTime(revocationtime, 'revocationtime');
  return {
    version,
    key: stripWhitespace(requireText(el, 'key', 'revoke')),
    keyprint: readFingerprint(el, 'keyprint', 'revoke'),
    revocationprint: readFingerprint(el, 'revocationprint', 'revoke'),
    revocationtime,
    signature: stripWhitespace(requireText(el, 'signature', 'revoke')),
  };
}

/** Children in the order of the 0.14 schema: key, keyprint, signature, revocationprint, revocationtime. */
export function buildRevocation(r: Revocation): Element {
  return x('revoke', { xmlns: REVOKE_NS[r.version] },
    x('key', null, base64Lines(r.key)),
    printEl('keyprint', r.keyprint, r.version),
    x('signature', null, signatureLines(r.signature).join('\n')),
    printEl('revocationprint', r.revocationprint, r.version),
    x('revocationtime', null, r.revocationtime));
}

/**
 * XEP-0189 0.13/0.14 §4: key + keyprint + revocationprint + revocationtime, "concatenated together with no spaces
 * or other additional characters"; the key without its line breaks ("line breaks are not significant"), the
 * other values as written (trimmed). Signed as UTF-8.
 */
export function revocationSignedString(r: Pick<Revocation, 'key' | 'keyprint' | 'revocationprint' | 'revocationtime'>): string {
  return stripWhitespace(r.key) + r.keyprint.value.trim() + r.revocationprint.value.trim() + r.revocationtime.trim();
}

export interface CreateRevocationOptions {
  version?: PayloadVersion;
  /** The key being revoked. */
  revoked: Pubkey;
  signer: SigningKey;
  time?: Date;
  /** Hash for keyprint/revocationprint in 0.14 (0.13 is always SHA-256 hex). */
  algo?: HashAlgo;
}

export async function createRevocation(o: CreateRevocationOptions): Promise<Revocation> {
  const b = statementBasis(o.revoked, o.signer, o);
  const r: Omit<Revocation, 'signature'> = { version: b.version, key: pubkeyKeyText(o.revoked), keyprint: b.keyprint, revocationprint: b.signerprint, revocationtime: b.time };
  const signature = await o.signer.sign(Buffer.from(revocationSignedString(r), 'utf8'));
  return { ...r, signature };
}

export type VerifyOutcome = { ok: true } | { ok: false; code: KeyErrorCode; message: string };

export interface VerifyRevocationOptions {
  /** The key the revocation claims to be signed by (its print must equal revocationprint). */
  signer: VerifyingKey;
  /** The revoked key, when known: keyprint and <key/> must then match it. */
  revoked?: Pubkey;
  now?: Date;
  /** Tolerated clock difference for a revocationtime in the future; default 5 minutes. */
  maxClockSkewMs?: number;
}

/** Checks revocationprint, keyprint (when the revoked key is known), times and the signature. */
export async function verifyRevocation(r: Revocation, o: VerifyRevocationOptions): Promise<VerifyOutcome> {
  if (!printMatches(r.revocationprint, o.signer.printBytes(r.revocationprint.algo))) {
    return fail('print-mismatch', 'revocationprint is not the print of the signing key');
  }
  if (o.revoked) {
    if (!printMatches(r.keyprint, pubkeyPrintBytes(o.revoked, r.keyprint.algo))) return fail('print-mismatch', 'keyprint is not the print of the revoked key');
    if (stripWhitespace(r.key) !== pubkeyKeyText(o.revoked)) return fail('print-mismatch', '<key/> is not the revoked key');
  }
  const timeCheck = checkTime(r.revocationtime, o.signer, o.now, o.maxClockSkewMs, 'revocationtime');
  if (timeCheck) return timeCheck;
  const ok = await o.signer.verify(Buffer.from(revocationSignedString(r), 'utf8'), r.signature);
  return ok ? { ok: true } : fail('bad-signature', 'revocation signature does not verify');
}

export async function assertRevocation(r: Revocation, o: VerifyRevocationOptions): Promise<void> {
  const v = await verifyRevocation(r, o);
  if (!v.ok) throw new KeyError(v.code, v.message);
}

// ---------------------------------------------------------------- shared with attestations

/**
 * What a revocation and an attestation both sign about `subject`: the payload version (the key's, unless
 * chosen), its print and the signer's print in one hash (0.13: SHA-256 only), and the signing time, at which
 * the signing key must be valid.
 */
export function statementBasis(subject: Pubkey, signer: SigningKey, o: { version?: PayloadVersion; time?: Date; algo?: HashAlgo }): { version: PayloadVersion; keyprint: Fingerprint; signerprint: Fingerprint; time: string } {
  const version = o.version ?? subject.version;
  const time = o.time ?? new Date();
  if (signer.validity) assertValidAt(signer.validity, time, 'signing key');
  const algo: HashAlgo = version === 1 ? 'sha-256' : (o.algo ?? pubkeyPrintAlgo(subject));
  return {
    version,
    keyprint: { algo, value: encodePrint(pubkeyPrintBytes(subject, algo), version) },
    signerprint: { algo, value: encodePrint(signer.printBytes(algo), version) },
    time: formatDateTime(time),
  };
}

/** 0.13 prints are hex (as in its examples); 0.14 prints are base64 (§3 "Base64(SHA-256(...))"). */
export function encodePrint(bytes: Buffer, version: PayloadVersion): string {
  return version === 1 ? bytes.toString('hex') : bytes.toString('base64');
}

export function printEl(local: string, fp: Fingerprint, version: PayloadVersion): Element {
  if (version === 1 && fp.algo !== 'sha-256') throw new KeyError('unsupported-algorithm', `XEP-0189 0.13 ${local} is SHA-256 only`);
  return fingerprintElement(local, fp);
}

export function checkDateTime(s: string, what: string): Date {
  try {
    return parseDateTime(s);
  } catch (e) {
    if (e instanceof Xep0082Error) throw new KeyError('bad-payload', `<${what}/>: ${e.message}`);
    throw e;
  }
}

export function checkTime(text: string, signer: { validity?: { notBefore: Date; notAfter: Date } }, now = new Date(), skew = 5 * 60_000, what: string): VerifyOutcome | undefined {
  let t: Date;
  try {
    t = checkDateTime(text, what);
  } catch (e) {
    return fail('bad-payload', (e as Error).message);
  }
  if (t.getTime() > now.getTime() + skew) return fail('bad-payload', `${what} is in the future`);
  if (signer.validity) {
    try {
      assertValidAt(signer.validity, t, 'signing key');
    } catch (e) {
      if (e instanceof KeyError) return fail(e.code, e.message);
      throw e;
    }
  }
  return undefined;
}

export function fail(code: KeyErrorCode, message: string): VerifyOutcome {
  return { ok: false, code, message };
}
