// Everything received (PEP items, notifications, direct answers, messages) goes through here into the trust
// store, which reports changes rather than accepting them. A key must carry a matching print and name the JID
// that sent it; a revocation counts only when signed by a key of that contact we know (XEP-0189 §4).
import { parseXml, type Element } from '../xml/index.ts';
import { parseJid, tryParseJid } from '../jid/index.ts';
import {
  KeyError, parsePubkey, assertPubkeyPrint, pubkeyVersionOf, parseRevocation, revokeVersionOf, parseAttestation,
  attestVersionOf, verifyAttestation, verifierFromPubkey, observedFromPubkey, printMatches, pubkeyPrintBytes,
  type Pubkey, type Revocation, type TrustStore, type VerifyingKey,
} from '../keys/index.ts';
import { parsePepEvent, type PubsubItem } from './pubsub.ts';
import type { KeyEvent, RevocationEvent, AttestationEvent, KeySource, KeyEventSink, RefusedEvent } from './key-events.ts';

/** Turns a contact's key into a signature checker: node:crypto by default, WebCrypto in the browser console. */
export type VerifierFactory = (pk: Pubkey) => VerifyingKey | Promise<VerifyingKey>;

/** Where a received key came from on PEP (absent for keys received directly or in a message). */
export interface KeyOrigin {
  node: string;
  item: PubsubItem;
  /** Every item of the node in the same answer, when fetched (the map check asks whether the latest is among them). */
  served?: PubsubItem[];
}

/** What an admission check is asked about: a key, or a revocation or attestation that would act on keys. */
export type AdmittedKind = 'key' | 'revocation' | 'attestation';

/**
 * A check a key, revocation or attestation must pass before it reaches the trust store (e.g. that it is in
 * its domain's transparency log, src/client/kt-admission.ts); it throws to refuse it.
 */
export type KeyAdmission = (k: { jid: string; source: KeySource; origin: KeyOrigin | undefined; kind?: AdmittedKind }) => Promise<void>;

/** A key (revocation, attestation) the admission check refused: it was not recorded. `reason` is what the check threw. */
export class KeyNotAdmitted extends Error {
  constructor(readonly jid: string, readonly source: KeySource, readonly reason: Error, readonly kind: AdmittedKind = 'key', readonly origin?: KeyOrigin) {
    super(reason.message);
    this.name = 'KeyNotAdmitted';
  }
}

export class KeyIngest {
  constructor(
    private readonly trust: TrustStore,
    private readonly events: KeyEventSink,
    private readonly verifier: VerifierFactory = verifierFromPubkey,
    private readonly admit?: KeyAdmission,
  ) {}

  /** A PEP notification (XEP-0163 §4.3) of one of the key nodes, or payloads sent in a message (XEP-0189 §8). */
  async onMessage(m: Element): Promise<void> {
    const from = tryParseJid(m.attrs.from);
    if (!from || m.attrs.type === 'error') return;
    try {
      const ev = parsePepEvent(m);
      if (ev) {
        const publisher = tryParseJid(ev.from)?.bare;
        if (!publisher) return;
        for (const it of ev.items) if (it.payload) await this.acceptPayload(publisher, it.payload, 'notification', ev.node, it);
        return;
      }
      for (const el of m.elements) {
        const known = (el.is('pubkey') && pubkeyVersionOf(el.ns) !== undefined)
          || ((el.is('revoke') || el.is('revocation')) && revokeVersionOf(el.ns) !== undefined)
          || (el.is('attest') && attestVersionOf(el.ns) !== undefined);
        if (known) await this.acceptPayload(from.bare, el, 'message', el.ns);
      }
    } catch (e) {
      this.invalid(from.bare, 'message', e);
    }
  }

  /** Routes a payload by its node or namespace; a bad key or attestation is reported as `invalid`. */
  private async acceptPayload(bare: string, el: Element, source: KeySource, ns: string, item?: PubsubItem): Promise<void> {
    const origin = item && { node: ns, item };
    const refusedOrInvalid = (e: unknown) => {
      if (e instanceof KeyNotAdmitted) this.refused(e);
      else this.invalid(bare, source, e);
    };
    if (pubkeyVersionOf(ns) !== undefined) await this.acceptKey(bare, el, source, origin).catch(refusedOrInvalid);
    else if (revokeVersionOf(ns) !== undefined) await this.acceptRevocation(bare, el, source, origin).catch(refusedOrInvalid);
    else if (attestVersionOf(ns) !== undefined) await this.acceptAttestation(bare, el, source, origin).catch(refusedOrInvalid);
  }

  /** Reports what the admission check refused (the `refused` event) and returns it. */
  refused(e: KeyNotAdmitted): RefusedEvent {
    const ev: RefusedEvent = { jid: e.jid, source: e.source, kind: e.kind, ...(e.origin ? { node: e.origin.node, itemId: e.origin.item.id } : {}), error: e.reason };
    this.events.emit('refused', ev);
    return ev;
  }

  /** Runs the admission check, if any; a refusal throws KeyNotAdmitted. */
  private async admitted(bare: string, source: KeySource, origin: KeyOrigin | undefined, kind: AdmittedKind): Promise<void> {
    if (!this.admit) return;
    try {
      await this.admit({ jid: bare, source, origin, kind });
    } catch (e) {
      throw new KeyNotAdmitted(bare, source, e as Error, kind, origin);
    }
  }

  invalid(jid: string, source: KeySource, e: unknown): undefined {
    this.events.emit('invalid', { jid, source, reason: (e as Error).message });
    return undefined;
  }

  /**
   * Checks a received <pubkey/> (its print, that it names the JID that sent it, and the admission check) and
   * records it. A key the admission check refuses throws KeyNotAdmitted and is not recorded.
   */
  async acceptKey(bare: string, el: Element, source: KeySource, origin?: KeyOrigin): Promise<KeyEvent> {
    const pk = parsePubkey(el);
    assertPubkeyPrint(pk);
    if (parseJid(pk.jid).bare !== bare) throw new KeyError('bad-payload', `the key from ${bare} claims to belong to ${pk.jid}`);
    await this.admitted(bare, source, origin, 'key');
    const result = await this.trust.observe(bare, observedFromPubkey(pk));
    const ev: KeyEvent = { jid: bare, pubkey: pk, source, result };
    this.events.emit('key', ev);
    return ev;
  }

  /**
   * The signer is looked up by revocationprint among the contact's keys in the trust store. A revocation the
   * admission check refuses throws KeyNotAdmitted and is not applied.
   */
  async acceptRevocation(bare: string, el: Element, source: KeySource, origin?: KeyOrigin): Promise<RevocationEvent> {
    let rev: Revocation;
    try {
      rev = parseRevocation(el);
    } catch (e) {
      const ev: RevocationEvent = { jid: bare, source, outcome: { ok: false, code: 'bad-payload', message: (e as Error).message }, revocation: undefined as unknown as Revocation };
      this.events.emit('revocation', ev);
      return ev;
    }
    await this.admitted(bare, source, origin, 'revocation');
    const known = await this.knownPubkeys(bare);
    const signer = findByPrint(known, rev.revocationprint);
    const revoked = findByPrint(known, rev.keyprint);
    let ev: RevocationEvent;
    if (!signer) {
      ev = { jid: bare, revocation: rev, source, outcome: { ok: false, code: 'trust-conflict', message: `the revocation is signed by a key of ${bare} we do not know` } };
    } else {
      const outcome = await this.trust.applyRevocation(bare, rev, revoked ? { signer: await this.verifier(signer), revoked } : { signer: await this.verifier(signer) });
      ev = { jid: bare, revocation: rev, source, outcome: outcome.ok ? { ok: true } : outcome };
      if (outcome.ok && outcome.record) ev.record = outcome.record;
    }
    this.events.emit('revocation', ev);
    return ev;
  }

  /** An attestation the admission check refuses throws KeyNotAdmitted and is not checked nor reported. */
  async acceptAttestation(bare: string, el: Element, source: KeySource, origin?: KeyOrigin): Promise<AttestationEvent> {
    const att = parseAttestation(el);
    await this.admitted(bare, source, origin, 'attestation');
    const ev: AttestationEvent = { jid: bare, attestation: att, source };
    // The attested key: one of the publisher's keys (an attestation of one of ours is not in the trust
    // store); the signer: a key of signerjid we know.
    const subject = findByPrint(await this.knownPubkeys(bare), att.keyprint);
    const signer = findByPrint(await this.knownPubkeys(att.signerjid), att.signerprint);
    if (subject && signer) ev.outcome = await verifyAttestation(att, { subject, signer: await this.verifier(signer) });
    this.events.emit('attestation', ev);
    return ev;
  }

  /** Keys of `jid` the trust store holds as <pubkey/> payloads, parsed. */
  async knownPubkeys(jid: string): Promise<Pubkey[]> {
    const out: Pubkey[] = [];
    for (const r of await this.trust.keys(jid)) {
      if (!r.payload || !r.format.startsWith('pubkey:')) continue;
      try {
        out.push(parsePubkey(parseXml(r.payload)));
      } catch {
        /* a stored payload we can no longer read: skip it */
      }
    }
    return out;
  }
}

function findByPrint(keys: Pubkey[], print: Revocation['keyprint']): Pubkey | undefined {
  return keys.find((pk) => printMatches(print, pubkeyPrintBytes(pk, print.algo)));
}
