// <attest/> payloads of XEP-0189 0.13 (urn:xmpp:attest:1) and 0.14 (urn:xmpp:attest:2): signed copies of a
// user's key, by another user, a CA, or another key of the same user.
import { x, type Element } from '../xml/index.ts';
import { parseJid } from '../jid/index.ts';
import { ATTEST_NS, payloadVersionOf, type PayloadVersion } from '../protocol/xep0189.ts';
import { printMatches, type Fingerprint, type HashAlgo } from './hash.ts';
import { stripWhitespace } from './material.ts';
import { pubkeyKeyText, pubkeyPrintBytes, type Pubkey } from './pubkey.ts';
import { signatureLines, type SigningKey, type VerifyingKey } from './signing.ts';
import { payloadVersion, readFingerprint, requireText } from './xml-util.ts';
import { checkDateTime, checkTime, fail, printEl, statementBasis, type VerifyOutcome } from './revocation.ts';

export interface Attestation {
  version: PayloadVersion;
  keyprint: Fingerprint;
  signature: string;
  signerjid: string;
  signerprint: Fingerprint;
  signtime: string;
}

export const attestVersionOf = (ns: string): PayloadVersion | undefined => payloadVersionOf(ATTEST_NS, ns);

export function parseAttestation(el: Element): Attestation {
  const version = payloadVersion(el, ['attest'], ATTEST_NS);
  const signtime = requireText(el, 'signtime', 'attest');
  checkDateTime(signtime, 'signtime');
  return {
    version,
    keyprint: readFingerprint(el, 'keyprint', 'attest'),
    signature: stripWhitespace(requireText(el, 'signature', 'attest')),
    signerjid: requireText(el, 'signerjid', 'attest'),
    signerprint: readFingerprint(el, 'signerprint', 'attest'),
    signtime,
  };
}

/** Children in the order of the 0.14 schema: keyprint, signature, signerjid, signerprint, signtime. */
export function buildAttestation(a: Attestation): Element {
  return x('attest', { xmlns: ATTEST_NS[a.version] },
    printEl('keyprint', a.keyprint, a.version),
    x('signature', null, signatureLines(a.signature).join('\n')),
    x('signerjid', null, a.signerjid),
    printEl('signerprint', a.signerprint, a.version),
    x('signtime', null, a.signtime));
}

/**
 * XEP-0189 0.13/0.14 §5: key + keyprint + signerjid + signerprint + signtime, no separators. <attest/> carries no
 * <key/>, so the key comes from the attested <pubkey/>: its ASCII output (base64 SPKI, no line breaks); for a 0.14
 * <rsakey/> the SPKI is derived from modulus and exponent (our choice, see docs/keys.md).
 */
export function attestationSignedString(key: string, a: Pick<Attestation, 'keyprint' | 'signerjid' | 'signerprint' | 'signtime'>): string {
  return stripWhitespace(key) + a.keyprint.value.trim() + a.signerjid.trim() + a.signerprint.value.trim() + a.signtime.trim();
}

export interface CreateAttestationOptions {
  version?: PayloadVersion;
  /** The key being attested. */
  subject: Pubkey;
  signer: SigningKey;
  signerJid: string;
  time?: Date;
  algo?: HashAlgo;
}

export async function createAttestation(o: CreateAttestationOptions): Promise<Attestation> {
  const b = statementBasis(o.subject, o.signer, o);
  const a: Omit<Attestation, 'signature'> = { version: b.version, keyprint: b.keyprint, signerjid: parseJid(o.signerJid).bare, signerprint: b.signerprint, signtime: b.time };
  const signature = await o.signer.sign(Buffer.from(attestationSignedString(pubkeyKeyText(o.subject), a), 'utf8'));
  return { ...a, signature };
}

export interface VerifyAttestationOptions {
  subject: Pubkey;
  signer: VerifyingKey;
  now?: Date;
  maxClockSkewMs?: number;
}

export async function verifyAttestation(a: Attestation, o: VerifyAttestationOptions): Promise<VerifyOutcome> {
  if (!printMatches(a.keyprint, pubkeyPrintBytes(o.subject, a.keyprint.algo))) return fail('print-mismatch', 'keyprint is not the print of the attested key');
  if (!printMatches(a.signerprint, o.signer.printBytes(a.signerprint.algo))) return fail('print-mismatch', 'signerprint is not the print of the signing key');
  const timeCheck = checkTime(a.signtime, o.signer, o.now, o.maxClockSkewMs, 'signtime');
  if (timeCheck) return timeCheck;
  const ok = await o.signer.verify(Buffer.from(attestationSignedString(pubkeyKeyText(o.subject), a), 'utf8'), a.signature);
  return ok ? { ok: true } : fail('bad-signature', 'attestation signature does not verify');
}
