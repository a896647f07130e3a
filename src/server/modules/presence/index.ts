// RFC 6121 §3–4: presence subscriptions (the state machine of §3 and Appendix A, with pre-approval §3.4),
// availability broadcast, probes, directed presence and unavailable presence when a session ends.
// Both ends of a subscription are local accounts (any served domain), so the outbound half (on the
// user's side) and the inbound half (on the contact's side) both run here.
import { x, type Element } from '../../../xml/index.ts';
import { defineModule } from '../../core/module-host.ts';
import { addressEach } from '../../core/broadcast.ts';
import { createSessionKey, type ModuleSession } from '../../../cluster/index.ts';
import {
  NS_PRE_APPROVAL, addFrom, addTo, hasSubscriptionFrom, hasSubscriptionTo, presenceType, removeFrom, removeTo,
} from '../../../protocol/rfc6121.ts';
import { StanzaError, errorReply } from '../../../protocol/rfc6120.ts';
import type { RosterItem } from '../../../storage/types.ts';
import { RosterService } from '../roster/index.ts';

declare module '../../core/events.ts' {
  interface ServerEvents {
    /** Fired by the presence module: a session sent available presence; `initial` on its first one (RFC 6121 §4.2). */
    'presence/available': { session: ModuleSession; initial: boolean };
    /** Fired by the presence module when a session becomes unavailable. */
    'presence/unavailable': { session: ModuleSession };
  }
}

/** Entities that got directed presence and must learn when this session goes away (RFC 6121 §4.6.3). */
const DIRECTED = createSessionKey<Set<string>>('presence');

const NONE: ReadonlySet<string> = new Set();

/** Copies a presence for delivery, readdressed. */
function readdress(p: Element, from: string, to: string): Element {
  const c = p.clone();
  c.attrs.from = from;
  c.attrs.to = to;
  return c;
}

export const presenceModule = defineModule({
  name: 'presence',
  requires: ['roster'],
  fires: ['presence/available', 'presence/unavailable'],
  setup(api) {
    const roster = api.use(RosterService);
    /** Nothing is allocated for the many sessions that never send directed presence. */
    const directed = (s: ModuleSession): Set<string> => {
      let d = s.get(DIRECTED);
      if (!d) s.set(DIRECTED, (d = new Set()));
      return d;
    };
    const directedOf = (s: ModuleSession): ReadonlySet<string> => s.get(DIRECTED) ?? NONE;

    api.addStreamFeature(() => x('sub', { xmlns: NS_PRE_APPROVAL }));

    const newItem = (jid: string): RosterItem => ({ jid, subscription: 'none', groups: [] });

    /** Delivers to every available resource of a local account. */
    function toAvailable(bare: string, stanza: Element): void {
      const data = stanza.toString();
      for (const s of api.sessions.resources(bare)) if (s.available) s.deliver(data);
    }

    /** Sends the last presence of each available resource of `owner` to `to`. */
    async function sendCurrentPresence(owner: string, to: string): Promise<void> {
      for (const s of api.sessions.resources(owner)) {
        if (s.available && s.presence) await api.route(readdress(s.presence, s.jid.full, to));
      }
    }

    // ------------------------------------------------------------------------------ outbound (from a local client)
    api.hook('outgoing/presence', async ({ stanza, origin, to }) => {
      if (!origin) return false;
      const type = presenceType(stanza.attrs.type);
      if (type === undefined) {
        origin.deliver(errorReply(stanza, new StanzaError('bad-request', 'unknown presence type')));
        return true;
      }
      const user = origin.jid.bare;
      if (type === 'subscribe' || type === 'subscribed' || type === 'unsubscribe' || type === 'unsubscribed') {
        if (!to) return true;
        const contact = to.bare;
        if (contact === user) return true;
        // RFC 6121 §3.1.2: subscription stanzas are stamped with the bare JID of the user.
        const out = stanza.clone();
        out.attrs.from = user;
        out.attrs.to = contact;
        await outbound(type, user, contact, out);
        return true;
      }
      if (type === 'probe') return true; // probes are the server's business (RFC 6121 §4.3)
      if (to === undefined) {
        await broadcast(origin, stanza, type === 'unavailable');
        return true;
      }
      // Directed presence (RFC 6121 §4.6).
      if (type === 'available' || type === 'unavailable') {
        const item = await roster.getItem(user, to.bare);
        if (!hasSubscriptionFrom(item?.subscription)) {
          if (type === 'available') directed(origin).add(to.full);
          else origin.get(DIRECTED)?.delete(to.full);
        }
      }
      return false; // default routing delivers it
    });

    async function outbound(type: 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed', user: string, contact: string, out: Element): Promise<void> {
      const item = await roster.getItem(user, contact);
      switch (type) {
        case 'subscribe': {
          // §3.1.2: record "pending out" (ask) and push, unless already subscribed.
          if (!hasSubscriptionTo(item?.subscription) && !item?.ask) await roster.putItem(user, { ...(item ?? newItem(contact)), ask: 'subscribe' });
          await api.route(out);
          return;
        }
        case 'subscribed': {
          const pending = (await api.storage.roster.listPendingIn(user)).some((p) => p.from === contact);
          if (hasSubscriptionFrom(item?.subscription)) return; // §3.1.5: nothing to approve
          if (!pending) {
            // §3.4: approving before being asked is a pre-approval, remembered on the item.
            if (!item?.approved) await roster.putItem(user, { ...(item ?? newItem(contact)), approved: true });
            return;
          }
          const base = item ?? newItem(contact);
          await api.storage.roster.removePendingIn(user, contact);
          await roster.putItem(user, { ...base, subscription: addFrom(base.subscription), approved: undefined });
          await api.route(out);
          // §3.1.5: the new subscriber gets the user's current presence.
          await sendCurrentPresence(user, contact);
          return;
        }
        case 'unsubscribe': {
          // §3.3.2
          if (item && (hasSubscriptionTo(item.subscription) || item.ask)) {
            await roster.putItem(user, { ...item, subscription: removeTo(item.subscription), ask: undefined });
          }
          await api.route(out);
          return;
        }
        case 'unsubscribed': {
          // §3.2.2: cancels or denies the contact's subscription to the user.
          const pending = await api.storage.roster.removePendingIn(user, contact);
          if (item && (hasSubscriptionFrom(item.subscription) || item.approved)) {
            await roster.putItem(user, { ...item, subscription: removeFrom(item.subscription), approved: undefined });
          }
          if (pending || hasSubscriptionFrom(item?.subscription)) {
            await api.route(out);
            if (hasSubscriptionFrom(item?.subscription)) {
              for (const s of api.sessions.resources(user)) {
                if (s.available) await api.route(x('presence', { type: 'unavailable', from: s.jid.full, to: contact }));
              }
            }
          }
          return;
        }
      }
    }

    /** RFC 6121 §4.2 / §4.5: availability broadcast to subscribers and the user's own resources. */
    async function broadcast(session: ModuleSession, stanza: Element, unavailable: boolean): Promise<void> {
      const user = session.jid.bare;
      const initial = !unavailable && !session.available;
      if (unavailable && !session.available) return;
      const p = stanza.clone();
      delete p.attrs.to;
      p.attrs.from = session.jid.full;
      if (unavailable) {
        session.available = false;
        session.presence = undefined;
      } else {
        const prio = Number.parseInt(p.getChildText('priority') ?? '0', 10);
        session.priority = Number.isFinite(prio) ? Math.max(-128, Math.min(127, prio)) : 0;
        session.available = true;
        session.presence = p;
      }
      const items = await roster.getAll(user);
      for (const item of items) if (hasSubscriptionFrom(item.subscription)) await api.route(readdress(p, session.jid.full, item.jid));
      // A login burst otherwise cloned and serialised every broadcast once per sibling resource.
      const toOwn = addressEach(p);
      for (const h of api.sessions.resources(user)) {
        if (h.available || h === session) h.deliver(toOwn(h.jid.full));
      }
      if (unavailable) {
        for (const d of directedOf(session)) await api.route(readdress(p, session.jid.full, d));
        session.delete(DIRECTED);
        await api.fire('presence/unavailable', { session });
        return;
      }
      if (initial) {
        // §4.2.2: probe every contact the user is subscribed to; local contacts answer at once.
        for (const item of items) {
          if (hasSubscriptionTo(item.subscription)) await api.route(x('presence', { type: 'probe', from: session.jid.full, to: item.jid }));
        }
        // The user's other resources, as in Prosody and ejabberd: a new resource learns its siblings.
        for (const s of api.sessions.resources(user)) {
          if (s !== session && s.available && s.presence) session.deliver(addressEach(s.presence)(session.jid.full));
        }
        // §3.1.3: subscription requests that arrived while the user was offline.
        for (const pending of await api.storage.roster.listPendingIn(user)) session.deliver(pending.stanza);
      }
      await api.fire('presence/available', { session, initial });
    }

    // ------------------------------------------------------------------------------ inbound (to a local account)
    api.hook('incoming/presence', async ({ stanza, from, to }) => {
      const type = presenceType(stanza.attrs.type);
      if (type === undefined) return true;
      const user = to.bare;
      const contact = from.bare;
      if (type === 'available' || type === 'unavailable' || type === 'error') return false; // default delivery
      if (!(await api.accountExists(to.toBare()))) {
        // §3.1.3: a subscription request to an account that does not exist is answered with unsubscribed.
        if (type === 'subscribe' || type === 'probe') await api.route(x('presence', { type: 'unsubscribed', from: user, to: contact }));
        return true;
      }
      const item = await roster.getItem(user, contact);
      switch (type) {
        case 'probe': {
          // §4.3.2: answer only subscribers; with no available resource, the last state is unavailable.
          if (!hasSubscriptionFrom(item?.subscription)) return true;
          const avail = api.sessions.resources(user).filter((s) => s.available);
          if (avail.length === 0) await api.route(x('presence', { type: 'unavailable', from: user, to: from.full }));
          else await sendCurrentPresence(user, from.full);
          return true;
        }
        case 'subscribe': {
          if (hasSubscriptionFrom(item?.subscription)) {
            // §3.1.3: already subscribed — answer for the user.
            await api.route(x('presence', { type: 'subscribed', from: user, to: contact }));
            return true;
          }
          if (item?.approved) {
            // §3.4: pre-approved.
            await roster.putItem(user, { ...item, subscription: addFrom(item.subscription), approved: undefined });
            await api.route(x('presence', { type: 'subscribed', from: user, to: contact }));
            await sendCurrentPresence(user, contact);
            return true;
          }
          const req = stanza.clone();
          req.attrs.from = contact;
          req.attrs.to = user;
          await api.storage.roster.addPendingIn(user, { from: contact, stanza: req.toString() });
          toAvailable(user, req);
          return true;
        }
        case 'subscribed': {
          // §3.1.6: only meaningful when the user asked.
          if (!item?.ask) return true;
          await roster.putItem(user, { ...item, subscription: addTo(item.subscription), ask: undefined });
          toAvailable(user, readdress(stanza, contact, user));
          return true;
        }
        case 'unsubscribe': {
          // §3.3.3
          const hadPending = await api.storage.roster.removePendingIn(user, contact);
          if (item && hasSubscriptionFrom(item.subscription)) {
            await roster.putItem(user, { ...item, subscription: removeFrom(item.subscription) });
            toAvailable(user, readdress(stanza, contact, user));
          } else if (hadPending) {
            toAvailable(user, readdress(stanza, contact, user));
          }
          return true;
        }
        case 'unsubscribed': {
          // §3.2.3
          if (item && (hasSubscriptionTo(item.subscription) || item.ask)) {
            await roster.putItem(user, { ...item, subscription: removeTo(item.subscription), ask: undefined });
            toAvailable(user, readdress(stanza, contact, user));
            // The contact's resources now look offline to the user.
            for (const s of api.sessions.resources(user)) {
              if (!s.available) continue;
              for (const c of api.sessions.resources(contact)) s.deliver(x('presence', { type: 'unavailable', from: c.jid.full, to: s.jid.full }));
            }
          }
          return true;
        }
      }
      return true;
    });

    api.hook('session-closed', async ({ session }) => {
      if (!session.available) {
        // Directed presence sent without ever broadcasting still gets its unavailable (RFC 6121 §4.6.3).
        for (const d of directedOf(session)) await api.route(x('presence', { type: 'unavailable', from: session.jid.full, to: d }));
        session.delete(DIRECTED);
        return;
      }
      // RFC 6121 §4.5.2: the server sends unavailable presence on the client's behalf.
      await broadcast(session, x('presence', { type: 'unavailable' }), true);
    });
  },
});

