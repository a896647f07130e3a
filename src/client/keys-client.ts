// XEP-0189 over XMPP: publish our keys, revocations and attestations to PEP with the XEP-0222 options; fetch a
// contact's keys from PEP or, failing that, directly from their clients; answer direct requests through an
// access-control callback; send and receive keys in messages; signal <generating/>; advertise the namespaces
// (+notify) in disco and caps; feed everything received into the trust store, which reports changes rather
// than accepting them.
import { EventEmitter } from 'node:events';
import { x, parseXml, type Element } from '../xml/index.ts';
import { parseJid, tryParseJid, type Jid } from '../jid/index.ts';
import { StanzaError } from '../protocol/rfc6120.ts';
import { PEP_IDENTITY } from '../protocol/xep0163.ts';
import { pubkeyFeature } from './key-features.ts';
import {
  ATTEST_NS, PUBKEY_NS, REVOKE_NS, CURRENT_ITEM_ID, NS_PUBKEY_1, NS_PUBKEY_2, NS_REVOKE_1, NS_REVOKE_2, NS_ATTEST_1, NS_ATTEST_2,
  type PayloadVersion,
} from '../protocol/xep0189.ts';
import {
  KeyError, buildPubkey, parsePubkey, assertPubkeyPrint, buildGenerating, isGenerating, pubkeyVersionOf,
  buildRevocation, parseRevocation, revokeVersionOf, buildAttestation, parseAttestation, attestVersionOf, verifyAttestation,
  verifierFromPubkey, observedFromPubkey, printMatches, decodePrint, pubkeyPrintBytes,
  type Pubkey, type Revocation, type Attestation, type TrustStore, type ObserveResult, type TrustView, type VerifyOutcome,
} from '../keys/index.ts';
import type { XmppClient } from './client.ts';
import { ClientError, IqError } from './errors.ts';
import { discoInfo } from './disco.ts';
import {
  publishItem, getItems, configureNode, setMembers, parsePepEvent, explainPublishError, explainRetrieveError,
  type NodeOptions,
} from './pubsub.ts';

export type KeySource = 'pep' | 'notification' | 'direct' | 'message';

export interface KeyEvent {
  jid: string;
  pubkey: Pubkey;
  source: KeySource;
  result: ObserveResult;
}

export interface RevocationEvent {
  jid: string;
  revocation: Revocation;
  source: KeySource;
  outcome: VerifyOutcome;
  record?: TrustView;
}

export interface AttestationEvent {
  jid: string;
  attestation: Attestation;
  source: KeySource;
  /** Checked when both the attested key and the signer's key are known. */
  outcome?: VerifyOutcome;
}

export interface InvalidEvent {
  jid: string;
  source: KeySource;
  reason: string;
}

export interface KeysClientEvents {
  key: [KeyEvent];
  revocation: [RevocationEvent];
  attestation: [AttestationEvent];
  generating: [{ jid: string; generating: boolean }];
  invalid: [InvalidEvent];
}

/** Who may fetch our key with a direct IQ (XEP-0189 §7). Denied requests get service-unavailable. */
export type DirectAccessPolicy = (requester: Jid) => boolean | Promise<boolean>;

export interface KeysClientOptions {
  trust: TrustStore;
  /** Payload version we publish and ask for first (default 2, urn:xmpp:pubkey:2). */
  version?: PayloadVersion;
  /** Advertise +notify for the key nodes so the PEP service pushes changes (default true). */
  notify?: boolean;
  /** The key we hand out on direct requests. */
  ownKey?: () => Pubkey | undefined;
  /** Access control for direct requests; default: nobody (service-unavailable). */
  directAccess?: DirectAccessPolicy;
  /** Bound for each fetch step (PEP retrieval, each direct request); default 10 s. */
  timeoutMs?: number;
}

export interface PepSupport {
  pep: boolean;
  publishOptions: boolean;
  accessModels: Set<string>;
  /** A plain sentence when something is missing (undefined when all is there). */
  problem?: string;
}

export interface PublishOptions extends NodeOptions {
  /** Members allowed by the whitelist model (XEP-0060 §8.9 affiliations). */
  whitelist?: string[];
  /** On a precondition conflict, reconfigure the existing node to these options and publish again. */
  reconfigure?: boolean;
  /** Publish even when the service does not advertise publish-options (XEP-0222 §5 says not to). */
  force?: boolean;
}

export interface FetchResult {
  jid: string;
  source: 'pep' | 'direct';
  keys: KeyEvent[];
  revocations: RevocationEvent[];
  attestations: AttestationEvent[];
  /** Why PEP failed when the direct path was used. */
  pepProblem?: string;
}

/** An operation failed in a way the user can act on; `kind` drives the CLI's exit code. */
export class KeyOpError extends Error {
  constructor(readonly kind: 'unsupported' | 'refused' | 'not-found' | 'conflict' | 'invalid', message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'KeyOpError';
  }
}

/** Every namespace and +notify feature we advertise (XEP-0189 §10, XEP-0163 §4.3.3). */
export function keyFeatures(notify: boolean): string[] {
  const ns = [NS_PUBKEY_1, NS_PUBKEY_2, NS_REVOKE_1, NS_REVOKE_2, NS_ATTEST_1, NS_ATTEST_2];
  return notify ? [...ns, ...ns.map(pubkeyFeature)] : ns;
}

export class KeysClient extends EventEmitter<KeysClientEvents> {
  readonly version: PayloadVersion;
  private readonly trust: TrustStore;
  private readonly timeoutMs: number;
  private readonly resources = new Map<string, Set<string>>();
  private presenceWaiters: { bare: string; resolve: () => void }[] = [];
  private generating = false;

  constructor(readonly client: XmppClient, private readonly opts: KeysClientOptions) {
    super();
    this.trust = opts.trust;
    this.version = opts.version ?? 2;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    client.setFeatures(keyFeatures(opts.notify ?? true));
    for (const v of [1, 2] as const) {
      client.handleIq('get', 'pubkey', PUBKEY_NS[v], (iq) => this.answerDirect(iq));
    }
    client.on('presence', (p) => this.onPresence(p));
    client.on('message', (m) => void this.onMessage(m));
  }

  // ---------------------------------------------------------------- support and publishing

  /** XEP-0222 §5: our account must expose a PEP service (pubsub/pep identity) that supports publish-options. */
  async checkPepSupport(): Promise<PepSupport> {
    let info;
    try {
      info = await discoInfo(this.client, this.client.jid.bare, undefined, this.timeoutMs);
    } catch (e) {
      return { pep: false, publishOptions: false, accessModels: new Set(), problem: `cannot discover your account's services (${(e as Error).message}); ${DIRECT_PATHS}` };
    }
    const pep = info.identities.some((i) => i.category === PEP_IDENTITY.category && i.type === PEP_IDENTITY.type);
    const publishOptions = info.features.has('http://jabber.org/protocol/pubsub#publish-options');
    const accessModels = new Set([...info.features].filter((f) => f.startsWith('http://jabber.org/protocol/pubsub#access-')).map((f) => f.slice('http://jabber.org/protocol/pubsub#access-'.length)));
    const s: PepSupport = { pep, publishOptions, accessModels };
    if (!pep) s.problem = `your server does not offer a PEP service (XEP-0163), so keys cannot be published there; ${DIRECT_PATHS}`;
    else if (!publishOptions) s.problem = `your server's PEP service does not support publish-options (XEP-0222 §5), so it cannot promise to keep your key or limit who sees it; ${DIRECT_PATHS}`;
    return s;
  }

  /** Publishes our key as item 'current' of its pubkey node (XEP-0189 §6) with the XEP-0222 options. */
  async publishKey(pk: Pubkey, options: PublishOptions): Promise<void> {
    await this.publishPayload(PUBKEY_NS[pk.version], buildPubkey(pk), CURRENT_ITEM_ID, options);
  }

  /** Publishes a revocation; item id = the revoked key's print, so several revocations can coexist. */
  async publishRevocation(rev: Revocation, options: PublishOptions): Promise<string> {
    const id = printHex(rev.keyprint) ?? rev.keyprint.value;
    await this.publishPayload(REVOKE_NS[rev.version], buildRevocation(rev), id, options);
    return id;
  }

  /** Publishes an attestation on our attest node; item id names the attested JID and key. */
  async publishAttestation(att: Attestation, subjectJid: string, options: PublishOptions): Promise<string> {
    const id = `${parseJid(subjectJid).bare} ${printHex(att.keyprint) ?? att.keyprint.value}`;
    await this.publishPayload(ATTEST_NS[att.version], buildAttestation(att), id, options);
    return id;
  }

  private async publishPayload(node: string, payload: Element, id: string, options: PublishOptions): Promise<void> {
    const support = await this.checkPepSupport();
    if (!support.pep || (!support.publishOptions && !options.force)) throw new KeyOpError('unsupported', support.problem!);
    try {
      await publishItem(this.client, node, payload, id, options);
    } catch (e) {
      if (options.reconfigure && e instanceof IqError && e.appCondition === 'precondition-not-met') {
        try {
          await configureNode(this.client, node, options);
          await publishItem(this.client, node, payload, id, options);
        } catch (e2) {
          throw this.publishError(e2, node, options);
        }
      } else {
        throw this.publishError(e, node, options);
      }
    }
    if (options.accessModel === 'whitelist' && options.whitelist?.length) {
      try {
        await setMembers(this.client, node, options.whitelist.map((j) => parseJid(j).bare));
      } catch (e) {
        throw new KeyOpError('refused', `published, but the whitelist could not be set: ${explainPublishError(e, { node }) ?? (e as Error).message}`, e);
      }
    }
  }

  private publishError(e: unknown, node: string, options: PublishOptions): Error {
    const plain = explainPublishError(e, { node, options });
    if (!plain) return e as Error;
    const kind = e instanceof IqError && e.appCondition === 'precondition-not-met' ? 'conflict' : 'refused';
    return new KeyOpError(kind, plain, e);
  }

  // ---------------------------------------------------------------- presence: <generating/> and resources

  /** XEP-0189 §9: presence with <generating/> while a key is being generated, plain presence after. */
  announceGenerating(on: boolean): void {
    this.generating = on;
    this.client.sendPresence(on ? [buildGenerating(this.version)] : []);
  }

  /** Sends initial presence (with caps) if not generating. */
  online(): void {
    this.client.sendPresence(this.generating ? [buildGenerating(this.version)] : []);
  }

  /**
   * Goes online and resolves once the server has most likely taken note of our caps (and so of our +notify
   * interests, XEP-0163 §4.3.3): after it queried them, or after `capsWaitMs` if it did not (caps it already
   * knew), followed by one IQ round trip so everything we sent before has been processed.
   */
  async onlineAndReady(capsWaitMs = 2000): Promise<void> {
    const queried = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, capsWaitMs);
      this.client.once('caps-queried', () => (clearTimeout(t), resolve()));
    });
    this.online();
    await queried;
    await discoInfo(this.client, this.client.jid.bare, undefined, this.timeoutMs).catch(() => undefined);
  }

  /** Full JIDs of `bare` we have seen available. */
  resourcesOf(bare: string): string[] {
    return [...(this.resources.get(parseJid(bare).bare) ?? [])];
  }

  /** Waits until `bare` has an available resource, or `timeoutMs` passes (resolves either way). */
  waitForPresence(bare: string, timeoutMs: number): Promise<void> {
    const b = parseJid(bare).bare;
    if (this.resourcesOf(b).length) return Promise.resolve();
    return new Promise((resolve) => {
      const w = { bare: b, resolve: () => (clearTimeout(t), resolve()) };
      const t = setTimeout(() => {
        this.presenceWaiters = this.presenceWaiters.filter((x) => x !== w);
        resolve();
      }, timeoutMs);
      this.presenceWaiters.push(w);
    });
  }

  private onPresence(p: Element): void {
    const from = tryParseJid(p.attrs.from);
    if (!from || !from.resource) return;
    const type = p.attrs.type;
    if (type !== undefined && type !== 'unavailable') return;
    const set = this.resources.get(from.bare) ?? new Set();
    if (type === 'unavailable') set.delete(from.full);
    else set.add(from.full);
    this.resources.set(from.bare, set);
    if (type === undefined) {
      this.emit('generating', { jid: from.full, generating: isGenerating(p) });
      const ready = this.presenceWaiters.filter((w) => w.bare === from.bare);
      this.presenceWaiters = this.presenceWaiters.filter((w) => w.bare !== from.bare);
      for (const w of ready) w.resolve();
    }
  }

  // ---------------------------------------------------------------- direct exchange

  private async answerDirect(iq: Element): Promise<Element> {
    const requester = tryParseJid(iq.attrs.from);
    // XEP-0189 §7 / RFC 6120 §8.3.3.19: a refusal must not reveal that we are here, so service-unavailable.
    if (!requester || !this.opts.directAccess || !(await this.opts.directAccess(requester))) throw new StanzaError('service-unavailable');
    const pk = this.opts.ownKey?.();
    if (!pk) throw new StanzaError('item-not-found', 'no key available');
    return buildPubkey(pk);
  }

  /** XEP-0189 §7: asks one full JID for its key and records it. */
  async requestDirect(fullJid: string): Promise<KeyEvent> {
    const to = parseJid(fullJid);
    let lastErr: unknown;
    // Ask in our version first, then the other one (a 0.13 client only knows urn:xmpp:pubkey:1).
    for (const v of this.version === 2 ? ([2, 1] as const) : ([1, 2] as const)) {
      try {
        const r = await this.client.iq(x('iq', { type: 'get', to: to.full }, x('pubkey', { xmlns: PUBKEY_NS[v] })), this.timeoutMs);
        const el = r.elements.find((c) => c.is('pubkey') && pubkeyVersionOf(c.ns) !== undefined);
        if (!el) throw new KeyOpError('not-found', `${to.full} answered without a key`);
        return await this.acceptKey(to.bare, el, 'direct');
      } catch (e) {
        lastErr = e;
        if (!(e instanceof IqError && (e.condition === 'feature-not-implemented' || e.condition === 'bad-request'))) break;
      }
    }
    throw lastErr;
  }

  /** XEP-0189 §8: sends our key in a message. */
  sendKey(to: string, pk: Pubkey, body?: string): void {
    this.client.send(x('message', { to: parseJid(to).full, type: 'normal' }, body ? x('body', null, body) : undefined, buildPubkey(pk)));
  }

  /** Sends a revocation or attestation in a message (e.g. an attestation to the key's owner). */
  sendPayload(to: string, payload: Element, body?: string): void {
    this.client.send(x('message', { to: parseJid(to).full, type: 'normal' }, body ? x('body', null, body) : undefined, payload));
  }

  // ---------------------------------------------------------------- fetching

  /**
   * A contact's keys: from their PEP nodes (keys, then revocations and attestations); when PEP gives nothing,
   * directly from their available resources (or the full JID given). Each key goes through the trust store.
   */
  async fetch(jid: string, opts: { presenceWaitMs?: number } = {}): Promise<FetchResult> {
    const target = parseJid(jid);
    if (target.resource) {
      const k = await this.requestDirect(target.full);
      return { jid: target.bare, source: 'direct', keys: [k], revocations: [], attestations: [] };
    }
    const bare = target.bare;
    let pepProblem: string | undefined;
    const keys: KeyEvent[] = [];
    for (const v of this.version === 2 ? ([2, 1] as const) : ([1, 2] as const)) {
      try {
        const items = await getItems(this.client, bare, PUBKEY_NS[v], this.timeoutMs);
        for (const it of items) if (it.payload) keys.push(await this.acceptKey(bare, it.payload, 'pep').catch((e) => this.invalid(bare, 'pep', e)) as KeyEvent);
        if (items.length) break;
        pepProblem ??= `${bare} has published no key`;
      } catch (e) {
        const msg = explainRetrieveError(e, bare, PUBKEY_NS[v]);
        // Keep the most telling reason: an access refusal beats "nothing on the other version's node".
        if (!pepProblem || !(e instanceof IqError && e.condition === 'item-not-found')) pepProblem = msg;
        if (e instanceof ClientError) break;
      }
    }
    const accepted = keys.filter((k) => k);
    if (accepted.length) {
      const revocations = await this.fetchRevocations(bare);
      const attestations = await this.fetchAttestations(bare);
      return { jid: bare, source: 'pep', keys: accepted, revocations, attestations };
    }
    // XEP-0189 §7: PEP did not work out; ask the contact's clients directly.
    await this.waitForPresence(bare, opts.presenceWaitMs ?? 1500);
    const fulls = this.resourcesOf(bare);
    const direct: KeyEvent[] = [];
    const problems: string[] = [];
    for (const full of fulls) {
      try {
        direct.push(await this.requestDirect(full));
      } catch (e) {
        problems.push(`${full}: ${e instanceof IqError ? e.condition : (e as Error).message}`);
      }
    }
    if (direct.length) return { jid: bare, source: 'direct', keys: direct, revocations: [], attestations: [], pepProblem: pepProblem! };
    const tail = fulls.length ? `; asking ${bare}'s clients directly failed too (${problems.join(', ')})` : `; no client of ${bare} is online to ask directly`;
    const kind = /share|only with|not-authorized|forbidden/.test(pepProblem ?? '') ? 'refused' : 'not-found';
    throw new KeyOpError(kind, `${pepProblem ?? `${bare} has published no key`}${tail}`);
  }

  /** Revocations on the contact's revoke nodes, applied to the trust store when their signatures check out. */
  async fetchRevocations(bare: string): Promise<RevocationEvent[]> {
    const out: RevocationEvent[] = [];
    for (const v of [2, 1] as const) {
      let items;
      try {
        items = await getItems(this.client, bare, REVOKE_NS[v], this.timeoutMs);
      } catch {
        continue; // no revoke node is the normal case
      }
      for (const it of items) if (it.payload) out.push(await this.acceptRevocation(bare, it.payload, 'pep'));
    }
    return out;
  }

  async fetchAttestations(bare: string): Promise<AttestationEvent[]> {
    const out: AttestationEvent[] = [];
    for (const v of [2, 1] as const) {
      let items;
      try {
        items = await getItems(this.client, bare, ATTEST_NS[v], this.timeoutMs);
      } catch {
        continue;
      }
      for (const it of items) if (it.payload) {
        const ev = await this.acceptAttestation(bare, it.payload, 'pep').catch(() => undefined);
        if (ev) out.push(ev);
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- incoming payloads → trust store

  private async onMessage(m: Element): Promise<void> {
    const from = tryParseJid(m.attrs.from);
    if (!from || m.attrs.type === 'error') return;
    try {
      const ev = parsePepEvent(m);
      if (ev) {
        const publisher = tryParseJid(ev.from)?.bare;
        if (!publisher) return;
        for (const it of ev.items) {
          if (!it.payload) continue;
          if (pubkeyVersionOf(ev.node) !== undefined) await this.acceptKey(publisher, it.payload, 'notification').catch((e) => this.invalid(publisher, 'notification', e));
          else if (revokeVersionOf(ev.node) !== undefined) await this.acceptRevocation(publisher, it.payload, 'notification');
          else if (attestVersionOf(ev.node) !== undefined) await this.acceptAttestation(publisher, it.payload, 'notification').catch((e) => this.invalid(publisher, 'notification', e));
        }
        return;
      }
      for (const el of m.elements) {
        if (el.is('pubkey') && pubkeyVersionOf(el.ns) !== undefined) await this.acceptKey(from.bare, el, 'message').catch((e) => this.invalid(from.bare, 'message', e));
        else if ((el.is('revoke') || el.is('revocation')) && revokeVersionOf(el.ns) !== undefined) await this.acceptRevocation(from.bare, el, 'message');
        else if (el.is('attest') && attestVersionOf(el.ns) !== undefined) await this.acceptAttestation(from.bare, el, 'message').catch((e) => this.invalid(from.bare, 'message', e));
      }
    } catch (e) {
      this.invalid(from.bare, 'message', e);
    }
  }

  private invalid(jid: string, source: KeySource, e: unknown): undefined {
    this.emit('invalid', { jid, source, reason: (e as Error).message });
    return undefined;
  }

  /** Checks a received <pubkey/> (its print, and that it names the JID that sent it) and records it. */
  private async acceptKey(bare: string, el: Element, source: KeySource): Promise<KeyEvent> {
    const pk = parsePubkey(el);
    assertPubkeyPrint(pk);
    if (parseJid(pk.jid).bare !== bare) throw new KeyError('bad-payload', `the key from ${bare} claims to belong to ${pk.jid}`);
    const result = await this.trust.observe(bare, observedFromPubkey(pk));
    const ev: KeyEvent = { jid: bare, pubkey: pk, source, result };
    this.emit('key', ev);
    return ev;
  }

  /**
   * A revocation counts only when signed by a key of that contact we know (XEP-0189 §4): the signer is looked up
   * by revocationprint among the contact's keys in the trust store.
   */
  private async acceptRevocation(bare: string, el: Element, source: KeySource): Promise<RevocationEvent> {
    let rev: Revocation;
    try {
      rev = parseRevocation(el);
    } catch (e) {
      const ev: RevocationEvent = { jid: bare, source, outcome: { ok: false, code: 'bad-payload', message: (e as Error).message }, revocation: undefined as unknown as Revocation };
      this.emit('revocation', ev);
      return ev;
    }
    const known = await this.knownPubkeys(bare);
    const signer = known.find((pk) => printMatches(rev.revocationprint, pubkeyPrintBytesSafe(pk, rev.revocationprint.algo)));
    const revoked = known.find((pk) => printMatches(rev.keyprint, pubkeyPrintBytesSafe(pk, rev.keyprint.algo)));
    let ev: RevocationEvent;
    if (!signer) {
      ev = { jid: bare, revocation: rev, source, outcome: { ok: false, code: 'trust-conflict', message: `the revocation is signed by a key of ${bare} we do not know` } };
    } else {
      const outcome = await this.trust.applyRevocation(bare, rev, revoked ? { signer: verifierFromPubkey(signer), revoked } : { signer: verifierFromPubkey(signer) });
      ev = { jid: bare, revocation: rev, source, outcome: outcome.ok ? { ok: true } : outcome };
      if (outcome.ok && outcome.record) ev.record = outcome.record;
    }
    this.emit('revocation', ev);
    return ev;
  }

  private async acceptAttestation(bare: string, el: Element, source: KeySource): Promise<AttestationEvent> {
    const att = parseAttestation(el);
    const ev: AttestationEvent = { jid: bare, attestation: att, source };
    // The attested key: one of the publisher's keys, or (for an attestation sent to us) one of ours is not
    // in the trust store; the signer: a key of signerjid we know.
    const subjects = await this.knownPubkeys(bare);
    const signers = await this.knownPubkeys(att.signerjid);
    const subject = subjects.find((pk) => printMatches(att.keyprint, pubkeyPrintBytesSafe(pk, att.keyprint.algo)));
    const signer = signers.find((pk) => printMatches(att.signerprint, pubkeyPrintBytesSafe(pk, att.signerprint.algo)));
    if (subject && signer) ev.outcome = await verifyAttestation(att, { subject, signer: verifierFromPubkey(signer) });
    this.emit('attestation', ev);
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

const DIRECT_PATHS = 'you can still send your key directly with `pepkeys key send JID` (a <message/>), or keep `pepkeys key watch` running so contacts can request it directly (XEP-0189 §7)';

function printHex(fp: { algo: Parameters<typeof decodePrint>[0]['algo']; value: string }): string | undefined {
  return decodePrint(fp)?.toString('hex');
}

function pubkeyPrintBytesSafe(pk: Pubkey, algo: Parameters<typeof decodePrint>[0]['algo']): Buffer {
  return pubkeyPrintBytes(pk, algo);
}
