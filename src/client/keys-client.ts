// XEP-0189 over XMPP, as one object for applications: it wires the parts, each in its own file: publishing
// (key-publish.ts), fetching (key-fetch.ts), the direct exchange (key-direct.ts), received payloads into the
// trust store (key-ingest.ts), contacts' presence (presence-tracker.ts); it advertises the key namespaces
// (+notify) in disco and caps and announces <generating/>.
import { EventEmitter } from 'node:events';
import type { Element } from '../xml/index.ts';
import type { PayloadVersion } from '../protocol/xep0189.ts';
import { buildGenerating, buildPubkey, type Pubkey, type Revocation, type Attestation, type TrustStore } from '../keys/index.ts';
import type { XmppClient } from './client.ts';
import { discoInfo } from './disco.ts';
import { keyFeatures } from './key-features.ts';
import type { KeysClientEvents, KeyEvent, RevocationEvent, AttestationEvent } from './key-events.ts';
import { KeyIngest, type KeyAdmission, type VerifierFactory } from './key-ingest.ts';
import { KeyPublisher, type OwnKeyWrite, type PublishOptions } from './key-publish.ts';
import { DirectKeys, type DirectAccessPolicy } from './key-direct.ts';
import { KeyFetcher, type FetchResult } from './key-fetch.ts';
import { PresenceTracker } from './presence-tracker.ts';
import { checkPepSupport, type PepSupport } from './pep-support.ts';

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
  /** How contacts' keys check signatures (revocations, attestations); default node:crypto. */
  verifier?: VerifierFactory;
  /** A check every received key must pass before it is recorded (e.g. ktKeyAdmission); default none. */
  admit?: KeyAdmission;
  /** Sees each of our own key writes before it is sent (e.g. to record it for `key monitor`). */
  beforePublish?: (w: OwnKeyWrite) => void | Promise<void>;
}

export class KeysClient extends EventEmitter<KeysClientEvents> {
  readonly version: PayloadVersion;
  private readonly timeoutMs: number;
  private readonly ingest: KeyIngest;
  private readonly publisher: KeyPublisher;
  private readonly direct: DirectKeys;
  private readonly presence: PresenceTracker;
  private readonly fetcher: KeyFetcher;
  private generating = false;

  constructor(readonly client: XmppClient, opts: KeysClientOptions) {
    super();
    this.version = opts.version ?? 2;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    client.setFeatures(keyFeatures(opts.notify ?? true));
    this.ingest = new KeyIngest(opts.trust, this, opts.verifier, opts.admit);
    this.publisher = new KeyPublisher(client, this.timeoutMs, opts.beforePublish);
    this.direct = new DirectKeys(client, this.ingest, this.version, this.timeoutMs, opts.ownKey, opts.directAccess);
    this.presence = new PresenceTracker(client, this);
    this.fetcher = new KeyFetcher(client, this.ingest, this.direct, this.presence, this.version, this.timeoutMs, () => this.online());
    client.on('message', (m) => void this.ingest.onMessage(m));
  }

  // ---------------------------------------------------------------- publishing

  /** XEP-0222 §5: our account must expose a PEP service (pubsub/pep identity) that supports publish-options. */
  checkPepSupport(): Promise<PepSupport> {
    return checkPepSupport(this.client, this.timeoutMs);
  }

  publishKey(pk: Pubkey, options: PublishOptions): Promise<void> {
    return this.publisher.publishKey(pk, options);
  }

  publishRevocation(rev: Revocation, options: PublishOptions): Promise<string> {
    return this.publisher.publishRevocation(rev, options);
  }

  publishAttestation(att: Attestation, subjectJid: string, options: PublishOptions): Promise<string> {
    return this.publisher.publishAttestation(att, subjectJid, options);
  }

  // ---------------------------------------------------------------- presence

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
    return this.presence.resourcesOf(bare);
  }

  /** Waits until `bare` has an available resource, or `timeoutMs` passes (resolves either way). */
  waitForPresence(bare: string, timeoutMs: number): Promise<void> {
    return this.presence.waitFor(bare, timeoutMs);
  }

  // ---------------------------------------------------------------- direct exchange and fetching

  /** XEP-0189 §7: asks one full JID for its key and records it. */
  requestDirect(fullJid: string): Promise<KeyEvent> {
    return this.direct.request(fullJid);
  }

  /** XEP-0189 §8: sends our key in a message. */
  sendKey(to: string, pk: Pubkey, body?: string): void {
    this.direct.send(to, buildPubkey(pk), body);
  }

  /** Sends a revocation or attestation in a message (e.g. an attestation to the key's owner). */
  sendPayload(to: string, payload: Element, body?: string): void {
    this.direct.send(to, payload, body);
  }

  /** A contact's keys from PEP, else directly from their clients (or the full JID given); see key-fetch.ts. */
  fetch(jid: string, opts: { presenceWaitMs?: number } = {}): Promise<FetchResult> {
    return this.fetcher.fetch(jid, opts);
  }

  fetchRevocations(bare: string): Promise<RevocationEvent[]> {
    return this.fetcher.fetchRevocations(bare);
  }

  fetchAttestations(bare: string): Promise<AttestationEvent[]> {
    return this.fetcher.fetchAttestations(bare);
  }

  /** Keys of `jid` the trust store holds as <pubkey/> payloads, parsed. */
  knownPubkeys(jid: string): Promise<Pubkey[]> {
    return this.ingest.knownPubkeys(jid);
  }
}
