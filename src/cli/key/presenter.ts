// Every word and JSON shape the `key` commands show: tables, JSON documents, event lines and the CLI's advice
// added to the client's errors (the client says what happened; only the CLI knows its own flags).
import { pubkeyPrintId, pubkeyPrintAlgo, keyKind, pubkeyPublicKey, keyFamily, formatOpenPgpFingerprint, type Pubkey, type TrustView } from '../../keys/index.ts';
import { KtVerifyError, type KeyEvent, type RevocationEvent, type AttestationEvent, type InvalidEvent, type KeyOpError, type KeyOpErrorCode, type RefusedEvent } from '../../client/index.ts';
import { KtMapVerifyError } from '../../client/kt-map.ts';
import type { OwnKey, PublishSettings } from './home.ts';

/** "sha-256:<hex>" for a print, or for one of our key ids (the hex alone). */
export function fp(printOrId: string): string {
  return printOrId.includes(':') ? printOrId : `sha-256:${printOrId}`;
}

/**
 * A fingerprint as tables show it: the first 16 hex digits (64 bits, gpg's "long key ID") and "…", without the
 * usual "sha-256:". It stays pasteable: a FINGERPRINT argument takes a unique prefix and ignores the "…".
 */
export function shortFp(printOrId: string): string {
  const [algo, hex] = fp(printOrId).split(':') as [string, string];
  return `${algo === 'sha-256' ? '' : `${algo}:`}${hex.slice(0, 16)}…`;
}

/** Table cells: short by default, in full with --long. */
export interface RowStyle {
  long?: boolean;
}

const cellFp = (printOrId: string, style: RowStyle) => (style.long ? fp(printOrId) : shortFp(printOrId));
/** The date of an XEP-0082 / ISO timestamp (UTC) in tables; the whole timestamp with --long. */
const cellTime = (t: string | undefined, style: RowStyle) => (t === undefined ? '' : style.long ? t : t.slice(0, 10));

export const OWN_COLUMNS = ['fingerprint', 'type', 'version', 'status', 'begin', 'end'];
/** A contact's keys (list JID, fetch, verify): every row is the JID asked about, so it is not repeated. */
export const TRUST_COLUMNS = ['fingerprint', 'state', 'first_seen', 'valid_until'];

/** TRUST_COLUMNS, with a `kind` column first when OMEMO or OX keys are among the rows. */
export function trustColumns(views: TrustView[]): string[] {
  return views.some((v) => keyFamily(v.format) !== 'xep0189') ? ['kind', ...TRUST_COLUMNS] : TRUST_COLUMNS;
}

/** What a trust record is, in words: XEP-0189, an OMEMO device (with its generation), or an OX key. */
export function trustKind(v: Pick<TrustView, 'format' | 'slot'>): string {
  switch (v.format) {
    case 'omemo': return `omemo 0.3 device ${v.slot ?? '?'}`;
    case 'omemo2': return `omemo 0.8+ device ${v.slot ?? '?'}`;
    case 'ox': return 'openpgp (ox)';
    default: return 'xep-0189';
  }
}

/**
 * The fingerprint as the contact's own client prints it: OMEMO identity keys as 64 hex digits in groups of 8
 * (profanity, Conversations), OX keys as gpg does; XEP-0189 prints as "sha-256:<hex>".
 */
export function clientFingerprint(v: Pick<TrustView, 'format' | 'print'>): string {
  const hex = v.print.slice(v.print.indexOf(':') + 1);
  if (keyFamily(v.format) === 'omemo') return hex.replace(/(.{8})(?!$)/g, '$1 ');
  if (v.format === 'ox') return formatOpenPgpFingerprint(hex);
  return fp(v.print);
}

function keyType(pk: Pubkey): string {
  try {
    const k = pubkeyPublicKey(pk);
    const kind = keyKind(k);
    return kind === 'rsa' ? `rsa-${k.asymmetricKeyDetails?.modulusLength ?? '?'}` : kind;
  } catch {
    return '?';
  }
}

function ownStatus(k: OwnKey): string {
  return k.revoked ? 'revoked' : k.current ? 'current' : 'old';
}

export function ownKeyRow(k: OwnKey, style: RowStyle = {}): Record<string, string> {
  return { fingerprint: cellFp(k.id, style), type: keyType(k.pubkey), version: `pubkey:${k.pubkey.version}`, status: ownStatus(k), begin: cellTime(k.pubkey.begin, style), end: cellTime(k.pubkey.end, style) };
}

export function ownKeyJson(k: OwnKey): Record<string, unknown> {
  return { fingerprint: pubkeyPrintId(k.pubkey), published_print: k.pubkey.form === 'rsakey' ? k.pubkey.rsakey.print.value : k.pubkey.print, algo: pubkeyPrintAlgo(k.pubkey), type: keyType(k.pubkey), version: k.pubkey.version, status: ownStatus(k), jid: k.pubkey.jid, begin: k.pubkey.begin, end: k.pubkey.end, encrypted: k.encrypted ?? false };
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export function trustRow(v: TrustView, style: RowStyle = {}): Record<string, string> {
  const fingerprint = keyFamily(v.format) !== 'xep0189' && style.long ? clientFingerprint(v) : cellFp(v.print, style);
  return { jid: v.jid, kind: trustKind(v), fingerprint, state: v.effective, first_seen: cellTime(iso(v.firstSeen), style), valid_until: cellTime(iso(v.notAfter), style) };
}

export function trustJson(v: TrustView): Record<string, unknown> {
  return {
    jid: v.jid, fingerprint: v.print, state: v.effective, stored_state: v.state, format: v.format,
    ...(keyFamily(v.format) !== 'xep0189' ? { kind: trustKind(v), device: v.slot === undefined ? undefined : Number(v.slot), displayed_as: clientFingerprint(v) } : {}),
    first_seen: iso(v.firstSeen), last_seen: iso(v.lastSeen), valid_from: iso(v.notBefore), valid_until: iso(v.notAfter),
    verified_at: iso(v.verifiedAt), revoked_at: iso(v.revokedAt),
  };
}

export function keyEventJson(k: KeyEvent): Record<string, unknown> {
  return { jid: k.jid, seen: k.result.kind, source: k.source, key: trustJson(k.result.record), previous: k.result.previous.map(trustJson) };
}

export function revocationJson(r: RevocationEvent): Record<string, unknown> {
  return { jid: r.jid, source: r.source, applied: r.outcome.ok, reason: r.outcome.ok ? undefined : r.outcome.message, key: r.record ? trustJson(r.record) : undefined };
}

export function attestationJson(a: AttestationEvent): Record<string, unknown> {
  return { jid: a.jid, source: a.source, signer: a.attestation.signerjid, signtime: a.attestation.signtime, checked: a.outcome !== undefined, valid: a.outcome?.ok };
}

export function changedSentence(k: KeyEvent): string {
  const prev = k.result.previous.map((p) => `${fp(p.print)} (${p.effective})`).join(', ');
  return `${k.jid} presented a NEW key ${fp(k.result.record.print)}; it is stored as unverified next to the known key${k.result.previous.length > 1 ? 's' : ''} ${prev} and is not trusted until you verify it (\`pepkeys key trust ${k.jid} FINGERPRINT\`)`;
}

export function describeAccess(s: PublishSettings): string {
  switch (s.access) {
    case 'open': return 'readable by anyone';
    case 'presence': return 'readable by contacts subscribed to your presence';
    case 'roster': return `readable by roster group${s.groups!.length > 1 ? 's' : ''} ${s.groups!.join(', ')}`;
    case 'whitelist': return `readable by ${s.allow?.length ? s.allow.join(', ') : 'nobody but you (no --allow given)'}`;
  }
}

export function attestationOutcome(a: AttestationEvent): string {
  return a.outcome ? (a.outcome.ok ? 'signature valid' : `INVALID (${a.outcome.message})`) : 'signer key unknown, not checked';
}

/** One `watch` line per event (after the timestamp). */
export const watchLine = {
  key: (k: KeyEvent) => (k.result.kind === 'changed' ? `KEY CHANGED  ${changedSentence(k)}` : `KEY ${k.result.kind.toUpperCase()}  ${k.jid} ${fp(k.result.record.print)} (${k.result.record.effective}, via ${k.source})`),
  revocation: (r: RevocationEvent) => (r.outcome.ok && r.record ? `REVOKED  ${r.jid} key ${fp(r.record.print)} (signature checked)` : `REVOCATION IGNORED  ${r.jid}: ${r.outcome.ok ? 'no record' : r.outcome.message}`),
  attestation: (a: AttestationEvent) => `ATTESTATION  ${a.jid} key attested by ${a.attestation.signerjid}: ${a.outcome ? (a.outcome.ok ? 'valid' : a.outcome.message) : 'not checked (signer key unknown)'}`,
  invalid: (i: InvalidEvent) => `INVALID  ${i.jid} (${i.source}): ${i.reason}`,
  generating: (jid: string) => `GENERATING  ${jid} is generating a key`,
};

const DIRECT_PATHS = 'you can still send your key directly with `pepkeys key send JID` (a <message/>), or keep `pepkeys key watch` running so contacts can request it directly (XEP-0189 §7)';

/** What to do next, in the CLI's own terms, for the client errors where there is something to do. */
const ADVICE: Partial<Record<KeyOpErrorCode, string>> = {
  'discovery-failed': DIRECT_PATHS,
  'no-pep': DIRECT_PATHS,
  'no-publish-options': DIRECT_PATHS,
  'node-conflict': "publish again with --reconfigure to change the node's configuration, or choose the access model the node has",
  'access-model-unsupported': 'use --access presence (everyone subscribed to your presence) or --access whitelist instead',
};

/** The client's sentence, and the advice for its code. */
export function keyOpErrorSentence(e: KeyOpError): string {
  const advice = ADVICE[e.code];
  return advice ? `${e.message}; ${advice}` : e.message;
}

export function refusedJson(r: RefusedEvent) {
  return { kind: r.kind, jid: r.jid, source: r.source, node: r.node, item: r.itemId, code: r.error instanceof KtVerifyError || r.error instanceof KtMapVerifyError ? r.error.code : undefined, error: r.error.message };
}

/** Loud on purpose: a key (revocation, attestation) the log does not back is what transparency exists to catch. */
export function refusedLine(r: RefusedEvent): string {
  const code = r.error instanceof KtVerifyError || r.error instanceof KtMapVerifyError ? ` [${r.error.code}]` : '';
  const check = r.error instanceof KtMapVerifyError ? 'verifiable map check' : 'transparency log check';
  return `${r.kind.toUpperCase()} REFUSED  ${r.jid}${r.itemId ? ` item ${r.itemId}` : ''} (via ${r.source}): ${check} failed${code}: ${r.error.message}; the ${r.kind} was not accepted`;
}
