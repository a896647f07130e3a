// Entity capabilities of remote contacts' resources (XEP-0115 over federation). A remote resource has no
// session here: what the server knows of it is the presence its server sent to local accounts. Each
// available remote full JID is remembered with the local accounts that received its presence ("watchers"),
// its caps looked up in the shared cache or asked by disco#info over s2s (from the watcher's domain), and
// forgotten at its unavailable presence. PEP asks which resources of a contact a local owner sees and what
// they want (+notify), exactly as for local sessions.
//
// Hostile peers: entries are bounded (`max_remote_resources`; beyond it a new resource is not tracked and
// so gets no presence-based notifications: fails closed), queries go through the per-JID rate limit and a
// cap on those in flight, and an answer that does not verify describes only the resource that gave it.
import { x, type Element } from '../../../xml/index.ts';
import type { Jid } from '../../../jid/index.ts';
import { NS_CAPS, supportedCapsHash } from '../../../protocol/xep0115.ts';
import { NS_DISCO_INFO } from '../../../protocol/xep0030.ts';
import type { Logger } from '../../core/logger.ts';
import type { parseDiscoInfo } from './index.ts';

type Answer = ReturnType<typeof parseDiscoInfo>;

export interface RemoteCapsDeps {
  logger: Logger;
  maxResources: number;
  queryTimeoutMs: number;
  isLocalDomain(domain: string): boolean;
  sendIq(iq: Element, timeoutMs: number): Promise<Element>;
  lookup(key: string): Promise<ReadonlySet<string> | undefined>;
  /** Verifies and caches an answer; its features when the hash matched. */
  learn(key: string, hash: string, ver: string, answer: Answer): Promise<ReadonlySet<string> | undefined>;
  check(jid: string, ver: string, query: Element): Answer | undefined;
  takeQuery(account: string): boolean;
  /** A watcher can now filter by the resource's features (first time known for that pair). */
  known(owner: string, jid: string): Promise<void>;
  /** Tells the other nodes of a cluster what changed here, so they filter their fan-outs alike. */
  replicate?(change: RemoteCapsChange): void;
}

/**
 * What one node learnt of a remote resource (its presence reaches one node only, the one its server's
 * stream landed on): `features` null while unknown; `owners` the local accounts it became available to.
 */
export type RemoteCapsChange = { jid: string; owners: string[]; features: string[] | null } | { jid: string; gone: string };

interface RemoteResource {
  key: string | undefined;
  features: ReadonlySet<string> | undefined;
  /** Local accounts that received its available presence, and whether `known` was told for each. */
  watchers: Map<string, boolean>;
  asking: boolean;
  /** Known from another cluster node, not from a presence received here. */
  replica?: true;
}

/** Queries in flight to remote entities at once, whatever their number. */
const MAX_REMOTE_QUERIES = 64;

export class RemoteCaps {
  /** Remote bare JID → full JID → resource. */
  private readonly byBare = new Map<string, Map<string, RemoteResource>>();
  private count = 0;
  private inFlight = 0;

  constructor(private readonly d: RemoteCapsDeps) {}

  get size(): number {
    return this.count;
  }

  features(fullJid: string): ReadonlySet<string> | undefined {
    const i = fullJid.indexOf('/');
    return i < 0 ? undefined : this.byBare.get(fullJid.slice(0, i))?.get(fullJid)?.features;
  }

  /** The available resources of a remote contact whose presence `owner` received, with known features. */
  resources(contact: string, owner: string): { jid: string; features: ReadonlySet<string> }[] {
    const out: { jid: string; features: ReadonlySet<string> }[] = [];
    for (const [jid, r] of this.byBare.get(contact) ?? []) if (r.features && r.watchers.has(owner)) out.push({ jid, features: r.features });
    return out;
  }

  /** Presence from a remote full JID to a local account (available or unavailable). */
  async presence(stanza: Element, from: Jid, to: Jid): Promise<void> {
    const type = stanza.attrs.type;
    if ((type !== undefined && type !== 'unavailable') || !from.resource || this.d.isLocalDomain(from.domain) || !to.local) return;
    const owner = to.bare;
    let perBare = this.byBare.get(from.bare);
    let r = perBare?.get(from.full);
    if (type === 'unavailable') {
      if (!r) return;
      this.unwatch(from.full, owner);
      this.d.replicate?.({ jid: from.full, gone: owner });
      return;
    }
    r = this.entry(from.full);
    if (!r) return;
    delete r.replica;
    if (!r.watchers.has(owner)) r.watchers.set(owner, false);
    try {
      await this.available(stanza, from, to, r);
    } finally {
      this.d.replicate?.({ jid: from.full, owners: [owner], features: r.features ? [...r.features] : null });
    }
  }

  /** What another cluster node learnt (replicate()); this node neither asks nor tells the watchers again. */
  apply(change: RemoteCapsChange): void {
    if ('gone' in change) return this.unwatch(change.jid, change.gone);
    const r = this.entry(change.jid);
    if (!r) return;
    if (r.watchers.size === 0) r.replica = true;
    for (const o of change.owners) r.watchers.set(o, true);
    r.features = change.features ? new Set(change.features) : undefined;
  }

  /** Forgets every replica (the bus was lost: what the other nodes learnt meanwhile is unknown). */
  dropReplicas(): void {
    for (const [bare, perBare] of this.byBare) {
      for (const [jid, r] of perBare) if (r.replica) for (const o of [...r.watchers.keys()]) this.unwatch(jid, o);
      if (perBare.size === 0) this.byBare.delete(bare);
    }
  }

  private entry(jid: string): RemoteResource | undefined {
    const bare = jid.slice(0, jid.indexOf('/'));
    let perBare = this.byBare.get(bare);
    let r = perBare?.get(jid);
    if (r) return r;
    if (this.count >= this.d.maxResources) {
      this.d.logger.info({ jid }, 'too many remote resources tracked; this one gets no caps for now');
      return undefined;
    }
    if (!perBare) this.byBare.set(bare, (perBare = new Map()));
    perBare.set(jid, (r = { key: undefined, features: undefined, watchers: new Map(), asking: false }));
    this.count++;
    return r;
  }

  private unwatch(jid: string, owner: string): void {
    const bare = jid.slice(0, jid.indexOf('/'));
    const perBare = this.byBare.get(bare);
    const r = perBare?.get(jid);
    if (!r) return;
    r.watchers.delete(owner);
    if (r.watchers.size === 0) {
      perBare!.delete(jid);
      this.count--;
      if (perBare!.size === 0) this.byBare.delete(bare);
    }
  }

  private async available(stanza: Element, from: Jid, to: Jid, r: RemoteResource): Promise<void> {
    const c = stanza.getChild('c', NS_CAPS);
    const hash = c?.attrs.hash;
    const ver = c?.attrs.ver;
    const node = c?.attrs.node;
    if (!hash || !ver || !node || !supportedCapsHash(hash)) {
      r.key = undefined;
      r.features = undefined;
      return;
    }
    const key = `${hash}:${ver}`;
    if (r.key !== key) {
      r.key = key;
      r.features = await this.d.lookup(key);
    }
    if (r.features) return this.announce(from.full, r);
    if (!r.asking) void this.ask(from, to.domain, r, hash, ver, node);
  }

  private async announce(jid: string, r: RemoteResource): Promise<void> {
    for (const [owner, told] of r.watchers) {
      if (told) continue;
      r.watchers.set(owner, true);
      await this.d.known(owner, jid);
    }
  }

  private async ask(from: Jid, localDomain: string, r: RemoteResource, hash: string, ver: string, node: string): Promise<void> {
    if (this.inFlight >= MAX_REMOTE_QUERIES || !this.d.takeQuery(from.bare)) {
      this.d.logger.info({ jid: from.full, ver }, 'remote caps query not sent (rate or in-flight limit); no caps for now');
      return;
    }
    const key = `${hash}:${ver}`;
    r.asking = true;
    this.inFlight++;
    try {
      const reply = await this.d.sendIq(x('iq', { type: 'get', from: localDomain, to: from.full }, x('query', { xmlns: NS_DISCO_INFO, node: `${node}#${ver}` })), this.d.queryTimeoutMs);
      const query = reply.getChild('query', NS_DISCO_INFO);
      const answer = query ? this.d.check(from.full, ver, query) : undefined;
      if (!answer || r.key !== key) return;
      const verified = await this.d.learn(key, hash, ver, answer);
      if (r.key !== key) return;
      if (!verified) this.d.logger.info({ jid: from.full, ver }, 'remote caps hash did not verify; applied to that resource only');
      r.features = verified ?? new Set(answer.features);
      this.d.replicate?.({ jid: from.full, owners: [...r.watchers.keys()], features: [...r.features] });
      await this.announce(from.full, r);
    } catch (err) {
      this.d.logger.debug({ err: (err as Error).message, jid: from.full }, 'remote caps discovery failed');
    } finally {
      this.inFlight--;
      r.asking = false;
    }
  }
}
