// RFC 6121 §3–4: presence subscriptions (the state machine of §3 and Appendix A, with pre-approval §3.4),
// availability broadcast, probes, directed presence and unavailable presence when a session ends.
// Both ends of a subscription are local accounts (any served domain), so the outbound half (on the
// user's side) and the inbound half (on the contact's side) both run here.
import { x, type Element } from '../../../xml/index.ts';
import { defineModule } from '../../core/module-host.ts';
import { addressEach } from '../../core/broadcast.ts';
import { createSessionKey, type ModuleSession } from '../../../cluster/index.ts';
import { NS_PRE_APPROVAL, hasSubscriptionFrom, hasSubscriptionTo, presenceType } from '../../../protocol/rfc6121.ts';
import { StanzaError, errorReply } from '../../../protocol/rfc6120.ts';
import type { RosterItem } from '../../../storage/types.ts';
import { RosterService } from '../roster/index.ts';
import {
  INBOUND, OUTBOUND, PRE_APPROVAL, canPreApprove, fieldsOf, stateOf, type Cell, type SubState, type SubscriptionStanza,
} from '../roster/subscription-table.ts';

declare module '../../core/events.ts' {
  interface ServerEvents {
    /** Fired by the presence module: a session sent available presence; `initial` on its first one (RFC 6121 §4.2). */
    'presence/available': { session: ModuleSession; initial: boolean };
    /** Fired by the presence module when a session becomes unavailable. */
    'presence/unavailable': { session: ModuleSession };
  }
}

/**
 * Entities that got directed presence and must learn when this session goes away (RFC 6121 §4.6.3). Shared
 * with the other cluster nodes: when this session's node dies, the node that ends its sessions tells them.
 */
const DIRECTED = createSessionKey<Set<string>>('presence', { encode: (d) => [...d], decode: (j) => new Set(j as string[]) });

const NONE: ReadonlySet<string> = new Set();

/** What one transition did: the cell applied and the state it started from. */
interface Step {
  cell: Cell;
  before: SubState;
  /** A pre-approval (§3.4) answered the request. */
  accepted: boolean;
}

const hasFrom = (s: SubState) => fieldsOf(s).subscription === 'from' || fieldsOf(s).subscription === 'both';
const hasTo = (s: SubState) => fieldsOf(s).subscription === 'to' || fieldsOf(s).subscription === 'both';

/** Whether storing `next` would change nothing the client can see of the item's subscription. */
function sameState(item: RosterItem | undefined, next: RosterItem): boolean {
  return item !== undefined && item.subscription === next.subscription && item.ask === next.ask && (item.approved ?? false) === (next.approved ?? false);
}

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
          const had = directedOf(origin).has(to.full);
          if (type === 'available') directed(origin).add(to.full);
          else origin.get(DIRECTED)?.delete(to.full);
          if (had !== (type === 'available')) api.sessions.changed?.(origin);
        }
      }
      return false; // default routing delivers it
    });

    /**
     * Applies one cell of RFC 6121 Appendix A (roster/subscription-table.ts) to the pair's stored state and
     * returns what the caller must do next; the caller holds the pair's lock (roster.exclusive). Only an actual change is written (and so
     * pushed): "no state change" is no write.
     */
    async function transition(
      direction: 'outbound' | 'inbound', type: SubscriptionStanza, user: string, contact: string, request?: Element,
    ): Promise<Step> {
      const item = await roster.getItem(user, contact);
      const pendingIn = (await api.storage.roster.listPendingIn(user)).some((p) => p.from === contact);
      const before = stateOf(item, pendingIn);
      let cell: Cell = (direction === 'outbound' ? OUTBOUND : INBOUND)[type][before];
      let approved = item?.approved === true && canPreApprove(before);
      let accepted = false;
      if (canPreApprove(before)) {
        // §3.4 pre-approval: the flag beside the states that have neither "from" nor a pending request.
        if (direction === 'outbound' && type === 'subscribed') approved = true;
        else if (direction === 'outbound' && type === 'unsubscribed') approved = false;
        else if (direction === 'inbound' && type === 'subscribe' && approved) {
          cell = { pass: false, next: PRE_APPROVAL.accept[before]!, autoReply: 'subscribed' };
          accepted = true;
        }
      }
      const after = cell.next ?? before;
      if (!canPreApprove(after)) approved = false;
      const f = fieldsOf(after);
      const next: RosterItem = {
        ...(item ?? newItem(contact)),
        subscription: f.subscription,
        ask: f.pendingOut ? 'subscribe' : undefined,
        approved: approved || undefined,
      };
      // §3.1.3: a contact that only asked ("None + Pending In") gets no roster item until approved.
      const keepItem = item !== undefined || f.subscription !== 'none' || f.pendingOut || approved;
      if (keepItem && !sameState(item, next)) await roster.putItem(user, next);
      if (f.pendingIn && !pendingIn && request) await api.storage.roster.addPendingIn(user, { from: contact, stanza: request.toString() });
      if (!f.pendingIn && pendingIn) await api.storage.roster.removePendingIn(user, contact);
      return { cell, before, accepted };
    }

    async function outbound(type: SubscriptionStanza, user: string, contact: string, out: Element): Promise<void> {
      await roster.exclusive(user, contact, async () => {
        const { cell, before } = await transition('outbound', type, user, contact);
        if (!cell.pass) return;
        await api.route(out);
        // §3.1.5: the new subscriber gets the user's current presence.
        if (type === 'subscribed') await sendCurrentPresence(user, contact);
        // §3.2.2: a cancelled subscriber sees the user go offline.
        if (type === 'unsubscribed' && hasFrom(before)) await sendUnavailable(user, contact);
      });
    }

    /** Sends unavailable presence from each available resource of `user` to `to`. */
    async function sendUnavailable(user: string, to: string): Promise<void> {
      for (const s of api.sessions.resources(user)) {
        if (s.available) await api.route(x('presence', { type: 'unavailable', from: s.jid.full, to }));
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
      api.sessions.changed?.(session);
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
      if (type === 'probe') {
        // §4.3.2: answer only subscribers; with no available resource, the last state is unavailable.
        if (!hasSubscriptionFrom((await roster.getItem(user, contact))?.subscription)) return true;
        const avail = api.sessions.resources(user).filter((s) => s.available);
        if (avail.length === 0) await api.route(x('presence', { type: 'unavailable', from: user, to: from.full }));
        else await sendCurrentPresence(user, from.full);
        return true;
      }
      await inbound(type, user, contact, stanza);
      return true;
    });

    async function inbound(type: SubscriptionStanza, user: string, contact: string, stanza: Element): Promise<void> {
      // §3.1.3: the stanza as the user's resources receive it, from the contact's bare JID.
      const shown = readdress(stanza, contact, user);
      await roster.exclusive(user, contact, async () => {
        const { cell, before, accepted } = await transition('inbound', type, user, contact, shown);
        if (cell.autoReply) {
          // §3.1.3 (already subscribed) and §3.4 (pre-approved): the server answers for the user.
          await api.route(x('presence', { type: cell.autoReply, from: user, to: contact }));
          if (accepted) await sendCurrentPresence(user, contact);
        }
        if (!cell.pass) return;
        toAvailable(user, shown);
        // §3.3.3: the former subscriber sees the user go offline.
        if (type === 'unsubscribe' && hasFrom(before)) await sendUnavailable(user, contact);
        if (type === 'unsubscribed' && hasTo(before)) {
          // The contact's resources now look offline to the user.
          for (const s of api.sessions.resources(user)) {
            if (!s.available) continue;
            for (const c of api.sessions.resources(contact)) s.deliver(x('presence', { type: 'unavailable', from: c.jid.full, to: s.jid.full }));
          }
        }
      });
    }

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

