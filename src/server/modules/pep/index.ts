// XEP-0163 Personal Eventing Protocol, storing public data persistently as XEP-0222 describes: every
// account is a pubsub service at its bare JID. The XML-free engine (server/pubsub) decides; this module
// wires it to the server: IQ handling, disco, notification fan-out filtered by presence subscription,
// access model and entity caps, last-item delivery on presence, and cache invalidation on roster changes.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { x, type Element } from '../../../xml/index.ts';
import { defineModule, serviceKey } from '../../core/module-host.ts';
import type { IqContext } from '../../core/stanza-context.ts';
import { addressEach } from '../../core/broadcast.ts';
import type { ModuleSession, SessionHandle } from '../../../cluster/index.ts';
import { unavailableReply } from '../../../protocol/rfc6120.ts';
import { hasSubscriptionFrom, hasSubscriptionTo } from '../../../protocol/rfc6121.ts';
import { bareOf, domainOf, parseJid, type Jid } from '../../../jid/index.ts';
import { NS_PUBSUB, NS_PUBSUB_OWNER } from '../../../protocol/xep0060.ts';
import { NS_ADDRESS, PEP_FEATURES, PEP_IDENTITY } from '../../../protocol/xep0163.ts';
import { PUBKEY_NS } from '../../../protocol/xep0189.ts';
import { PubsubEngine, PUBSUB_FEATURES, buildEventElement, handlePubsubIq, type PubsubEvent } from '../../pubsub/index.ts';
import { cachedPubsubStore } from '../../pubsub/cached-store.ts';
import { Outbox } from './outbox.ts';
import { PrivacyService, RosterService } from '../roster/index.ts';
import { CapsService } from '../caps/index.ts';
import { DiscoService } from '../disco/index.ts';

export const pepOptions = z.strictObject({
  /** Nodes one account may create. */
  max_nodes: z.number().int().positive().prefault(128),
  /** Items one node may hold (pubsub#max_items = max means this). */
  max_items_per_node: z.number().int().positive().prefault(256),
  /** Largest item payload, in bytes. */
  max_payload_bytes: z.number().int().positive().prefault(64 * 1024),
});

/** The PEP pubsub engine, for embedding applications and tests. */
export const PepService = serviceKey<PubsubEngine>('pep');

declare module '../../core/events.ts' {
  interface ServerEvents {
    /** A batch of PEP events went out (metrics): the items published in it, and the notifications sent. */
    'pep/fanout': { published: number; notifications: number };
  }
}

const isPublish = (payload: Element) => payload.getChild('publish', NS_PUBSUB) !== undefined;

export const pepModule = defineModule({
  name: 'pep',
  requires: ['roster', 'presence', 'caps', 'disco'],
  provides: [PepService],
  fires: ['pep/fanout'],
  options: pepOptions,
  setup(api) {
    const roster = api.use(RosterService);
    const privacy = api.use(PrivacyService);
    const caps = api.use(CapsService);
    const disco = api.use(DiscoService);
    // Node records and affiliations from memory; this engine is the only writer in this process (see
    // cached-store.ts), and other cluster nodes forget what it changed before the change is answered.
    const store = cachedPubsubStore(api.storage.pubsub, { written: (nodes) => api.cluster.invalidate('pubsub-node', nodes) });
    const engine = new PubsubEngine({
      store,
      relationship: async (owner, requester) => {
        const [item, blocked] = await Promise.all([roster.getItem(owner, requester), privacy.eitherBlocks(owner, requester)]);
        return { subscription: item?.subscription ?? 'none', groups: item?.groups ?? [], inRoster: item !== undefined, blocked };
      },
      limits: { maxNodesPerService: api.options.max_nodes, maxItemsPerNode: api.options.max_items_per_node, maxPayloadBytes: api.options.max_payload_bytes },
    });
    api.provide(PepService, engine);
    api.cluster.onInvalidate('pubsub-node', (data) => {
      if (data === undefined) {
        store.forget();
        engine.forgetAll();
        return;
      }
      for (const { service, node } of data as { service: string; node?: string }[]) {
        store.forget(service, node);
        engine.service(service).forget(node === undefined ? {} : { node });
      }
    });
    // A block changed on another node (XEP-0191 counts both ways): decisions of either side are stale here.
    api.cluster.onInvalidate('blocklist', (data) => {
      if (data === undefined) return engine.forgetAll();
      const { owner, entities } = data as { owner: string; entities: string[] };
      engine.service(owner).forget();
      for (const e of entities) if (!e.includes('/') && e.includes('@')) engine.service(e).forget({ recipient: owner });
    });
    // A roster changed on another node: the access decisions about that contact are stale here too.
    api.cluster.onInvalidate('roster', (data) => {
      if (data === undefined) return engine.forgetAll();
      const { owner, contact } = data as { owner: string; contact: string };
      engine.service(owner).forget({ recipient: contact });
    });

    // ------------------------------------------------------------------------------ disco (XEP-0163 §5, XEP-0222 §5)
    api.addIdentity('account', PEP_IDENTITY);
    api.addIdentity('host', PEP_IDENTITY);
    for (const scope of ['account', 'host'] as const) {
      api.addFeature(scope, NS_PUBSUB);
      for (const f of [...PUBSUB_FEATURES, ...PEP_FEATURES]) api.addFeature(scope, f);
    }
    disco.addItemsProvider('account', async ({ from, to, node }) => {
      if (node !== undefined) return [];
      // XEP-0163 §5: only the nodes the requester may subscribe to or retrieve.
      return (await engine.service(to).nodes(from)).map((n) => ({ jid: to.bare, node: n.node, name: n.title }));
    });
    disco.addNodeInfoProvider('account', async ({ from, to, node }) => {
      // An absent node must look exactly like a hidden one (item-not-found), not fail with internal-server-error.
      if (node === undefined || !(await engine.service(to).may(node, from, 'retrieve'))) return undefined;
      return { identities: [{ category: 'pubsub', type: 'leaf' }], features: [NS_PUBSUB] };
    });

    // ------------------------------------------------------------------------------ IQs
    const onIq = async ({ stanza, from, to, type, proceed }: IqContext) => {
      // Only sets change anything, so only they take a place in the notification order.
      const turn = type === 'set' ? takeTurn() : undefined;
      let job: NotificationJob | undefined;
      try {
        // A PubsubError is a StanzaError: thrown through, the router answers with it.
        const r = await handlePubsubIq(engine, { stanza, from, to, proceed });
        if (r.events.length || r.sendLast) job = { events: r.events, publisher: from.full, sendLast: r.sendLast };
        return r.payload;
      } finally {
        // Notifications go out after the IQ result, which the router sends when this handler returns.
        if (turn) endTurn(turn, job);
      }
    };
    // A burst of publishes shares commits: each lets the session go on once its writes are queued, and its
    // result and notifications still wait until they are durable (core/pipeline.ts).
    api.handleIq('account', NS_PUBSUB, onIq, { pipelined: (payload, type) => type === 'set' && isPublish(payload) });
    api.handleIq('account', NS_PUBSUB_OWNER, onIq);
    // The bare domain is a pubsub service too, whose nodes only the server writes (it alone is its owner):
    // the transparency module publishes the domain's signed tree heads there for anyone to read and follow.
    api.handleIq('host', NS_PUBSUB, onIq);
    api.handleIq('host', NS_PUBSUB_OWNER, onIq);

    // ------------------------------------------------------------------------------ direct key requests
    // XEP-0189 §7: a contact's client refuses a direct key request with service-unavailable so that the asker
    // cannot tell it from an absent resource. But a refusal from the client costs a round trip the server's
    // own answer does not, so the asker could still time it. The server therefore answers for the client
    // whoever may learn nothing from the answer — neither the owner's presence (no from/both subscription)
    // nor the key node (the access model refuses them) — before looking for the resource at all: the same
    // stanza, from the same code, whether the resource is there or not.
    const directKeyNs = new Set<string>(Object.values(PUBKEY_NS));
    api.hook('outgoing/iq', async ({ stanza, from, to, origin }) => {
      const type = stanza.attrs.type;
      const payload = stanza.elements[0];
      if ((type !== 'get' && type !== 'set') || !payload || payload.local !== 'pubkey' || !directKeyNs.has(payload.ns)) return false;
      if (!to?.local || to.isBare() || to.bare === from.bare || !api.isLocalDomain(to.domain)) return false;
      if (await mayAskDirectly(to.bare, from, payload.ns)) return false;
      const reply = unavailableReply(stanza);
      if (origin && !origin.isClosed) origin.deliver(reply);
      return true;
    });
    async function mayAskDirectly(owner: string, requester: Jid, node: string): Promise<boolean> {
      // Both asked every time, so the answer takes the same work whatever the first one says.
      const [item, readable] = await Promise.all([roster.getItem(owner, requester.bare), engine.service(owner).may(node, requester, 'retrieve')]);
      return hasSubscriptionFrom(item?.subscription) || readable;
    }

    // ------------------------------------------------------------------------------ notifications
    interface NotificationJob {
      events: PubsubEvent[];
      publisher: string;
      sendLast?: { to: string; event: PubsubEvent };
    }
    /**
     * Requests finish in any order (a PostgreSQL read can overtake an earlier one on another pooled
     * connection), so each set takes a turn when it starts, and notifications are queued in turn order:
     * pipelined publishes of one session notify in the order they were sent.
     */
    interface Turn {
      done: boolean;
      job?: NotificationJob;
    }
    const turns: Turn[] = [];
    function takeTurn(): Turn {
      const turn: Turn = { done: false };
      turns.push(turn);
      return turn;
    }
    function endTurn(turn: Turn, job: NotificationJob | undefined): void {
      turn.done = true;
      turn.job = job;
      while (turns.length > 0 && turns[0]!.done) {
        const first = turns.shift()!;
        if (first.job) queueNotifications(first.job);
      }
    }

    let queued: NotificationJob[] = [];
    /** Fan-outs run one batch at a time, so notifications reach each recipient in publish order. */
    let fanouts: Promise<void> = Promise.resolve();
    const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
    /**
     * A batch is taken when the previous fan-out has finished and the event loop has turned once: everything
     * queued meanwhile (the publishes one commit made durable, and those that became durable while the
     * previous batch went out) goes out together, one write per recipient.
     */
    function queueNotifications(job: NotificationJob): void {
      queued.push(job);
      // A batch is already waiting for its turn: this job joins it.
      if (queued.length > 1) return;
      fanouts = fanouts
        .then(nextTurn)
        .then(async () => {
          const jobs = queued;
          queued = [];
          const outbox = new Outbox();
          try {
            for (const j of jobs) {
              for (const e of j.events) await fanout(e, j.publisher, outbox);
              if (j.sendLast) await sendTo([j.sendLast.to], j.sendLast.event, undefined, outbox);
            }
          } finally {
            // What was gathered before a failure still goes out.
            outbox.flush();
            let published = 0;
            for (const j of jobs) for (const e of j.events) if (e.type === 'items') published += e.items.length;
            void api.fire('pep/fanout', { published, notifications: outbox.count }).catch((err) => api.logger.error({ err }, 'pep/fanout hook failed'));
          }
        })
        .catch((err) => api.logger.error({ err }, 'notification fan-out failed'));
    }

    /** Serialises the notification once, at the first recipient (none: no work); only the address differs. */
    function messageTemplate(event: PubsubEvent, replyTo: string | undefined): (to: string) => string {
      return addressEach(() => buildMessage(event, replyTo));
    }

    function buildMessage(event: PubsubEvent, replyTo: string | undefined): Element {
      return x('message', { from: event.service, type: event.messageType, id: randomBytes(8).toString('hex') },
        buildEventElement(event),
        replyTo ? x('addresses', { xmlns: NS_ADDRESS }, x('address', { type: 'replyto', jid: replyTo })) : undefined);
    }

    const wants = (s: SessionHandle, node: string) => s.available && caps.wantsNotify(s.jid.full, node);

    /** XEP-0163 §4.3: owner's resources, presence-sharing contacts allowed by the access model, explicit subscribers. */
    async function fanout(event: PubsubEvent, publisher: string | undefined, outbox: Outbox): Promise<void> {
      const service = event.service;
      const withReply = messageTemplate(event, publisher);
      const plain = publisher ? messageTemplate(event, undefined) : withReply;
      const sent = new Set<string>();
      const deliver = (s: SessionHandle, tpl: (to: string) => string) => {
        if (sent.has(s.jid.full)) return;
        sent.add(s.jid.full);
        outbox.add(s, tpl(s.jid.full));
      };
      // Same test as wants(), with the feature name built once per event rather than once per resource.
      const notify = `${event.node}+notify`;
      const wantsEvent = (s: SessionHandle) => s.available && (caps.features(s.jid.full)?.has(notify) ?? false);
      for (const s of api.sessions.resources(service)) if (wantsEvent(s)) deliver(s, withReply);
      for (const item of await roster.getAll(service)) {
        if (!hasSubscriptionFrom(item.subscription)) continue;
        if (!api.isLocalDomain(domainOf(item.jid))) {
          await notifyRemoteContact(event, item.jid, notify, publisher, sent);
          continue;
        }
        // No filtered array for contacts without an interested resource.
        let targets: SessionHandle[] | undefined;
        for (const s of api.sessions.resources(item.jid)) if (wantsEvent(s)) (targets ??= []).push(s);
        if (targets === undefined) continue;
        const may = engine.receivesEvent(event, item.jid);
        if (may === false || (may !== true && !(await may))) continue;
        for (const s of targets) deliver(s, withReply);
      }
      await sendTo(event.subscribers, event, plain, outbox, sent);
    }

    /**
     * A contact on another server: its resources whose presence reached the owner, filtered by their caps as
     * local ones are, each sent its notification over federation.
     */
    async function notifyRemoteContact(event: PubsubEvent, contact: string, notify: string, publisher: string | undefined, sent: Set<string>): Promise<void> {
      const targets = caps.remoteResources(contact, event.service).filter((r) => r.features.has(notify) && !sent.has(r.jid));
      if (targets.length === 0 || !(await engine.mayReceiveEvent(event, contact))) return;
      for (const t of targets) {
        sent.add(t.jid);
        const m = buildMessage(event, publisher);
        m.attrs.to = t.jid;
        await api.route(m);
      }
    }

    /** XEP-0163 §4.3.3 "Number of notifications" for explicit subscribers (full or bare JIDs). */
    async function sendTo(
      subscribers: string[], event: PubsubEvent, tpl: ((to: string) => string) | undefined, outbox: Outbox, sent = new Set<string>(),
    ): Promise<void> {
      const template = tpl ?? messageTemplate(event, undefined);
      for (const sub of subscribers) {
        const bare = bareOf(sub);
        if (!(await engine.mayReceiveEvent(event, bare))) continue;
        if (!api.isLocalDomain(domainOf(bare))) {
          // A remote subscriber's own server delivers to the JID it subscribed (over federation, when on).
          if (sent.has(sub)) continue;
          sent.add(sub);
          const m = buildMessage(event, undefined);
          m.attrs.to = sub;
          await api.route(m);
          continue;
        }
        if (bare !== sub) {
          const s = api.sessions.get(sub);
          if (s && !sent.has(sub)) {
            sent.add(sub);
            outbox.add(s, template(sub));
          }
          continue;
        }
        const interested = api.sessions.resources(bare).filter((s) => wants(s, event.node));
        for (const s of interested) {
          if (sent.has(s.jid.full)) continue;
          sent.add(s.jid.full);
          outbox.add(s, template(s.jid.full));
        }
      }
    }

    /** Last published items for a newly available (or newly interested) resource, from every service it may follow. */
    async function sendLastItems(session: ModuleSession, services?: string[]): Promise<void> {
      const bare = session.jid.bare;
      const list = services ?? [bare, ...(await roster.getAll(bare)).filter((i) => hasSubscriptionTo(i.subscription)).map((i) => i.jid)];
      for (const service of list) {
        if (!api.isLocalDomain(domainOf(service))) continue;
        // The contact must still share presence with the user (XEP-0163 §4.3 rule 2); the owner always may.
        if (service !== bare && !hasSubscriptionFrom((await roster.getItem(service, bare))?.subscription)) continue;
        const events = await engine.service(service).lastPublishedItems(session.jid, (node) => caps.wantsNotify(session.jid.full, node));
        for (const ev of events) {
          if (session.isClosed) return;
          session.deliver(messageTemplate(ev, undefined)(session.jid.full));
        }
      }
    }

    const lastSent = new WeakSet<ModuleSession>();
    api.hook('presence/available', async ({ session, initial }) => {
      // XEP-0163 §4.3.4 note: only initial presence triggers last-item delivery.
      if (!initial || !caps.features(session.jid.full)) return;
      lastSent.add(session);
      await sendLastItems(session);
    });
    api.hook('caps/changed', async ({ session }) => {
      // Caps learnt after the initial presence (first disco#info round trip): deliver then, once.
      if (!session.available || lastSent.has(session) || !caps.features(session.jid.full)) return;
      lastSent.add(session);
      await sendLastItems(session);
    });
    api.hook('presence/unavailable', ({ session }) => {
      lastSent.delete(session);
    });
    // A remote contact's resource became available to the owner and its caps are known: its last items, as
    // for a local contact's initial presence (XEP-0163 §4.3.4), through its server.
    api.hook('caps/remote', async ({ owner, jid }) => {
      if (hasSubscriptionFrom((await roster.getItem(owner, bareOf(jid)))?.subscription)) await sendLastRemote(owner, jid);
    });
    async function sendLastRemote(owner: string, jid: string): Promise<void> {
      const features = caps.remoteFeatures(jid);
      if (!features) return;
      for (const ev of await engine.service(owner).lastPublishedItems(parseJid(jid), (node) => features.has(`${node}+notify`))) {
        const m = buildMessage(ev, undefined);
        m.attrs.to = jid;
        await api.route(m);
      }
    }

    // Account deletion (core/account-lifecycle.ts): each node is deleted as its owner would delete it, so
    // subscribers and contacts get the XEP-0060 §8.4.2 <delete/> notification; runs before the roster
    // module cancels the subscriptions (priority), since the fan-out follows the roster.
    api.hook('account/deleted', async ({ jid }) => {
      const owner = parseJid(jid);
      const service = engine.service(owner);
      const events: PubsubEvent[] = [];
      for (const { node } of await service.nodes(owner)) {
        const { event } = await service.delete(node, owner);
        if (event) events.push(event);
      }
      if (events.length) queueNotifications({ events, publisher: jid });
      await fanouts;
      await service.deleteAll();
    }, 10);

    // A block (XEP-0191) counts at once, both ways: the owner's nodes for the entity and the entity's for the owner.
    privacy.onChanged(async (owner, entity) => {
      const bare = entity !== undefined && !entity.includes('/') && entity.includes('@');
      await engine.service(owner).relationshipChanged(bare ? entity : undefined);
      if (bare && api.isLocalDomain(domainOf(entity))) await engine.service(entity).relationshipChanged(owner);
    });

    api.hook('roster/changed', async ({ owner, contact, item, previous }) => {
      // XEP-0163 §9.1 / XEP-0222: roster changes count for the very next retrieval and notification.
      await engine.service(owner).relationshipChanged(contact);
      // A new presence subscriber gets the owner's last items now (send_last_published_item on_sub).
      if (item && hasSubscriptionFrom(item.subscription) && !hasSubscriptionFrom(previous?.subscription)) {
        for (const s of api.sessions.resources(contact)) {
          if (s.available) await sendLastItems(s, [owner]);
        }
        for (const r of caps.remoteResources(contact, owner)) await sendLastRemote(owner, r.jid);
      }
    });
  },
});
