// RFC 6121 §2 roster management: get (with §2.6 versioning), set, remove, and roster pushes to every
// interested resource. The subscription state lives in the same items; the presence module changes it
// through the 'roster' service so that every change is persisted, pushed and announced in one place.
import { randomBytes } from 'node:crypto';
import { x, type Element } from '../../../xml/index.ts';
import { parseJid, type Jid } from '../../../jid/index.ts';
import { defineModule, serviceKey } from '../../core/module-host.ts';
import { asJson, createSessionKey } from '../../../cluster/index.ts';
import { NS_ROSTER, NS_ROSTER_VER, hasSubscriptionFrom, hasSubscriptionTo, isSubscriptionState } from '../../../protocol/rfc6121.ts';
import { StanzaError } from '../../../protocol/rfc6120.ts';
import type { RosterItem } from '../../../storage/types.ts';
import { PairLock } from './pair-lock.ts';
import { PrivacyService, createPrivacy } from './privacy.ts';

export { PrivacyService, type BlockRule, type PrivacyListener } from './privacy.ts';

export interface RosterService {
  getItem(owner: string, contact: string): Promise<RosterItem | undefined>;
  getAll(owner: string): Promise<RosterItem[]>;
  /** Persists the item, pushes it to the owner's interested resources and fires 'roster/changed'. */
  putItem(owner: string, item: RosterItem): Promise<void>;
  removeItem(owner: string, contact: string): Promise<void>;
  /**
   * Runs `fn` as the only change to the subscription between `a` and `b` (either order) in progress: every
   * read-then-write of a pair's state goes through here (pair-lock.ts).
   */
  exclusive<T>(a: string, b: string, fn: () => Promise<T>): Promise<T>;
}

export const RosterService = serviceKey<RosterService>('roster');

declare module '../../core/events.ts' {
  interface ServerEvents {
    /** Fired by the roster module after an item changed or was removed (item undefined). */
    'roster/changed': { owner: string; contact: string; item: RosterItem | undefined; previous: RosterItem | undefined };
  }
}

/** Set on a session once it has asked for the roster: it gets roster pushes from then on (RFC 6121 §2.1.6). */
const INTERESTED = createSessionKey<true>('roster', asJson);
const MAX_GROUP_LENGTH = 1024;
const MAX_NAME_LENGTH = 1024;
/** Bound on waiting for another server's turn on a roster pair (see PairLock below). */
const PAIR_LOCK_WAIT_MS = 10_000;

export function itemElement(item: RosterItem, removed = false): Element {
  if (removed) return x('item', { jid: item.jid, subscription: 'remove' });
  return x('item', { jid: item.jid, name: item.name, subscription: item.subscription, ask: item.ask, approved: item.approved ? 'true' : undefined },
    item.groups.map((g) => x('group', null, g)));
}

export const rosterModule = defineModule({
  name: 'roster',
  provides: [RosterService, PrivacyService],
  fires: ['roster/changed'],
  setup(api) {
    const store = api.storage.roster;

    function push(owner: string, version: string, item: Element): void {
      for (const s of api.sessions.resources(owner)) {
        if (s.get(INTERESTED) !== true) continue;
        // RFC 6121 §2.1.6: pushes come from the account (no 'from' or the bare JID), each with its own id.
        s.deliver(x('iq', { type: 'set', id: `push-${randomBytes(6).toString('hex')}`, to: s.jid.full },
          x('query', { xmlns: NS_ROSTER, ver: version }, item)));
      }
    }

    // In-memory copies of the rosters of accounts with a live session, so that PEP fan-out and access checks
    // do not read storage (where reads wait behind pending group commits). This service is the only writer
    // (putItem/removeItem below), so every change drops the copy, before the write is issued and again once
    // it has committed; a copy is only kept if no change began while it was being read (generation check).
    // Copies are frozen (callers get the cached objects) and dropped with the account's last session.
    // A process other than the server writing the same database (CLI account deletion) is not seen until
    // the account's sessions are gone.
    interface CachedRoster {
      items: readonly RosterItem[];
      byJid: Map<string, RosterItem>;
    }
    const cache = new Map<string, CachedRoster>();
    const generation = new Map<string, number>();
    const invalidate = (owner: string) => {
      cache.delete(owner);
      if (generation.has(owner)) generation.set(owner, generation.get(owner)! + 1);
    };
    async function cached(owner: string): Promise<CachedRoster | undefined> {
      const hit = cache.get(owner);
      if (hit) return hit;
      if (api.sessions.resources(owner).length === 0) return undefined;
      const gen = generation.get(owner) ?? 0;
      generation.set(owner, gen);
      const items = (await store.get(owner)).items;
      const entry: CachedRoster = { items: Object.freeze(items), byJid: new Map() };
      for (const item of items) {
        Object.freeze(item.groups);
        entry.byJid.set(item.jid, Object.freeze(item));
      }
      // A change that began meanwhile makes this copy suspect; the next call reads again.
      if (generation.get(owner) === gen && api.sessions.resources(owner).length > 0) cache.set(owner, entry);
      return entry;
    }
    // Another cluster node changed a roster (or this node lost the bus: undefined, forget them all).
    api.cluster.onInvalidate('roster', (data) => {
      if (data === undefined) for (const owner of [...cache.keys()]) invalidate(owner);
      else invalidate((data as { owner: string }).owner);
    });
    api.hook('session-closed', ({ session }) => {
      const owner = session.jid.bare;
      if (api.sessions.resources(owner).length === 0) {
        cache.delete(owner);
        generation.delete(owner);
      }
    });

    // Where the store is shared by several servers (PostgreSQL), the pair's lock is theirs too. The wait is
    // bounded: a holder's turn is short (a read, a write, an invalidation of at most invalidation_timeout_ms,
    // routing), so running out means a holder stalled with its connection alive (SIGSTOP) or a database
    // that does not answer. Then the exchange goes on as on one node (a rare race, logged) rather than
    // every later change of the pair failing: subscription stanzas have no one to retry them.
    // No deadlock: the nested contact side re-enters in this process (PairLock) and never asks again; the
    // only locked work is the same pair's, and routing it never waits for another node's locked work (a
    // local account's presence is processed here; a remote domain's goes out over s2s, answered later).
    const locks = api.storage.locks;
    const pairs = new PairLock(locks && (async (key) => {
      const release = await locks.acquire(`roster-pair\n${key}`, PAIR_LOCK_WAIT_MS);
      if (!release) api.logger.warn({ pair: key.replace('\n', ' '), waitedMs: PAIR_LOCK_WAIT_MS }, 'roster pair lock not taken in time: going on without it');
      return release;
    }));
    const service: RosterService = {
      exclusive: (a, b, fn) => pairs.run(a, b, fn),
      async getItem(owner, contact) {
        const hit = cache.get(owner);
        return hit ? hit.byJid.get(contact) : store.getItem(owner, contact);
      },
      getAll: async (owner) => ((await cached(owner))?.items as RosterItem[] | undefined) ?? (await store.get(owner)).items,
      async putItem(owner, item) {
        invalidate(owner);
        const previous = await store.getItem(owner, item.jid);
        const version = await store.putItem(owner, item).finally(() => invalidate(owner));
        // Every node forgets what it knew before the change is pushed or answered (cluster/coherence.ts).
        await api.cluster.invalidate('roster', { owner, contact: item.jid });
        push(owner, version, itemElement(item));
        await api.fire('roster/changed', { owner, contact: item.jid, item, previous });
      },
      async removeItem(owner, contact) {
        invalidate(owner);
        const previous = await store.getItem(owner, contact);
        const version = await store.removeItem(owner, contact).finally(() => invalidate(owner));
        if (version === undefined) return;
        await api.cluster.invalidate('roster', { owner, contact });
        push(owner, version, itemElement({ jid: contact, subscription: 'none', groups: [] }, true));
        await api.fire('roster/changed', { owner, contact, item: undefined, previous });
      },
    };
    api.provide(RosterService, service);
    api.provide(PrivacyService, createPrivacy());

    // RFC 6121 §2.6.1: roster versioning is advertised as a stream feature.
    api.addStreamFeature(() => x('ver', { xmlns: NS_ROSTER_VER }));

    api.handleIq('account', NS_ROSTER, async ({ type, payload, from, to, origin }) => {
      // RFC 6121 §2.1.5: only the account itself may see or change its roster.
      if (from.bare !== to.bare) throw new StanzaError('forbidden', 'a roster belongs to its account');
      const owner = to.bare;
      if (type === 'get') {
        if (origin) origin.set(INTERESTED, true);
        const roster = await store.get(owner);
        // RFC 6121 §2.6.3: an up-to-date client gets an empty result; changes follow as pushes.
        if (payload.attrs.ver !== undefined && payload.attrs.ver === roster.version) return;
        return x('query', { xmlns: NS_ROSTER, ver: roster.version }, roster.items.map((i) => itemElement(i)));
      }
      const items = payload.getChildren('item');
      // RFC 6121 §2.3.3: a roster set carries exactly one item.
      if (items.length !== 1) throw new StanzaError('bad-request', 'a roster set must contain exactly one item');
      const el = items[0]!;
      let contact: Jid;
      try {
        contact = parseJid(el.attrs.jid ?? '');
      } catch {
        throw new StanzaError('bad-request', 'the item has no valid jid');
      }
      if (!contact.isBare()) throw new StanzaError('bad-request', 'roster items are bare JIDs');
      if (contact.bare === owner) throw new StanzaError('not-allowed', 'the account itself cannot be a roster item');
      if (el.attrs.subscription === 'remove') {
        await service.exclusive(owner, contact.bare, async () => {
          const existing = await store.getItem(owner, contact.bare);
          const pendingIn = (await store.listPendingIn(owner)).some((p) => p.from === contact.bare);
          if (!existing) throw new StanzaError('item-not-found');
          await cancelSubscriptions(owner, contact.bare, existing, pendingIn);
          await store.removePendingIn(owner, contact.bare);
          await service.removeItem(owner, contact.bare);
        });
        return;
      }
      if (el.attrs.subscription !== undefined && !isSubscriptionState(el.attrs.subscription)) {
        throw new StanzaError('bad-request', 'unknown subscription value');
      }
      const groups = el.getChildren('group').map((g) => g.text());
      if (new Set(groups).size !== groups.length) throw new StanzaError('bad-request', 'duplicate group');
      if (groups.some((g) => g.length === 0 || g.length > MAX_GROUP_LENGTH)) throw new StanzaError('not-acceptable', 'empty or overlong group name');
      const name = el.attrs.name;
      if (name !== undefined && name.length > MAX_NAME_LENGTH) throw new StanzaError('not-acceptable', 'overlong name');
      // Under the pair's lock: a subscription change landing meanwhile is kept, not overwritten.
      await service.exclusive(owner, contact.bare, async () => {
        const existing = await store.getItem(owner, contact.bare);
        // RFC 6121 §2.1.2.5: the client cannot change subscription state through a roster set; it is ignored.
        await service.putItem(owner, {
          jid: contact.bare,
          name: name || undefined,
          subscription: existing?.subscription ?? 'none',
          ask: existing?.ask,
          approved: existing?.approved,
          groups,
        });
      });
    });

    /**
     * RFC 6121 §2.5.2: removing an item cancels the subscriptions in both directions; a request the owner
     * never answered is denied, so the contact is not left waiting ("Pending Out") for ever.
     */
    async function cancelSubscriptions(owner: string, contact: string, item: RosterItem | undefined, pendingIn: boolean): Promise<void> {
      const sends: Element[] = [];
      if (hasSubscriptionTo(item?.subscription) || item?.ask) sends.push(x('presence', { type: 'unsubscribe', from: owner, to: contact }));
      if (hasSubscriptionFrom(item?.subscription) || pendingIn) sends.push(x('presence', { type: 'unsubscribed', from: owner, to: contact }));
      for (const p of sends) await api.route(p);
      if (hasSubscriptionFrom(item?.subscription)) {
        // The contact no longer sees the owner's presence, so it must see the owner go offline.
        for (const s of api.sessions.resources(owner)) {
          if (s.available) await api.route(x('presence', { type: 'unavailable', from: s.jid.full, to: contact }));
        }
      }
    }
  },
});
