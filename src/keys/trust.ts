// The client's own key library (XEP-0189 §10: "each client SHOULD maintain its own secure library of the public
// keys it associates with other users"). A contact key is identified by bare JID + print; a JID may have several.
// Trust on first use: a first key is stored 'unverified'; a different key for a known JID is reported as a
// change and stored 'unverified' too — never silently accepted as a replacement. 'verified' means the print was
// confirmed out of band; 'revoked' is final; 'expired' is derived from the key's <end/> at read time.
// The same store keeps the other keys contacts publish over PEP (issue 21): OMEMO identity keys, one per
// device, and OX (XEP-0373) OpenPGP keys. A change is judged within one family only: a new OMEMO device next
// to an XEP-0189 key is news, not a replacement; a device id whose identity key differs is a change, and so is
// a second OX key.
import { parseJid } from '../jid/index.ts';
import { serialize } from '../xml/index.ts';
import { parseDateTime } from '../protocol/xep0082.ts';
import { KeyError } from './errors.ts';
import { decodePrint, printId, printIdOf } from './hash.ts';
import { buildPubkey, pubkeyKeyText, pubkeyPrintId, pubkeyValidity, type Pubkey } from './pubkey.ts';
import { buildKeyInfo, keyInfoPrint, type KeyInfo } from './keyinfo.ts';
import { verifyRevocation, type Revocation, type VerifyOutcome, type VerifyRevocationOptions } from './revocation.ts';
import { openPgpPrintBytes, type VerifyingKey } from './signing.ts';
import type { Validity } from './validity.ts';
import type * as openpgp from 'openpgp';

export type StoredTrustState = 'unverified' | 'verified' | 'revoked';
export type TrustState = StoredTrustState | 'expired' | 'not-yet-valid';
export type KeyFormat = 'pubkey:1' | 'pubkey:2' | 'keyinfo' | 'openpgp' | 'raw' | 'omemo' | 'omemo2' | 'ox';

/** What kind of key a record is, for display and for telling a change from an addition. */
export type KeyFamily = 'xep0189' | 'omemo' | 'ox';

export function keyFamily(format: KeyFormat): KeyFamily {
  return format === 'omemo' || format === 'omemo2' ? 'omemo' : format === 'ox' ? 'ox' : 'xep0189';
}

/** Print ids of the non-XEP-0189 keys: OMEMO "omemo:<identity key hex>", OX "openpgp-v4:<v4 fingerprint hex>", as the transparency log records them. */
export const OMEMO_PRINT_ALGO = 'omemo';
export const OX_PRINT_ALGO = 'openpgp-v4';

export interface TrustRecord {
  /** Bare JID of the contact. */
  jid: string;
  /** "<algo>:<hex>" identity of the key (see hash.ts printId). */
  print: string;
  format: KeyFormat;
  /** Where the key sits among the JID's keys of its family: the OMEMO device id; absent otherwise. */
  slot?: string;
  /** The payload as observed (XML or armored key), for display and re-use. */
  payload?: string;
  /** Public key ASCII output (base64 SPKI) when known. */
  key?: string;
  notBefore?: number;
  notAfter?: number;
  state: StoredTrustState;
  firstSeen: number;
  lastSeen: number;
  verifiedAt?: number;
  revokedAt?: number;
}

/** Storage behind TrustStore; the SQLite implementation is trust-store-sqlite.ts. */
export interface TrustBackend {
  get(jid: string, print: string): Promise<TrustRecord | undefined>;
  /** Records of one JID, oldest first. */
  list(jid: string): Promise<TrustRecord[]>;
  put(record: TrustRecord): Promise<void>;
  delete(jid: string, print: string): Promise<boolean>;
  jids(): Promise<string[]>;
  close(): Promise<void>;
}

export interface TrustView extends TrustRecord {
  /** State as of now: stored state, or expired / not-yet-valid from the key's window (revoked wins). */
  effective: TrustState;
}

export interface ObservedKey {
  print: string;
  format: KeyFormat;
  slot?: string;
  payload?: string;
  key?: string;
  validity?: Validity;
}

export interface ObserveResult {
  kind: 'new' | 'unchanged' | 'changed';
  jid: string;
  record: TrustView;
  /** The JID's other keys when kind is 'changed' (the caller decides what to tell the user). */
  previous: TrustView[];
}

export type TrustEvent =
  | { type: 'key-new'; jid: string; record: TrustView }
  | { type: 'key-changed'; jid: string; record: TrustView; previous: TrustView[] }
  | { type: 'key-verified'; jid: string; record: TrustView }
  | { type: 'key-revoked'; jid: string; record: TrustView };

export interface TrustStoreOptions {
  now?: () => Date;
  onEvent?: (e: TrustEvent) => void;
}

export class TrustStore {
  private readonly now: () => Date;
  private readonly onEvent: ((e: TrustEvent) => void) | undefined;

  constructor(readonly backend: TrustBackend, opts: TrustStoreOptions = {}) {
    this.now = opts.now ?? (() => new Date());
    this.onEvent = opts.onEvent;
  }

  /** Records that `jid` presented `key`; reports whether it is new, known, or a change from known keys. */
  async observe(jid: string, key: ObservedKey): Promise<ObserveResult> {
    const bare = bareJid(jid);
    const t = this.now().getTime();
    const existing = await this.backend.get(bare, key.print);
    if (existing) {
      const updated: TrustRecord = { ...existing, lastSeen: t };
      if (key.payload !== undefined) updated.payload = key.payload;
      await this.backend.put(updated);
      return { kind: 'unchanged', jid: bare, record: this.view(updated), previous: [] };
    }
    const others = (await this.backend.list(bare)).filter((r) => sameSlot(r, key));
    const record: TrustRecord = { jid: bare, print: key.print, format: key.format, state: 'unverified', firstSeen: t, lastSeen: t };
    if (key.slot !== undefined) record.slot = key.slot;
    if (key.payload !== undefined) record.payload = key.payload;
    if (key.key !== undefined) record.key = key.key;
    if (key.validity) {
      record.notBefore = key.validity.notBefore.getTime();
      record.notAfter = key.validity.notAfter.getTime();
    }
    await this.backend.put(record);
    const view = this.view(record);
    if (others.length === 0) {
      this.onEvent?.({ type: 'key-new', jid: bare, record: view });
      return { kind: 'new', jid: bare, record: view, previous: [] };
    }
    const previous = others.map((r) => this.view(r));
    this.onEvent?.({ type: 'key-changed', jid: bare, record: view, previous });
    return { kind: 'changed', jid: bare, record: view, previous };
  }

  /** The user confirmed the print out of band. A revoked key cannot become verified. */
  async verify(jid: string, print: string): Promise<TrustView> {
    const bare = bareJid(jid);
    const r = await this.backend.get(bare, print);
    if (!r) throw new KeyError('trust-conflict', `no key ${print} is known for ${bare}`);
    if (r.state === 'revoked') throw new KeyError('key-revoked', `key ${print} of ${bare} is revoked`);
    const updated: TrustRecord = { ...r, state: 'verified', verifiedAt: this.now().getTime() };
    await this.backend.put(updated);
    const view = this.view(updated);
    this.onEvent?.({ type: 'key-verified', jid: bare, record: view });
    return view;
  }

  /** Marks a key revoked (e.g. the user distrusts it); a placeholder is kept when the key was never seen. */
  async revoke(jid: string, print: string, at: Date = this.now()): Promise<TrustView> {
    const bare = bareJid(jid);
    const t = this.now().getTime();
    const r = (await this.backend.get(bare, print)) ?? { jid: bare, print, format: 'raw' as const, state: 'unverified' as const, firstSeen: t, lastSeen: t };
    const updated: TrustRecord = { ...r, state: 'revoked', revokedAt: at.getTime() };
    await this.backend.put(updated);
    const view = this.view(updated);
    this.onEvent?.({ type: 'key-revoked', jid: bare, record: view });
    return view;
  }

  /**
   * Applies a received <revoke/>: only when its revocationprint and signature check out against `signer`
   * (XEP-0189 §4), the key named by keyprint is marked revoked.
   */
  async applyRevocation(jid: string, rev: Revocation, opts: VerifyRevocationOptions): Promise<VerifyOutcome & { record?: TrustView }> {
    const outcome = await verifyRevocation(rev, { now: this.now(), ...opts });
    if (!outcome.ok) return outcome;
    let id: string;
    try {
      id = printIdOf(rev.keyprint);
    } catch {
      return { ok: false, code: 'print-mismatch', message: 'keyprint is not a fingerprint' };
    }
    return { ok: true, record: await this.revoke(jid, id, parseDateTime(rev.revocationtime)) };
  }

  async status(jid: string, print: string): Promise<TrustView | undefined> {
    const r = await this.backend.get(bareJid(jid), print);
    return r && this.view(r);
  }

  async keys(jid: string): Promise<TrustView[]> {
    return (await this.backend.list(bareJid(jid))).map((r) => this.view(r));
  }

  async contacts(): Promise<string[]> {
    return this.backend.jids();
  }

  async forget(jid: string, print: string): Promise<boolean> {
    return this.backend.delete(bareJid(jid), print);
  }

  /** Throws unless the key may be used now: known, not revoked, inside its window. Returns its view. */
  async assertUsable(jid: string, print: string, opts: { requireVerified?: boolean } = {}): Promise<TrustView> {
    const v = await this.status(jid, print);
    if (!v) throw new KeyError('trust-conflict', `no key ${print} is known for ${bareJid(jid)}`);
    if (v.effective === 'revoked') throw new KeyError('key-revoked', `key ${print} of ${v.jid} is revoked`);
    if (v.effective === 'expired') throw new KeyError('key-expired', `key ${print} of ${v.jid} has expired`);
    if (v.effective === 'not-yet-valid') throw new KeyError('key-not-yet-valid', `key ${print} of ${v.jid} is not valid yet`);
    if (opts.requireVerified && v.effective !== 'verified') throw new KeyError('trust-conflict', `key ${print} of ${v.jid} has not been verified`);
    return v;
  }

  async close(): Promise<void> {
    await this.backend.close();
  }

  private view(r: TrustRecord): TrustView {
    const t = this.now().getTime();
    let effective: TrustState = r.state;
    if (r.state !== 'revoked') {
      if (r.notAfter !== undefined && t > r.notAfter) effective = 'expired';
      else if (r.notBefore !== undefined && t < r.notBefore) effective = 'not-yet-valid';
    }
    return { ...r, effective };
  }
}

function bareJid(jid: string): string {
  return parseJid(jid).bare;
}

/** Whether a known record competes with an observed key: same family, and for OMEMO the same device. */
function sameSlot(r: TrustRecord, key: ObservedKey): boolean {
  const family = keyFamily(key.format);
  if (keyFamily(r.format) !== family) return false;
  return family !== 'omemo' || (r.slot === key.slot && r.format === key.format);
}

// ---------------------------------------------------------------- ObservedKey from each format

export function observedFromPubkey(pk: Pubkey): ObservedKey {
  return { print: pubkeyPrintId(pk), format: pk.version === 1 ? 'pubkey:1' : 'pubkey:2', payload: serialize(buildPubkey(pk)), key: pubkeyKeyText(pk), validity: pubkeyValidity(pk) };
}

export function observedFromKeyInfo(ki: KeyInfo): ObservedKey {
  const el = ki.element ?? buildKeyInfo(ki);
  return { print: printId('sha-256', Buffer.from(keyInfoPrint(el), 'hex')), format: 'keyinfo', payload: serialize(el) };
}

export function observedFromOpenPgp(key: openpgp.PublicKey): ObservedKey {
  return { print: printId('sha-256', openPgpPrintBytes(key)), format: 'openpgp', payload: key.armor() };
}

/** An OMEMO device's identity key (the 32 bytes clients show as its fingerprint). */
export function observedFromOmemoDevice(version: 'legacy' | 'omemo2', deviceId: number, identityKey: Uint8Array): ObservedKey {
  return { print: `${OMEMO_PRINT_ALGO}:${Buffer.from(identityKey).toString('hex')}`, format: version === 'legacy' ? 'omemo' : 'omemo2', slot: String(deviceId) };
}

/** An OpenPGP key announced for OX, by its v4 fingerprint (40 hex digits). */
export function observedFromOxKey(fingerprint: string, armored?: string): ObservedKey {
  if (!/^[0-9a-fA-F]{40}$/.test(fingerprint)) throw new KeyError('bad-payload', `"${fingerprint}" is not an OpenPGP v4 fingerprint`);
  return { print: `${OX_PRINT_ALGO}:${fingerprint.toLowerCase()}`, format: 'ox', ...(armored !== undefined ? { payload: armored } : {}) };
}

/** For callers holding a written print (e.g. from a revocation): its storage identity, or undefined. */
export function printIdOrUndefined(fp: { algo: Parameters<typeof printId>[0]; value: string }): string | undefined {
  const b = decodePrint(fp);
  return b ? printId(fp.algo, b) : undefined;
}

/** In-memory backend, for tests and for clients without persistent storage. */
export class MemoryTrustBackend implements TrustBackend {
  private readonly rows = new Map<string, TrustRecord>();
  private seq = 0;
  private readonly order = new Map<string, number>();

  async get(jid: string, print: string) {
    const r = this.rows.get(`${jid}\n${print}`);
    return r && { ...r };
  }
  async list(jid: string) {
    return [...this.rows.entries()]
      .filter(([, r]) => r.jid === jid)
      .sort((a, b) => a[1].firstSeen - b[1].firstSeen || this.order.get(a[0])! - this.order.get(b[0])!)
      .map(([, r]) => ({ ...r }));
  }
  async put(record: TrustRecord) {
    const k = `${record.jid}\n${record.print}`;
    if (!this.order.has(k)) this.order.set(k, this.seq++);
    this.rows.set(k, { ...record });
  }
  async delete(jid: string, print: string) {
    return this.rows.delete(`${jid}\n${print}`);
  }
  async jids() {
    return [...new Set([...this.rows.values()].map((r) => r.jid))].sort();
  }
  async close() {}
}
