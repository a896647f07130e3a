// XEP-0191 Blocking Command: blocklist retrieval, block and unblock with pushes to the resources that asked
// for the list, and the block itself on every stanza path, by hooks (the core knows nothing of it):
// - stanzas a client sends: to a blocked entity, refused with <not-acceptable/><blocked/> (§5.3); from a
//   blocked entity to the user, as if the user were offline (presence dropped, messages and IQ get/set to
//   the user's resources answered service-unavailable, other IQs dropped);
// - presence and messages the server routes (broadcasts, probes, subscription answers): dropped either way;
// - PEP: the block is a rule of the roster module's PrivacyService, which the PEP access decision asks, so a
//   blocked entity gets no notifications and is refused every node as a stranger is refused a hidden one.
// Blocking is "polite" (§6): subscriptions are kept, and come back into force on unblock.
import { randomBytes } from 'node:crypto';
import { x, type Element } from '../../../xml/index.ts';
import { parseJid } from '../../../jid/index.ts';
import { defineModule } from '../../core/module-host.ts';
import type { StanzaContext } from '../../core/stanza-context.ts';
import { asJson, createSessionKey, type ModuleSession } from '../../../cluster/index.ts';
import { StanzaError, errorReply, unavailableReply } from '../../../protocol/rfc6120.ts';
import { hasSubscriptionFrom, hasSubscriptionTo } from '../../../protocol/rfc6121.ts';
import { NS_BLOCKING, blockedError, blockingElement, itemMatches } from '../../../protocol/xep0191.ts';
import { PrivacyService, RosterService } from '../roster/index.ts';
import { Blocklists } from './blocklists.ts';

/** Set once a session has retrieved the blocklist: it gets block and unblock pushes from then on (§5.3). */
const INTERESTED = createSessionKey<true>('blocking', asJson);

/** Ahead of the modules that route or answer what the block must stop (presence, PEP, carbons …). */
const PRIORITY = 100;

export const blockingModule = defineModule({
  name: 'blocking',
  requires: ['roster', 'presence'],
  setup(api) {
    const roster = api.use(RosterService);
    const privacy = api.use(PrivacyService);
    const lists = new Blocklists(api.storage.blocklist);
    api.cluster.onInvalidate('blocklist', (data) => {
      if (data === undefined) lists.forgetAll();
      else lists.forget((data as { owner: string }).owner);
    });
    privacy.addRule((owner, entity) => lists.blocks(owner, entity));

    // §5.1: the server advertises the feature.
    api.addFeature('host', NS_BLOCKING);

    function push(owner: string, payload: Element): void {
      for (const s of api.sessions.resources(owner)) {
        if (s.get(INTERESTED) !== true) continue;
        s.deliver(x('iq', { type: 'set', id: `push-${randomBytes(6).toString('hex')}`, to: s.jid.full }, payload.clone()));
      }
    }

    function items(payload: Element): string[] {
      return payload.getChildren('item').map((i) => {
        try {
          return parseJid(i.attrs.jid ?? '').full;
        } catch {
          throw new StanzaError('jid-malformed', 'an item has no valid jid');
        }
      });
    }

    api.handleIq('account', NS_BLOCKING, async ({ type, payload, from, to, origin }) => {
      // The blocklist is the account's own business; anyone else learns nothing of it.
      if (from.bare !== to.bare) throw new StanzaError('service-unavailable');
      const owner = to.bare;
      if (type === 'get') {
        if (payload.local !== 'blocklist') throw new StanzaError('bad-request');
        origin?.set(INTERESTED, true);
        return blockingElement('blocklist', [...(await lists.list(owner))].sort());
      }
      if (payload.local === 'block') {
        const jids = items(payload);
        // §5.3: a block without item is a bad request.
        if (jids.length === 0) throw new StanzaError('bad-request', 'block at least one JID');
        const added = await lists.block(owner, jids);
        // Other cluster nodes forget their copy before anything is answered (cluster/coherence.ts).
        await api.cluster.invalidate('blocklist', { owner, entities: added });
        for (const j of added) await privacy.changed(owner, j);
        push(owner, blockingElement('block', jids));
        await goOffline(owner, added);
        return;
      }
      if (payload.local === 'unblock') {
        const jids = items(payload);
        // §5.5: an empty unblock unblocks everyone.
        const removed = jids.length === 0 ? await lists.unblockAll(owner) : await lists.unblock(owner, jids);
        await api.cluster.invalidate('blocklist', { owner, entities: removed });
        if (jids.length === 0) await privacy.changed(owner, undefined);
        else for (const j of removed) await privacy.changed(owner, j);
        push(owner, blockingElement('unblock', jids));
        await comeBack(owner, removed);
        return;
      }
      throw new StanzaError('bad-request');
    });

    /**
     * §5.3: the newly blocked contacts that received the user's presence see the user go offline. Delivered
     * straight to their sessions: routed, it would be stopped by the block itself.
     */
    async function goOffline(owner: string, added: string[]): Promise<void> {
      if (added.length === 0) return;
      const mine = api.sessions.resources(owner).filter((s) => s.available);
      if (mine.length === 0) return;
      for (const item of await roster.getAll(owner)) {
        if (!hasSubscriptionFrom(item.subscription)) continue;
        for (const c of api.sessions.resources(item.jid)) {
          if (!added.some((b) => itemMatches(b, c.jid.full))) continue;
          for (const s of mine) c.deliver(x('presence', { type: 'unavailable', from: s.jid.full, to: c.jid.full }));
        }
      }
    }

    /**
     * §5.4: contacts no longer blocked get the user's current presence; and the user, whose view of them the
     * block froze, asks for theirs (a probe, answered by their server as at login).
     */
    async function comeBack(owner: string, removed: string[]): Promise<void> {
      if (removed.length === 0) return;
      const mine = api.sessions.resources(owner).filter((s) => s.available);
      for (const item of await roster.getAll(owner)) {
        if (!removed.some((b) => itemMatches(b, item.jid))) continue;
        if (await privacy.eitherBlocks(owner, item.jid)) continue;
        for (const s of mine) {
          if (hasSubscriptionFrom(item.subscription) && s.presence) {
            const p = s.presence.clone();
            p.attrs.from = s.jid.full;
            p.attrs.to = item.jid;
            await api.route(p);
          }
          if (hasSubscriptionTo(item.subscription)) await api.route(x('presence', { type: 'probe', from: s.jid.full, to: item.jid }));
        }
      }
    }

    // ------------------------------------------------------------------------------ stanzas from local clients
    const reply = (origin: ModuleSession | undefined, answer: Element) => {
      if (origin && !origin.isClosed) origin.deliver(answer);
    };
    const isAnswer = (stanza: Element) => stanza.attrs.type === 'error' || (stanza.name === 'iq' && stanza.attrs.type === 'result');

    async function guard({ stanza, from, to, origin }: StanzaContext): Promise<boolean> {
      if (!to || to.bare === from.bare) return false;
      // §5.3: the user's own stanza to an entity it blocks is refused, and says why.
      if (await lists.blocks(from.bare, to.full)) {
        if (!isAnswer(stanza)) reply(origin, errorReply(stanza, blockedError()));
        return true;
      }
      // §5.3: a stanza from an entity the recipient blocks; the recipient appears offline. An IQ to the bare
      // JID is the server's to answer for the account (PEP): it goes on, and the access decision, which sees
      // the block, refuses it exactly as it refuses a stranger, so the blocked entity cannot tell.
      if (stanza.name === 'iq' && to.isBare()) return false;
      if (to.local && api.isLocalDomain(to.domain) && (await lists.blocks(to.bare, from.full))) {
        const type = stanza.attrs.type;
        const answered = stanza.name === 'message' ? type !== 'error' : stanza.name === 'iq' && (type === 'get' || type === 'set');
        if (answered) reply(origin, unavailableReply(stanza));
        return true;
      }
      return false;
    }
    api.hook('outgoing/message', guard, PRIORITY);
    api.hook('outgoing/presence', guard, PRIORITY);
    api.hook('outgoing/iq', guard, PRIORITY);

    // ------------------------------------------------------------------------------ stanzas the server routes
    /** Either side blocks the other: nothing passes, and nothing is said. */
    async function either({ from, to }: StanzaContext): Promise<boolean> {
      if (!to || to.bare === from.bare) return false;
      if (await lists.blocks(to.bare, from.full)) return true;
      return from.local !== '' && (await lists.blocks(from.bare, to.full));
    }
    api.hook('incoming/presence', either, PRIORITY);
    api.hook('incoming/message', either, PRIORITY);
  },
});
