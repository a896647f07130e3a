// The operator's side of the roster: the `pepkeys roster add|del|list` commands (in the manner of ejabberdctl
// add_rosteritem / delete_rosteritem), on the running server through the admin socket or on the store when no
// server runs, and what account deletion does to the contacts (below, 'account/deleted').
//
// Semantics, one rule for both paths:
// - add: sets OWNER's item for CONTACT. --name and --group replace the item's name and groups when given
//   (an item that exists keeps them otherwise). --subscription sets the state directly, without the
//   subscribe/subscribed exchange; when CONTACT is a local account, its item for OWNER is set to the mirror
//   state (both ↔ both, to ↔ from, none ↔ none; created without name or groups if absent, except for none),
//   so both sides agree, as two ejabberdctl add_rosteritem calls would make them. Pending requests that the
//   new state answers are dropped. Without --subscription an existing state is kept (new items: none).
// - del: removes OWNER's item, and cancels the subscriptions in both directions as RFC 6121 §2.5.2 does for
//   a roster remove: a local CONTACT keeps its item for OWNER, with subscription none.
// On a running server every change goes through the roster service: pushed to the interested resources
// (RFC 6121 §2.1.6), 'roster/changed' fired (PEP access decisions for roster groups see it at once), and
// presence follows the new state (current presence to a new subscriber, unavailable to a former one).
import { z } from 'zod';
import { x } from '../../../xml/index.ts';
import { parseJid } from '../../../jid/index.ts';
import { defineModule } from '../../core/module-host.ts';
import { hasSubscriptionFrom, hasSubscriptionTo } from '../../../protocol/rfc6121.ts';
import type { RosterItem, Storage, Subscription } from '../../../storage/types.ts';
import { accountJid } from '../../admin/args.ts';
import { AdminError } from '../../admin/errors.ts';
import { RosterService } from './index.ts';

/** What the commands need of a roster: the roster service on a running server, or the store itself. */
export interface RosterOps {
  getAll(owner: string): Promise<RosterItem[]>;
  getItem(owner: string, contact: string): Promise<RosterItem | undefined>;
  putItem(owner: string, item: RosterItem): Promise<unknown>;
  removeItem(owner: string, contact: string): Promise<unknown>;
  removePendingIn(owner: string, from: string): Promise<unknown>;
  accountExists(bare: string): Promise<boolean>;
}

export const rosterAddArgs = z.strictObject({
  owner: accountJid,
  contact: z.string(),
  name: z.string().max(1024).optional(),
  groups: z.array(z.string().min(1).max(1024)).optional(),
  subscription: z.enum(['none', 'to', 'from', 'both']).optional(),
});
export const rosterDelArgs = z.strictObject({ owner: accountJid, contact: z.string() });
export const rosterListArgs = z.strictObject({ owner: accountJid });

const MIRROR: Record<Subscription, Subscription> = { none: 'none', to: 'from', from: 'to', both: 'both' };

function contactJid(owner: string, s: string): string {
  let bare: string;
  try {
    const j = parseJid(s);
    if (j.resource) throw new AdminError('bad-args', `${s}: a roster item is a bare JID (no /resource)`);
    bare = j.bare;
  } catch (err) {
    if (err instanceof AdminError) throw err;
    throw new AdminError('bad-args', `invalid JID ${s}: ${(err as Error).message}`);
  }
  if (bare === owner) throw new AdminError('bad-args', 'an account cannot be in its own roster');
  return bare;
}

async function needAccount(ops: RosterOps, owner: string): Promise<void> {
  if (!(await ops.accountExists(owner))) throw new AdminError('not-found', `no account ${owner}`);
}

/** One item moved to `subscription`, dropping a pending request or pre-approval that the new state answers. */
function withState(item: RosterItem, subscription: Subscription): RosterItem {
  return {
    ...item,
    subscription,
    ask: hasSubscriptionTo(subscription) ? undefined : item.ask,
    approved: hasSubscriptionFrom(subscription) ? undefined : item.approved,
  };
}

export interface RosterChange {
  owner: string;
  contact: string;
  before: RosterItem | undefined;
  after: RosterItem | undefined;
}

/** Applies `roster add`; returns the changes made (the owner's, then the contact's if any). */
export async function addRosterItem(ops: RosterOps, args: z.output<typeof rosterAddArgs>): Promise<RosterChange[]> {
  const { owner } = args;
  const contact = contactJid(owner, args.contact);
  await needAccount(ops, owner);
  const before = await ops.getItem(owner, contact);
  const base: RosterItem = before ?? { jid: contact, subscription: 'none', groups: [] };
  let after: RosterItem = { ...base, name: args.name === undefined ? base.name : args.name || undefined, groups: args.groups ? [...new Set(args.groups)] : [...base.groups] };
  if (args.subscription) after = withState(after, args.subscription);
  await ops.putItem(owner, after);
  const changes: RosterChange[] = [{ owner, contact, before, after }];
  if (args.subscription) {
    if (hasSubscriptionFrom(args.subscription)) await ops.removePendingIn(owner, contact);
    if (await ops.accountExists(contact)) {
      const theirs = await ops.getItem(contact, owner);
      const mirror = MIRROR[args.subscription];
      if (theirs || mirror !== 'none') {
        const next = withState(theirs ?? { jid: owner, subscription: 'none', groups: [] }, mirror);
        await ops.putItem(contact, next);
        if (hasSubscriptionFrom(mirror)) await ops.removePendingIn(contact, owner);
        changes.push({ owner: contact, contact: owner, before: theirs, after: next });
      }
    }
  }
  return changes;
}

/** Applies `roster del`; throws not-found when there is no such item. */
export async function removeRosterItem(ops: RosterOps, args: z.output<typeof rosterDelArgs>): Promise<RosterChange[]> {
  const { owner } = args;
  const contact = contactJid(owner, args.contact);
  await needAccount(ops, owner);
  const before = await ops.getItem(owner, contact);
  if (!before) throw new AdminError('not-found', `${contact} is not in the roster of ${owner}`);
  await ops.removeItem(owner, contact);
  await ops.removePendingIn(owner, contact);
  const changes: RosterChange[] = [{ owner, contact, before, after: undefined }];
  const theirs = (await ops.accountExists(contact)) ? await ops.getItem(contact, owner) : undefined;
  if (theirs && (theirs.subscription !== 'none' || theirs.ask)) {
    const next: RosterItem = { ...theirs, subscription: 'none', ask: undefined };
    await ops.putItem(contact, next);
    changes.push({ owner: contact, contact: owner, before: theirs, after: next });
  }
  await ops.removePendingIn(contact, owner);
  return changes;
}

/** Roster items as the admin protocol returns them. */
export function itemJson(item: RosterItem): Record<string, unknown> {
  return { jid: item.jid, name: item.name ?? null, subscription: item.subscription, ask: item.ask ?? null, approved: item.approved ?? false, groups: item.groups };
}

/** A change as the admin protocol returns it: the item after it (null: removed). */
export function changeJson(c: RosterChange): { owner: string; contact: string; item: ReturnType<typeof itemJson> | null } {
  return { owner: c.owner, contact: c.contact, item: c.after ? itemJson(c.after) : null };
}

/** The store as RosterOps, for the CLI when no server runs (nothing to push to, nobody's presence to send). */
export function storeRosterOps(storage: Storage): RosterOps {
  const r = storage.roster;
  return {
    getAll: async (owner) => (await r.get(owner)).items,
    getItem: (o, c) => r.getItem(o, c),
    putItem: (o, i) => r.putItem(o, i),
    removeItem: (o, c) => r.removeItem(o, c),
    removePendingIn: (o, f) => r.removePendingIn(o, f),
    accountExists: async (j) => (await storage.accounts.get(j)) !== undefined,
  };
}

export const rosterAdminModule = defineModule({
  name: 'roster-admin',
  requires: ['roster'],
  setup(api) {
    const roster = api.use(RosterService);
    const ops: RosterOps = {
      getAll: (o) => roster.getAll(o),
      getItem: (o, c) => roster.getItem(o, c),
      putItem: (o, i) => roster.putItem(o, i),
      removeItem: (o, c) => roster.removeItem(o, c),
      removePendingIn: (o, f) => api.storage.roster.removePendingIn(o, f),
      accountExists: (j) => api.accountExists(parseJid(j)),
    };

    /** Presence follows a change of who sees whom: current presence to a new subscriber, unavailable to a former one. */
    async function followPresence({ owner, contact, before, after }: RosterChange): Promise<void> {
      const was = hasSubscriptionFrom(before?.subscription);
      const is = hasSubscriptionFrom(after?.subscription);
      if (was === is) return;
      for (const s of api.sessions.resources(owner)) {
        if (!s.available) continue;
        const p = is && s.presence ? s.presence.clone() : x('presence', { type: 'unavailable' });
        p.attrs.from = s.jid.full;
        p.attrs.to = contact;
        await api.route(p);
      }
    }
    // The contact's side is its own change (the mirrored item), so each change is followed from its owner.
    async function follow(changes: RosterChange[]): Promise<void> {
      for (const c of changes) await followPresence(c);
    }

    // Account deletion, as Prosody and ejabberd do it: every contact is sent the unsubscribe/unsubscribed a
    // roster remove sends (RFC 6121 §2.5.2), so local contacts keep their item with subscription none (and
    // get a roster push) rather than having it silently vanish; pending requests are denied.
    api.hook('account/deleted', async ({ jid }) => {
      const pending = new Set((await api.storage.roster.listPendingIn(jid)).map((p) => p.from));
      for (const item of await roster.getAll(jid)) {
        if (hasSubscriptionTo(item.subscription) || item.ask) await api.route(x('presence', { type: 'unsubscribe', from: jid, to: item.jid }));
        if (hasSubscriptionFrom(item.subscription) || pending.delete(item.jid)) await api.route(x('presence', { type: 'unsubscribed', from: jid, to: item.jid }));
      }
      for (const from of pending) await api.route(x('presence', { type: 'unsubscribed', from: jid, to: from }));
    });

    api.adminCommand('roster.add', rosterAddArgs, async (args) => {
      const changes = await addRosterItem(ops, args);
      await follow(changes);
      return { changes: changes.map(changeJson) };
    });
    api.adminCommand('roster.del', rosterDelArgs, async (args) => {
      const changes = await removeRosterItem(ops, args);
      await follow(changes);
      return { changes: changes.map(changeJson) };
    });
    api.adminCommand('roster.list', rosterListArgs, async ({ owner }) => {
      await needAccount(ops, owner);
      return { items: (await ops.getAll(owner)).map(itemJson) };
    });
  },
});
