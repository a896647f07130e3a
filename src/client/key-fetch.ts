// A contact's keys: from their PEP nodes (keys, then revocations and attestations); when PEP gives nothing,
// directly from their available clients (XEP-0189 §7). Everything goes through the trust store.
import { parseJid } from '../jid/index.ts';
import { ATTEST_NS, PUBKEY_NS, REVOKE_NS, type PayloadVersion } from '../protocol/xep0189.ts';
import type { XmppClient } from './client.ts';
import { ClientError, IqError, KeyOpError, type KeyProblem } from './errors.ts';
import { versionsFrom } from './key-features.ts';
import type { KeyEvent, RevocationEvent, AttestationEvent, RefusedEvent } from './key-events.ts';
import { KeyNotAdmitted, type KeyIngest } from './key-ingest.ts';
import type { DirectKeys } from './key-direct.ts';
import type { PresenceTracker } from './presence-tracker.ts';
import { getItems, type PubsubItem } from './pubsub.ts';
import { retrieveProblem } from './pubsub-problems.ts';

export interface FetchResult {
  jid: string;
  source: 'pep' | 'direct';
  keys: KeyEvent[];
  revocations: RevocationEvent[];
  attestations: AttestationEvent[];
  /** Revocations and attestations the admission check (`verifyLog`) refused: not applied. */
  refused: RefusedEvent[];
  /** Why PEP failed when the direct path was used. */
  pepProblem?: string;
}

export class KeyFetcher {
  constructor(
    private readonly client: XmppClient,
    private readonly ingest: KeyIngest,
    private readonly direct: DirectKeys,
    private readonly presence: PresenceTracker,
    private readonly version: PayloadVersion,
    private readonly timeoutMs: number,
    /** Sends our initial presence (RFC 6121 §4.2), after which the server sends us our contacts' presence. */
    private readonly goOnline: () => void,
  ) {}

  async fetch(jid: string, opts: { presenceWaitMs?: number } = {}): Promise<FetchResult> {
    const target = parseJid(jid);
    if (target.resource) {
      const k = await this.direct.request(target.full);
      return { jid: target.bare, source: 'direct', keys: [k], revocations: [], attestations: [], refused: [] };
    }
    const bare = target.bare;
    const { keys, problem } = await this.fromPep(bare);
    if (keys.length) {
      const refused: RefusedEvent[] = [];
      const revocations = await this.fetchRevocations(bare, refused);
      const attestations = await this.fetchAttestations(bare, refused);
      return { jid: bare, source: 'pep', keys, revocations, attestations, refused };
    }
    // XEP-0189 §7: PEP did not work out; ask the contact's clients directly. Which ones are online we learn
    // only from their presence, which the server sends after our own initial presence (RFC 6121 §4.2.2).
    if (!this.client.available) this.goOnline();
    await this.presence.waitFor(bare, opts.presenceWaitMs ?? 1500);
    const fulls = this.presence.resourcesOf(bare);
    const direct: KeyEvent[] = [];
    const failures: string[] = [];
    for (const full of fulls) {
      try {
        direct.push(await this.direct.request(full));
      } catch (e) {
        failures.push(`${full}: ${e instanceof IqError ? e.condition : (e as Error).message}`);
      }
    }
    if (direct.length) return { jid: bare, source: 'direct', keys: direct, revocations: [], attestations: [], refused: [], ...(problem ? { pepProblem: problem.message } : {}) };
    const tail = fulls.length ? `; asking ${bare}'s clients directly failed too (${failures.join(', ')})` : `; no client of ${bare} is online to ask directly`;
    const why: KeyProblem = problem ?? { code: 'no-key', message: `${bare} has published no key` };
    throw new KeyOpError(why.code, `${why.message}${tail}`);
  }

  /** The keys on the pubkey nodes (our version first); when there are none, the most telling reason why. */
  private async fromPep(bare: string): Promise<{ keys: KeyEvent[]; problem: KeyProblem | undefined }> {
    let problem: KeyProblem | undefined;
    const keys: KeyEvent[] = [];
    for (const v of versionsFrom(this.version)) {
      try {
        const items = await getItems(this.client, bare, PUBKEY_NS[v], this.timeoutMs);
        for (const it of items) {
          if (!it.payload) continue;
          // A key the admission check refused fails the fetch: it must be said, not skipped.
          const ev = await this.ingest.acceptKey(bare, it.payload, 'pep', { node: PUBKEY_NS[v], item: it, served: items }).catch((e) => {
            if (e instanceof KeyNotAdmitted) throw e;
            return this.ingest.invalid(bare, 'pep', e);
          });
          if (ev) keys.push(ev);
        }
        if (items.length) break;
        problem ??= { code: 'no-key', message: `${bare} has published no key` };
      } catch (e) {
        if (e instanceof KeyNotAdmitted) throw e;
        // Keep the most telling reason: an access refusal beats "nothing on the other version's node".
        if (!problem || !(e instanceof IqError && e.condition === 'item-not-found')) problem = retrieveProblem(e, bare, PUBKEY_NS[v]);
        if (e instanceof ClientError) break;
      }
    }
    return { keys, problem };
  }

  /**
   * Revocations on the contact's revoke nodes, applied to the trust store when their signatures check out;
   * those the admission check refuses go to `refused`, not applied.
   */
  async fetchRevocations(bare: string, refused: RefusedEvent[] = []): Promise<RevocationEvent[]> {
    const out: RevocationEvent[] = [];
    for (const { node, item, served } of await this.itemsOfBoth(bare, REVOKE_NS)) {
      const ev = await this.ingest.acceptRevocation(bare, item.payload!, 'pep', { node, item, served }).catch((e) => this.refusedOr(e, refused));
      if (ev) out.push(ev);
    }
    return out;
  }

  async fetchAttestations(bare: string, refused: RefusedEvent[] = []): Promise<AttestationEvent[]> {
    const out: AttestationEvent[] = [];
    for (const { node, item, served } of await this.itemsOfBoth(bare, ATTEST_NS)) {
      const ev = await this.ingest.acceptAttestation(bare, item.payload!, 'pep', { node, item, served }).catch((e) => this.refusedOr(e, refused));
      if (ev) out.push(ev);
    }
    return out;
  }

  /** A refusal is kept (and reported); any other failure skips the item, as before. */
  private refusedOr(e: unknown, refused: RefusedEvent[]): undefined {
    if (e instanceof KeyNotAdmitted) refused.push(this.ingest.refused(e));
    return undefined;
  }

  /** Items with a payload on both versions of a node (2 first), with their node; a missing node is the normal case. */
  private async itemsOfBoth(bare: string, nodes: Record<1 | 2, string>): Promise<{ node: string; item: PubsubItem; served: PubsubItem[] }[]> {
    const out: { node: string; item: PubsubItem; served: PubsubItem[] }[] = [];
    for (const v of [2, 1] as const) {
      try {
        const items = await getItems(this.client, bare, nodes[v], this.timeoutMs);
        out.push(...items.filter((it) => it.payload).map((item) => ({ node: nodes[v], item, served: items })));
      } catch {
        continue;
      }
    }
    return out;
  }
}
