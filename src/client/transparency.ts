// The client side of a domain's key-transparency log (docs/transparency.md "Client"): fetch and verify the
// latest signed tree head, prove it consistent with the last head verified for the domain, prove a leaf's
// inclusion, and audit the whole log. The domain's log key is pinned on first use, like a contact's key in
// the trust store: the first head seen names it, and a head signed by any other key is refused after that.
import { x, type Element } from '../xml/index.ts';
import { parseJid } from '../jid/index.ts';
import { equalHashes, leafHash, sha256 } from '../transparency/hash.ts';
import { verifyConsistency } from '../transparency/consistency.ts';
import { verifyInclusion } from '../transparency/inclusion.ts';
import { decodeLeaf, type KeyEvent } from '../transparency/leaf.ts';
import { KtFormatError, NS_KT, parseHashes, parseTreeHead, uint, unb64 } from '../transparency/protocol.ts';
import { logKeyId, verifyTreeHead, type SignedTreeHead } from '../transparency/tree-head.ts';
import { appendToFrontier, EMPTY_FRONTIER } from '../transparency/frontier.ts';
import { frontierRoot, type AuditCheckpoint } from './kt-audit-state.ts';
import { parseKeyRotation, verifyKeyRotation, type KeyRotation } from '../transparency/key-rotation.ts';
import { IqError } from './errors.ts';
import type { XmppClient } from './client.ts';
import { KtVerifyError } from './kt-errors.ts';
import type { KtHeadStore } from './kt-head-store.ts';
import type { PubsubItem } from './pubsub.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A log size and its root, as a tree head (or a map head: its log size and log root) states them. */
export interface LogPoint {
  size: number;
  root: Uint8Array;
}

export interface HeadUpdate {
  head: SignedTreeHead;
  /** The head verified before this one (undefined on first use of the domain). */
  previous?: SignedTreeHead;
}

export interface AuditResult extends HeadUpdate {
  /** Entries downloaded and checked by this audit: [start, head.size). */
  entries: number;
  start: number;
  /** What the next audit starts from. */
  checkpoint: AuditCheckpoint;
  /** Key events by type. */
  types: Record<string, number>;
}

export class KtClient {
  /** Log key rotations followed by the last fetchHead of each domain (for the caller to report). */
  readonly rotated = new Map<string, KeyRotation[]>();

  constructor(private readonly client: XmppClient, private readonly store: KtHeadStore, private readonly timeoutMs?: number) {}

  /** Sends one request; the answer's element is named like the request, but <head/> answers <tree-head/>. */
  private async ask(domain: string, payload: Element, answer = payload.local): Promise<Element> {
    const r = await this.client.iq(x('iq', { type: 'get', to: domain }, payload), this.timeoutMs);
    const el = r.getChild(answer, NS_KT);
    if (!el) throw new KtVerifyError('bad-answer', `${domain} answered <${payload.local}/> without a <${answer}/>`, domain);
    return el;
  }

  private parse<T>(domain: string, what: string, f: () => T): T {
    try {
      return f();
    } catch (err) {
      if (err instanceof KtFormatError) throw new KtVerifyError('bad-answer', `${domain} sent a malformed ${what}: ${err.message}`, domain);
      throw err;
    }
  }

  /** The latest head, signature and pinned key checked. `fresh` asks the domain to sign one now. */
  async fetchHead(domain: string, fresh = false): Promise<SignedTreeHead> {
    const el = await this.ask(domain, x('head', { xmlns: NS_KT, ...(fresh ? { fresh: 'true' } : {}) }), 'tree-head');
    const head = this.parse(domain, 'tree head', () => parseTreeHead(el));
    if (head.domain !== domain) throw new KtVerifyError('wrong-domain', `${domain} sent a tree head for ${head.domain}`, domain);
    if (!verifyTreeHead(head)) throw new KtVerifyError('bad-signature', `the tree head of ${domain} (size ${head.size}) has a signature that does not verify`, domain);
    const pinned = await this.store.get(domain);
    if (pinned && !equalHashes(pinned.key, head.key)) {
      const chain = await this.rotationChain(domain, pinned.key, head.key);
      if (!chain) throw new KtVerifyError('key-changed', `the tree head of ${domain} is signed by log key ${logKeyId(head.key)}, not by ${logKeyId(pinned.key)} pinned on first use, and ${domain} shows no rotation to it signed by the pinned key`, domain);
      this.rotated.set(domain, chain);
    }
    return head;
  }

  /**
   * The domain's rotation statements leading from the pinned key to `to`, each signed by the key before it
   * (docs/transparency.md "Log key and rotation"); undefined when there is no such chain.
   */
  private async rotationChain(domain: string, from: Uint8Array, to: Uint8Array): Promise<KeyRotation[] | undefined> {
    return rotationPath(await this.keyRotations(domain), domain, from, to);
  }

  /** The domain's rotation statements as served (none when it does not answer the request). */
  async keyRotations(domain: string): Promise<KeyRotation[]> {
    let el: Element;
    try {
      el = await this.ask(domain, x('key-rotations', { xmlns: NS_KT }));
    } catch (err) {
      if (err instanceof IqError) return [];
      throw err;
    }
    return this.parse(domain, 'key rotation', () => el.getChildren('key-rotation', NS_KT).map(parseKeyRotation));
  }

  /** Proves `newer` extends `older` (both verified heads of `domain`, or the log a verified map head names). */
  async verifyConsistent(domain: string, older: LogPoint, newer: LogPoint): Promise<void> {
    if (newer.size < older.size) {
      throw new KtVerifyError('shrunk', `${domain} now serves a log of ${newer.size} entries, but a head of ${older.size} entries was verified before: history was removed`, domain);
    }
    let ok: boolean;
    if (newer.size === older.size || older.size === 0) {
      ok = verifyConsistency(older.size, newer.size, [], older.root, newer.root);
    } else {
      const el = await this.ask(domain, x('consistency', { xmlns: NS_KT, first: String(older.size), second: String(newer.size) }));
      const proof = this.parse(domain, 'consistency proof', () => parseHashes(el));
      ok = verifyConsistency(older.size, newer.size, proof, older.root, newer.root);
    }
    if (!ok) {
      throw new KtVerifyError('inconsistent', `the log of ${domain} at ${newer.size} entries is not an extension of the one verified at ${older.size} entries (root ${hex(older.root).slice(0, 16)}…): the domain rewrote or forked its history`, domain);
    }
  }

  /**
   * Fetches the latest head, proves it consistent with the last one stored for the domain, and stores it.
   * The first head of a domain pins its log key.
   */
  async update(domain: string, fresh = false): Promise<HeadUpdate> {
    const head = await this.fetchHead(domain, fresh);
    const previous = await this.store.get(domain);
    if (previous) await this.verifyConsistent(domain, previous, head);
    // Never replace a head with an older one of the same size (a replayed answer).
    if (!previous || head.size > previous.size || head.time > previous.time) await this.store.put(head);
    return previous ? { head, previous } : { head };
  }

  /** Proves leaf `seq` is in the tree of `head`; returns its event. */
  async verifyInclusion(domain: string, seq: number, head: SignedTreeHead): Promise<KeyEvent> {
    const el = await this.ask(domain, x('inclusion', { xmlns: NS_KT, seq: String(seq), size: String(head.size) }));
    const { leaf, proof } = this.parse(domain, 'inclusion proof', () => ({ leaf: unb64(el.getChildText('leaf') ?? undefined), proof: parseHashes(el) }));
    if (!verifyInclusion(seq, head.size, leafHash(leaf), proof, head.root)) {
      throw new KtVerifyError('inclusion', `${domain} could not prove entry ${seq} is in its log of ${head.size} entries`, domain);
    }
    return this.decode(domain, seq, leaf);
  }

  private decode(domain: string, seq: number, leaf: Uint8Array): KeyEvent {
    let e: KeyEvent;
    try {
      e = decodeLeaf(leaf);
    } catch (err) {
      throw new KtVerifyError('bad-leaf', `entry ${seq} of the log of ${domain} does not decode: ${(err as Error).message}`, domain);
    }
    if (e.seq !== seq) throw new KtVerifyError('bad-leaf', `entry ${seq} of the log of ${domain} says it is entry ${e.seq}`, domain);
    return e;
  }

  /**
   * Downloads the entries of the log up to the latest head, decodes each, recomputes the root and checks it
   * against the head, after proving the head consistent with the last one stored. From a checkpoint (the
   * last audit, src/client/kt-audit-state.ts) only the entries after it are downloaded: the new head is
   * proven consistent with the audited one and the new entries are folded into its frontier. The head is
   * stored only when all of it holds; the caller keeps the returned checkpoint.
   */
  async audit(domain: string, onProgress?: (done: number, total: number) => void, from?: AuditCheckpoint): Promise<AuditResult> {
    const head = await this.fetchHead(domain, true);
    const previous = await this.store.get(domain);
    if (previous) await this.verifyConsistent(domain, previous, head);
    if (from) await this.verifyConsistent(domain, from.head, head);
    let frontier = from?.frontier ?? EMPTY_FRONTIER;
    const start = frontier.size;
    const types: Record<string, number> = {};
    while (frontier.size < head.size) {
      const at = frontier.size;
      const el = await this.ask(domain, x('entries', { xmlns: NS_KT, start: String(at), end: String(head.size), size: String(head.size) }));
      const entries = el.getChildren('entry');
      if (entries.length === 0) throw new KtVerifyError('root-mismatch', `${domain} served no entries from ${at} although its head has ${head.size}`, domain);
      for (const [i, en] of entries.entries()) {
        const seq = at + i;
        const claimed = this.parse(domain, 'entry', () => uint(en.attrs.seq, 'seq'));
        if (claimed !== seq) throw new KtVerifyError('bad-leaf', `${domain} served entry ${claimed} where entry ${seq} belongs`, domain);
        const leaf = this.parse(domain, 'entry', () => unb64(en.text()));
        const e = this.decode(domain, seq, leaf);
        types[e.type] = (types[e.type] ?? 0) + 1;
        frontier = appendToFrontier(frontier, leafHash(leaf)).next;
        if (frontier.size === head.size) break;
      }
      onProgress?.(frontier.size, head.size);
    }
    const root = frontierRoot(frontier);
    if (!equalHashes(root, head.root)) {
      const which = start ? `${head.size} entries (the ${head.size - start} after the ${start} audited before)` : `${head.size} entries`;
      throw new KtVerifyError('root-mismatch', `the ${which} ${domain} served hash to root ${hex(root)}, not to the signed root ${hex(head.root)}: the entries are not the log the domain signed`, domain);
    }
    if (!previous || head.size > previous.size || head.time > previous.time) await this.store.put(head);
    return { head, ...(previous ? { previous } : {}), entries: head.size - start, start, types, checkpoint: { head, frontier, auditedAt: Date.now() } };
  }

  /**
   * Proves that an item served on `owner`'s PEP node is logged: the newest event the log lists for that
   * node and item is its publish, with the payload hash of the payload as served, and that leaf is in a
   * fresh head proven consistent with the stored one. Stage 1 cannot prove the list of `owner`'s events is
   * complete (a later retraction left out): that is Stage 2's verifiable map.
   */
  async verifyPublished(owner: string, node: string, item: PubsubItem): Promise<{ head: SignedTreeHead; event: KeyEvent }> {
    const jid = parseJid(owner);
    const domain = jid.domain;
    const { head } = await this.update(domain, true);
    const what = `${jid.bare}'s item ${item.id ?? '(no id)'} on ${node}`;
    let newest: KeyEvent | undefined;
    for (const event of await this.entriesOf(jid.bare, head)) {
      const concerns = event.node === node && (event.itemId === item.id || event.type === 'purge' || event.type === 'delete');
      if (concerns && (!newest || event.seq > newest.seq)) newest = event;
    }
    if (!newest) throw new KtVerifyError('not-logged', `${what} is not in the log of ${domain} (${head.size} entries)`, domain);
    const event = newest;
    if (event.type !== 'publish') throw new KtVerifyError('not-logged', `${what} is served, but the log of ${domain} says it was removed (a ${event.type}, entry ${event.seq})`, domain);
    const served = sha256(Buffer.from(item.payload?.toString() ?? '', 'utf8'));
    if (!event.payloadHash || !equalHashes(event.payloadHash, served)) {
      throw new KtVerifyError('not-logged', `${what} is not the payload the log of ${domain} records for it (entry ${event.seq})`, domain);
    }
    return { head, event };
  }

  /**
   * The events of `bare` (a JID of `head`'s domain) with sequence numbers in [from, head.size), each proven
   * included in `head` (`inclusion`) and checked to be about `bare` (`bad-answer`). Stage 1 cannot prove the
   * list complete: a server can leave an entry out (Stage 2's map would show it).
   */
  async entriesOf(bare: string, head: SignedTreeHead, from = 0): Promise<KeyEvent[]> {
    const domain = head.domain;
    const out: KeyEvent[] = [];
    while (from < head.size) {
      const el = await this.ask(domain, x('entries-of', { xmlns: NS_KT, jid: bare, size: String(head.size), from: String(from) }));
      const entries = el.getChildren('entry');
      for (const en of entries) {
        const { seq, leaf, proof } = this.parse(domain, 'entry', () => ({ seq: uint(en.attrs.seq, 'seq'), leaf: unb64(en.getChildText('leaf') ?? undefined), proof: parseHashes(en) }));
        const event = this.decode(domain, seq, leaf);
        if (event.jid !== bare || seq < from) throw new KtVerifyError('bad-answer', `${domain} listed entry ${seq} (of ${event.jid}) among ${bare}'s entries from ${from}`, domain);
        if (!verifyInclusion(seq, head.size, leafHash(leaf), proof, head.root)) {
          throw new KtVerifyError('inclusion', `${domain} could not prove entry ${seq} (of ${bare}) is in its log of ${head.size} entries`, domain);
        }
        out.push(event);
        from = seq + 1;
      }
      if (el.attrs.complete === 'true' || entries.length === 0) break;
    }
    return out;
  }
}

/**
 * The statements among `all` that lead from log key `from` to `to`, each verifying with the key before it;
 * undefined when they do not (an empty chain when the keys are equal).
 */
export function rotationPath(all: KeyRotation[], domain: string, from: Uint8Array, to: Uint8Array): KeyRotation[] | undefined {
  const chain: KeyRotation[] = [];
  let at = from;
  while (!equalHashes(at, to)) {
    const next = all.find((r) => r.domain === domain && equalHashes(r.oldKey, at) && verifyKeyRotation(r) && !chain.includes(r));
    if (!next) return undefined;
    chain.push(next);
    at = next.newKey;
  }
  return chain;
}
