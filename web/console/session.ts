// What the console does, without the UI: log in over the same-origin WebSocket (RFC 7395) with the SDK's
// client, keep our Ed25519 key (WebCrypto, private half non-extractable, in IndexedDB), publish, rotate and
// revoke it through the SDK's KeysClient, and follow contacts' keys in the SDK's TrustStore.
import { XmppClient, KeysClient, RosterMirror, type RosterEntry, type PublishOptions, type KeyEvent, type RevocationEvent } from '../../src/client/index.ts';
import { TrustStore, buildAttestation, createAttestation, createRevocation, parsePubkey, type Pubkey, type TrustView } from '../../src/keys/index.ts';
import { parseXml } from '../../src/xml/index.ts';
import { pubkeyFromSpki } from '../../src/keys/pubkey.ts';
import { generateEd25519CryptoKey, spkiBase64Of, webCryptoSigner, webCryptoVerifier } from '../../src/keys/webcrypto-signing.ts';
import { Idb } from './idb.ts';
import { exportedPubkey, importEd25519Pem } from './import-key.ts';
import { IdbTrustBackend } from './trust-backend.ts';

/** Our key as kept in IndexedDB: the CryptoKeyPair (private half non-extractable) and its <pubkey/>. */
export interface OwnKey {
  pair: CryptoKeyPair;
  pubkey: Pubkey;
  created: number;
  /** How it was last published, if it was. */
  published?: Access;
}

export type Access =
  | { model: 'presence' }
  | { model: 'roster'; groups: string[] }
  | { model: 'whitelist'; jids: string[] }
  | { model: 'open' };

export interface Contact {
  entry: RosterEntry;
  keys: TrustView[];
  /** Why no key could be read (not published, or not visible to us). */
  problem?: string;
}

export interface Alert {
  jid: string;
  kind: 'changed' | 'revoked';
  print: string;
}

export type Listener = () => void;

/** Validity of a key we generate: one year (XEP-0189 <begin/>/<end/>). */
const KEY_LIFETIME_MS = 365 * 24 * 3600_000;

export function defaultWebSocketUrl(loc: Location = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/xmpp-websocket`;
}

export class ConsoleSession {
  own: OwnKey | undefined;
  contacts = new Map<string, Contact>();
  alerts: Alert[] = [];
  /** Keys we attested in this session ("jid print"). */
  private attested = new Set<string>();
  private listeners = new Set<Listener>();

  private constructor(
    readonly client: XmppClient,
    readonly keys: KeysClient,
    readonly trust: TrustStore,
    private readonly roster: RosterMirror,
    private readonly db: Idb,
  ) {}

  static async login(jid: string, password: string, websocket = defaultWebSocketUrl()): Promise<ConsoleSession> {
    // The page's own origin decides the transport's security: over https the WebSocket is wss:; a plain-http
    // console is for loopback use, where the password crosses no network.
    const client = await XmppClient.connect({ jid, password, websocket, requireTls: false, mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-1'], identity: { category: 'client', type: 'web', name: 'pepkeys console' } });
    const db = await Idb.open(client.jid.bare);
    const trust = new TrustStore(new IdbTrustBackend(db));
    const keys = new KeysClient(client, { trust, verifier: webCryptoVerifier, version: 1 });
    const roster = new RosterMirror(client);
    const s = new ConsoleSession(client, keys, trust, roster, db);
    s.own = await db.get<OwnKey>('own', 'current');
    keys.on('key', (ev) => void s.onKey(ev));
    keys.on('revocation', (ev) => void s.onRevocation(ev));
    client.on('close', () => s.changed());
    await keys.onlineAndReady(1000);
    await s.refreshContacts();
    return s;
  }

  get jid(): string {
    return this.client.jid.bare;
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  async rosterGroups(): Promise<string[]> {
    return [...new Set((await this.roster.list()).flatMap((e) => e.groups))].sort();
  }

  // ---------------------------------------------------------------- my keys

  /** A new key pair, kept but not yet published. */
  async generate(): Promise<OwnKey> {
    this.keys.announceGenerating(true);
    try {
      return await this.keep(await generateEd25519CryptoKey());
    } finally {
      this.keys.announceGenerating(false);
    }
  }

  /** An existing Ed25519 key (unencrypted PKCS#8 PEM), kept like a generated one and not yet published. */
  async importPem(text: string): Promise<OwnKey> {
    const pair = await importEd25519Pem(text);
    return this.keep(pair, exportedPubkey(text, await spkiBase64Of(pair.publicKey), this.jid));
  }

  /** Keeps a key pair as ours, with its <pubkey/> as exported, or a new one valid from now on. */
  private async keep(pair: CryptoKeyPair, exported?: Pubkey): Promise<OwnKey> {
    const now = Date.now();
    const pubkey = exported ?? pubkeyFromSpki({ spki: await spkiBase64Of(pair.publicKey), jid: this.jid, begin: new Date(now), end: new Date(now + KEY_LIFETIME_MS) });
    const own: OwnKey = { pair, pubkey, created: now };
    await this.db.put('own', 'current', own);
    this.own = own;
    this.changed();
    return own;
  }

  async publish(access: Access): Promise<void> {
    if (!this.own) throw new Error('Generate a key first.');
    await this.keys.publishKey(this.own.pubkey, publishOptions(access));
    this.own = { ...this.own, published: access };
    await this.db.put('own', 'current', this.own);
    this.changed();
  }

  /** Replaces our key: a new one published with the same access, then the old one revoked with its own signature. */
  async rotate(): Promise<void> {
    const old = this.own;
    if (!old) throw new Error('Generate a key first.');
    const access = old.published ?? { model: 'presence' };
    await this.generate();
    await this.publish(access);
    await this.revokeKey(old, access);
  }

  /** Revokes our current key (signed by itself, XEP-0189 §4) and forgets it here. */
  async revoke(): Promise<void> {
    const own = this.own;
    if (!own) throw new Error('There is no key to revoke.');
    await this.revokeKey(own, own.published ?? { model: 'presence' });
    await this.db.delete('own', 'current');
    this.own = undefined;
    this.changed();
  }

  private async revokeKey(key: OwnKey, access: Access): Promise<void> {
    const rev = await createRevocation({ revoked: key.pubkey, signer: webCryptoSigner(key.pubkey, key.pair.privateKey) });
    await this.keys.publishRevocation(rev, publishOptions(access));
  }

  // ---------------------------------------------------------------- contacts

  async refreshContacts(): Promise<void> {
    const entries = (await this.roster.list()).filter((e) => e.jid !== this.jid);
    for (const entry of entries) {
      const c: Contact = this.contacts.get(entry.jid) ?? { entry, keys: [] };
      c.entry = entry;
      this.contacts.set(entry.jid, c);
      try {
        const r = await this.keys.fetch(entry.jid, { presenceWaitMs: 0 });
        delete c.problem;
        if (!r.keys.length) c.problem = 'No key published, or none you may see.';
      } catch {
        c.problem = 'No key published, or none you may see.';
      }
      await this.reloadKeys(entry.jid);
    }
    this.changed();
  }

  async verify(jid: string, print: string): Promise<void> {
    await this.trust.verify(jid, print);
    this.alerts = this.alerts.filter((a) => !(a.jid === jid && a.print === print));
    await this.reloadKeys(jid);
    this.changed();
  }

  /**
   * Signs a contact's key with ours (XEP-0189 attestation, the SDK's createAttestation), publishes it on our
   * attestation node with our key's access and sends it to them, as `pepkeys key attest` does.
   */
  async attest(jid: string, print: string): Promise<void> {
    const own = this.own;
    if (!own?.published) throw new Error('Publish your own key first: contacts check an attestation against it.');
    const view = (await this.trust.keys(jid)).find((k) => k.print === print);
    if (!view?.payload) throw new Error(`This key of ${jid} is no longer known here: reload contacts' keys and try again.`);
    if (view.effective === 'revoked') throw new Error('This key is revoked: do not attest it.');
    const subject = parsePubkey(parseXml(view.payload));
    const att = await createAttestation({ subject, signer: webCryptoSigner(own.pubkey, own.pair.privateKey), signerJid: this.jid });
    await this.keys.publishAttestation(att, jid, publishOptions(own.published));
    this.keys.sendPayload(jid, buildAttestation(att), `${this.jid} attests your key ${formatPrint(print)}`);
    this.attested.add(`${jid} ${print}`);
    this.changed();
  }

  hasAttested(jid: string, print: string): boolean {
    return this.attested.has(`${jid} ${print}`);
  }

  dismissAlert(a: Alert): void {
    this.alerts = this.alerts.filter((x) => x !== a);
    this.changed();
  }

  async logout(): Promise<void> {
    await this.client.close();
    this.db.close();
  }

  private async reloadKeys(jid: string): Promise<void> {
    const c = this.contacts.get(jid);
    if (!c) return;
    c.keys = (await this.trust.keys(jid)).sort((a, b) => b.firstSeen - a.firstSeen);
  }

  private async onKey(ev: KeyEvent): Promise<void> {
    if (!this.contacts.has(ev.jid)) return;
    if (ev.result.kind === 'changed') this.alerts.push({ jid: ev.jid, kind: 'changed', print: ev.result.record.print });
    const c = this.contacts.get(ev.jid)!;
    delete c.problem;
    await this.reloadKeys(ev.jid);
    this.changed();
  }

  private async onRevocation(ev: RevocationEvent): Promise<void> {
    if (!ev.outcome.ok || !ev.record) return;
    this.alerts.push({ jid: ev.jid, kind: 'revoked', print: ev.record.print });
    await this.reloadKeys(ev.jid);
    this.changed();
  }
}

function publishOptions(a: Access): PublishOptions {
  // reconfigure: changing the access model of an existing node is what the chooser is for.
  const base = { reconfigure: true, sendLastPublishedItem: 'on_sub_and_presence' as const };
  switch (a.model) {
    case 'roster':
      return { ...base, accessModel: 'roster', rosterGroups: a.groups };
    case 'whitelist':
      return { ...base, accessModel: 'whitelist', whitelist: a.jids };
    default:
      return { ...base, accessModel: a.model };
  }
}

/** A print id ("sha-256:<hex>") as groups of four hex digits, the form people read out to each other. */
export function formatPrint(print: string): string {
  const hex = print.includes(':') ? print.slice(print.indexOf(':') + 1) : print;
  return hex.toUpperCase().match(/.{1,4}/g)!.join(' ');
}

/** Normalises a fingerprint typed or pasted by a person, for comparison. */
export function normalisePrint(text: string): string {
  return text.replace(/^sha-256:/i, '').replace(/[^0-9a-f]/gi, '').toLowerCase();
}
