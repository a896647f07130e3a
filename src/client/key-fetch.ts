// A contact's keys: from their PEP nodes (keys, then revocations and attestations); when PEP gives nothing,
// directly from their available clients (XEP-0189 §7). Everything goes through the trust store.
import { parseJid } from '../jid/index.ts';
import { ATTEST_NS, PUBKEY_NS, REVOKE_NS, type PayloadVersion } from '../protocol/xep0189.ts';
import type { XmppClient } from './client.ts';
import { ClientError, IqError, KeyOpError, type KeyProblem } from './errors.ts';
import { versionsFrom } from './key-features.ts';
import type { KeyEvent, RevocationEvent, AttestationEvent } from './key-events.ts';
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
      return { jid: target.bare, source: 'direct', keys: [k], revocations: [], attestations: [] };
    }
    const bare = target.bare;
    const { keys, problem } = await this.fromPep(bare);
    if (keys.length) {
      const revocations = await this.fetchRevocations(bare);
      const attestations = await this.fetchAttestations(bare);
      return { jid: bare, source: 'pep', keys, revocations, attestations };
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
    if (direct.length) return { jid: bare, source: 'direct', keys: direct, revocations: [], attestations: [], ...(problem ? { pepProblem: problem.message } : {}) };
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
          const ev = await this.ingest.acceptKey(bare, it.payload, 'pep', { node: PUBKEY_NS[v], item: it }).catch((e) => {
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

  /** Revocations on the contact's revoke nodes, applied to the trust store when their signatures check out. */
  async fetchRevocations(bare: string): Promise<RevocationEvent[]> {
    const out: RevocationEvent[] = [];
    for (const it of await this.itemsOfBoth(bare, REVOKE_NS)) out.push(await this.ingest.acceptRevocation(bare, it.payload!, 'pep'));
    return out;
  }

  async fetchAttestations(bare: string): Promise<AttestationEvent[]> {
    const out: AttestationEvent[] = [];
    for (const it of await this.itemsOfBoth(bare, ATTEST_NS)) {
      const ev = await this.ingest.acceptAttestation(bare, it.payload!, 'pep').catch(() => undefined);
      if (ev) out.push(ev);
    }
    return out;
  }

  /** Items with a payload on both versions of a node (2 first); a missing node is the normal case. */
  private async itemsOfBoth(bare: string, nodes: Record<1 | 2, string>): Promise<PubsubItem[]> {
    const out: PubsubItem[] = [];
    for (const v of [2, 1] as const) {
      try {
        out.push(...(await getItems(this.client, bare, nodes[v], this.timeoutMs)).filter((it) => it.payload));
      } catch {
        continue;
      }
    }
    return out;
  }
}
