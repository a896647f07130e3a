// XEP-0115 Entity Capabilities on the server side: remembers the caps each session announces in its
// presence, asks the client for disco#info for an unknown `ver`, verifies the hash (§5.4) and caches the
// verified result (in memory and in storage, so it survives restarts). Other modules ask the 'caps' service
// "does this full JID want NS+notify?" (XEP-0163 §4.3 filtered notifications).
//
// Hostile advertisers (issue 19 findings 5 and 6):
// - An answer is only shared once its hash verifies. Until then each advertiser of a `ver` is asked itself
//   (one query at a time per account, so one account's silent sessions cannot hold back another's), and an
//   unverified answer describes only the session that gave it (§5.4). A session whose query failed or did not
//   verify is asked again at its next presence.
// - The cache is bounded: entries (least recently used evicted, in memory and in storage), the size of one
//   answer, and the queries one account may cause per minute. A session over a limit simply has no caps:
//   it gets no caps-filtered notifications (the filter fails closed) until a later presence succeeds.
import { z } from 'zod';
import type { Element } from '../../../xml/index.ts';
import { x } from '../../../xml/index.ts';
import { defineModule, serviceKey } from '../../core/module-host.ts';
import { createSessionKey, type ModuleSession } from '../../../cluster/index.ts';
import { NS_CAPS, capsHash, capsVerificationString, supportedCapsHash, type CapsFormLike } from '../../../protocol/xep0115.ts';
import { NS_DISCO_INFO } from '../../../protocol/xep0030.ts';
import type { CapsInfo } from '../../../storage/types.ts';
import { RemoteCaps, type RemoteCapsChange } from './remote.ts';

export interface CapsService {
  /** Verified features of a bound session, or undefined while unknown. */
  features(fullJid: string): ReadonlySet<string> | undefined;
  /** XEP-0163 §4.3: true when the session's caps include `${ns}+notify`. */
  wantsNotify(fullJid: string, ns: string): boolean;
  /** Verified features of an available remote resource (its presence reached a local account), or undefined. */
  remoteFeatures(fullJid: string): ReadonlySet<string> | undefined;
  /** The available resources of remote `contact` whose presence local account `owner` received, with known caps. */
  remoteResources(contact: string, owner: string): { jid: string; features: ReadonlySet<string> }[];
  /** Sizes of the module's state, for monitoring and tests. */
  stats(): { cached: number; discovering: number; queriesInFlight: number; remote: number };
}

export const CapsService = serviceKey<CapsService>('caps');

declare module '../../core/events.ts' {
  interface ServerEvents {
    /** Fired by the caps module when a session's entity capabilities became known or changed. */
    'caps/changed': { session: ModuleSession };
    /** Fired by the caps module when the caps of a remote resource became known to a local account that receives its presence. */
    'caps/remote': { owner: string; jid: string };
  }
}

interface SessionCaps {
  key: string;
  features: ReadonlySet<string> | undefined;
  /** The features are the verified (shared) ones for `key`; otherwise none yet, or the session's own answer. */
  verified: boolean;
}

// Shared across cluster nodes: the node fanning out a notification filters every recipient by its caps.
const SESSION_CAPS = createSessionKey<SessionCaps>('caps', {
  encode: (c) => ({ key: c.key, features: c.features ? [...c.features] : null, verified: c.verified }),
  decode: (j) => {
    const c = j as { key: string; features: string[] | null; verified: boolean };
    return { key: c.key, features: c.features ? new Set(c.features) : undefined, verified: c.verified };
  },
});

export function parseDiscoInfo(query: Element): CapsInfo & { formData: CapsFormLike[] } {
  const identities = query.getChildren('identity').map((i) => ({
    category: i.attrs.category ?? '', type: i.attrs.type ?? '', name: i.attrs.name, lang: i.attrs['xml:lang'],
  }));
  const features = query.getChildren('feature').map((f) => f.attrs.var ?? '');
  const formEls = query.getChildren('x', 'jabber:x:data');
  const formData: CapsFormLike[] = [];
  for (const f of formEls) {
    const fields = f.getChildren('field');
    const ft = fields.find((fl) => fl.attrs.var === 'FORM_TYPE');
    // XEP-0115 §5.4: forms without a hidden FORM_TYPE are ignored.
    if (!ft) continue;
    formData.push({
      formType: ft.getChildText('value') ?? '',
      fields: fields.filter((fl) => fl !== ft).map((fl) => ({ var: fl.attrs.var ?? '', values: fl.getChildren('value').map((v) => v.text()) })),
    });
  }
  return { identities, features, forms: formEls.map((f) => f.toString()), formData };
}

/** One advertiser of a `ver` that is not verified yet. */
interface Advertiser {
  /** The caps node it announced (the query goes to `node#ver`). */
  node: string;
  /** queued: to be asked; asking: query in flight; done: asked, no verified answer (wait for its next presence). */
  state: 'queued' | 'asking' | 'done';
}

/** The search for a verified answer for one `hash:ver`; lives while some session advertises it unverified. */
interface Discovery {
  hash: string;
  ver: string;
  advertisers: Map<ModuleSession, Advertiser>;
  /** Accounts with a query in flight for this key: one at a time per account. */
  asking: Set<string>;
}

export const capsModule = defineModule({
  name: 'caps',
  provides: [CapsService],
  fires: ['caps/changed', 'caps/remote'],
  options: z.strictObject({
    /** Verified entries kept in memory and in storage; the least recently used are evicted. */
    max_entries: z.number().int().positive().prefault(1000),
    /** Largest accepted answer for one `ver` (identities, features and forms, as stored); larger: no caps. */
    max_info_bytes: z.number().int().positive().prefault(16 * 1024),
    /** Most features accepted in one answer; more: no caps. */
    max_features: z.number().int().positive().prefault(512),
    /** disco#info queries one account may cause per minute (new `ver`s, retries); beyond: no caps for now. */
    queries_per_minute: z.number().int().positive().prefault(10),
    /** How long to wait for a client's disco#info answer. */
    query_timeout_ms: z.number().int().positive().prefault(10_000),
    /** Available remote resources (federation) whose caps are tracked; beyond: no caps-based notifications for new ones. */
    max_remote_resources: z.number().int().positive().prefault(10_000),
  }),
  setup(api) {
    const opts = api.options;
    /** Verified features by key, least recently used first (Map order; a hit re-inserts). */
    const cache = new Map<string, { features: ReadonlySet<string>; used: number }>();
    const discoveries = new Map<string, Discovery>();
    let queriesInFlight = 0;
    /** Counts stores (puts and touches) made here: how far down storage's use order an entry has sunk. */
    let uses = 0;

    function remember(key: string, features: ReadonlySet<string>, used: number): void {
      cache.delete(key);
      cache.set(key, { features, used });
      while (cache.size > opts.max_entries) cache.delete(cache.keys().next().value!);
    }

    /** Marks use in storage too, so its eviction spares entries in use; a failure only makes one older. */
    function touchStored(key: string): number {
      api.storage.caps.touch(key).catch((err) => api.logger.warn({ err }, 'caps cache touch failed'));
      return ++uses;
    }

    async function lookup(key: string): Promise<ReadonlySet<string> | undefined> {
      const hit = cache.get(key);
      if (hit) {
        // A storage write per hit would cost a commit per login; touching once the entry has sunk halfway
        // down storage's use order keeps entries in use out of its eviction at a fraction of that.
        remember(key, hit.features, uses - hit.used >= opts.max_entries / 2 ? touchStored(key) : hit.used);
        return hit.features;
      }
      const stored = await api.storage.caps.get(key);
      if (!stored) return undefined;
      const set = new Set(stored.features);
      remember(key, set, touchStored(key));
      return set;
    }

    // Per-account token bucket: a full minute's worth of queries, refilled continuously.
    const buckets = new Map<string, { tokens: number; at: number }>();
    let pruneAt = 1024;
    function takeQuery(account: string): boolean {
      const now = Date.now();
      const perMs = opts.queries_per_minute / 60_000;
      const b = buckets.get(account) ?? { tokens: opts.queries_per_minute, at: now };
      b.tokens = Math.min(opts.queries_per_minute, b.tokens + (now - b.at) * perMs);
      b.at = now;
      buckets.set(account, b);
      if (buckets.size > pruneAt) {
        // Full buckets carry no state worth keeping.
        for (const [a, o] of buckets) if (o !== b && o.tokens + (now - o.at) * perMs >= opts.queries_per_minute) buckets.delete(a);
        pruneAt = Math.max(1024, buckets.size * 2);
      }
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    }

    const advertises = (s: ModuleSession, key: string) => !s.isClosed && s.get(SESSION_CAPS)?.key === key;

    function forget(session: ModuleSession, key: string | undefined): void {
      if (key === undefined) return;
      const d = discoveries.get(key);
      if (!d) return;
      // A query in flight finishes on its own and then pumps; only waiting entries go now.
      if (d.advertisers.get(session)?.state !== 'asking') d.advertisers.delete(session);
      if (d.advertisers.size === 0) discoveries.delete(key);
    }

    /** Starts a query for every queued advertiser whose account has none in flight for this key. */
    function pump(key: string): void {
      const d = discoveries.get(key);
      if (!d) return;
      for (const [s, a] of d.advertisers) {
        if (!advertises(s, key)) {
          if (a.state !== 'asking') d.advertisers.delete(s);
          continue;
        }
        if (a.state !== 'queued' || d.asking.has(s.jid.bare)) continue;
        if (!takeQuery(s.jid.bare)) {
          api.logger.info({ jid: s.jid.full, ver: d.ver }, 'caps query rate exceeded; session has no caps for now');
          a.state = 'done';
          continue;
        }
        a.state = 'asking';
        d.asking.add(s.jid.bare);
        void ask(d, key, s, a);
      }
      if (d.advertisers.size === 0) discoveries.delete(key);
    }

    async function ask(d: Discovery, key: string, session: ModuleSession, a: Advertiser): Promise<void> {
      queriesInFlight++;
      let verified: ReadonlySet<string> | undefined;
      try {
        const reply = await api.sendIq(
          x('iq', { type: 'get', from: session.jid.domain, to: session.jid.full }, x('query', { xmlns: NS_DISCO_INFO, node: `${a.node}#${d.ver}` })),
          opts.query_timeout_ms,
        );
        const query = reply.getChild('query', NS_DISCO_INFO);
        const answer = query ? check(session.jid.full, d.ver, query) : undefined;
        if (answer) {
          verified = await learn(key, d.hash, d.ver, answer);
          if (!verified) {
            api.logger.info({ jid: session.jid.full, ver: d.ver }, 'caps hash did not verify; applied to that session only');
            // The session's own claim about itself, for its own notifications; never shared.
            const entry = session.get(SESSION_CAPS);
            if (entry?.key === key && !entry.verified && !session.isClosed) {
              entry.features = new Set(answer.features);
              await api.fire('caps/changed', { session });
            }
          }
        }
      } catch (err) {
        api.logger.debug({ err: (err as Error).message, jid: session.jid.full }, 'caps discovery failed');
      } finally {
        queriesInFlight--;
        d.asking.delete(session.jid.bare);
        a.state = 'done';
      }
      if (verified) {
        // A fact about the hash: it holds for every advertiser, whoever answered.
        discoveries.delete(key);
        for (const s of d.advertisers.keys()) {
          const entry = s.get(SESSION_CAPS);
          if (s.isClosed || entry?.key !== key) continue;
          entry.features = verified;
          entry.verified = true;
          await api.fire('caps/changed', { session: s });
        }
      } else {
        if (!advertises(session, key)) d.advertisers.delete(session);
        pump(key);
      }
    }

    /**
     * XEP-0115 §5.4: only an answer whose hash matches may be cached and shared between entities; it is,
     * and its features returned. Undefined when it does not verify.
     */
    async function learn(key: string, hash: string, ver: string, answer: ReturnType<typeof parseDiscoInfo>): Promise<ReadonlySet<string> | undefined> {
      const s = capsVerificationString(answer.identities, answer.features, answer.formData);
      if (s === undefined || capsHash(hash, s) !== ver) return undefined;
      const { formData: _f, ...record } = answer;
      const verified = new Set(answer.features);
      remember(key, verified, ++uses);
      await api.storage.caps.put(key, record);
      api.storage.caps.prune(opts.max_entries).catch((err) => api.logger.warn({ err }, 'caps cache eviction failed'));
      return verified;
    }

    /** The answer parsed, or undefined (logged) when it is over the size limits. */
    function check(jid: string, ver: string, query: Element): ReturnType<typeof parseDiscoInfo> | undefined {
      let features = 0;
      for (const c of query.children) if (typeof c !== 'string' && c.local === 'feature') features++;
      const info = features > opts.max_features ? undefined : parseDiscoInfo(query);
      const bytes = info && Buffer.byteLength(JSON.stringify({ identities: info.identities, features: info.features, forms: info.forms }));
      if (!info || bytes! > opts.max_info_bytes) {
        api.logger.info({ jid, ver, features, bytes }, 'caps answer over the size limits; no caps for it');
        return undefined;
      }
      return info;
    }

    api.hook('outgoing/presence', async ({ stanza, origin, to }) => {
      if (!origin || to !== undefined) return;
      const type = stanza.attrs.type;
      if (type !== undefined && type !== 'unavailable') return;
      const prev = origin.get(SESSION_CAPS);
      if (type === 'unavailable') {
        origin.delete(SESSION_CAPS);
        forget(origin, prev?.key);
        return;
      }
      const c = stanza.getChild('c', NS_CAPS);
      const hash = c?.attrs.hash;
      const ver = c?.attrs.ver;
      const node = c?.attrs.node;
      // Legacy caps (no hash attribute) cannot be verified and are ignored (XEP-0115 §8.1 lets us).
      if (!c || !hash || !ver || !node || !supportedCapsHash(hash)) {
        if (prev) {
          origin.delete(SESSION_CAPS);
          forget(origin, prev.key);
          void api.fire('caps/changed', { session: origin });
        }
        return;
      }
      const key = `${hash}:${ver}`;
      // Same caps as before: nothing to do once known (verified, or the session's own answer) or while the
      // session waits for an answer; otherwise (no answer, an error, over a limit) this presence is the retry.
      if (prev?.key === key && (prev.features !== undefined || (discoveries.get(key)?.advertisers.get(origin)?.state ?? 'done') !== 'done')) return;
      if (prev && prev.key !== key) forget(origin, prev.key);
      const features = await lookup(key);
      const entry: SessionCaps = { key, features, verified: features !== undefined };
      origin.set(SESSION_CAPS, entry);
      if (features) {
        forget(origin, key);
        await api.fire('caps/changed', { session: origin });
        return;
      }
      if (origin.isClosed) return;
      // Discovery runs in the background: presence processing must not wait for the client to answer.
      let d = discoveries.get(key);
      if (!d) discoveries.set(key, (d = { hash, ver, advertisers: new Map(), asking: new Set() }));
      const a = d.advertisers.get(origin);
      if (a) {
        a.node = node;
        if (a.state === 'done') a.state = 'queued';
      } else d.advertisers.set(origin, { node, state: 'queued' });
      pump(key);
    }, 100);

    // The entry is changed in place once an answer arrives: other cluster nodes are told (caps/changed follows every change).
    api.hook('caps/changed', ({ session }) => api.sessions.changed?.(session), 100);
    api.hook('session-closed', ({ session }) => {
      forget(session, session.get(SESSION_CAPS)?.key);
    });

    const remote = new RemoteCaps({
      logger: api.logger,
      maxResources: opts.max_remote_resources,
      queryTimeoutMs: opts.query_timeout_ms,
      isLocalDomain: (d) => api.isLocalDomain(d),
      sendIq: (iq, ms) => api.sendIq(iq, ms),
      lookup,
      learn,
      check,
      takeQuery,
      known: async (owner, jid) => void (await api.fire('caps/remote', { owner, jid })),
      // A remote contact's presence reaches the one node its server's stream landed on; a PEP fan-out on
      // another node needs to know it too. Not awaited: nothing is answered on its strength.
      replicate: (change) => void api.cluster.invalidate('caps/remote', change).catch((err) => api.logger.warn({ err }, 'replicating remote caps failed')),
    });
    api.cluster.onInvalidate('caps/remote', (change) => (change === undefined ? remote.dropReplicas() : remote.apply(change as RemoteCapsChange)));
    // Observes only: delivery of the presence goes on (priority above the presence module's handling).
    api.hook('incoming/presence', async ({ stanza, from, to }) => {
      await remote.presence(stanza, from, to);
      return false;
    }, 100);

    const features = (fullJid: string) => api.sessions.get(fullJid)?.get(SESSION_CAPS)?.features;
    api.provide(CapsService, {
      features,
      wantsNotify: (fullJid, ns) => features(fullJid)?.has(`${ns}+notify`) ?? false,
      remoteFeatures: (jid) => remote.features(jid),
      remoteResources: (contact, owner) => remote.resources(contact, owner),
      stats: () => ({ cached: cache.size, discovering: discoveries.size, queriesInFlight, remote: remote.size }),
    });
  },
});
