// Who may do what (XEP-0060 §4.1 affiliations, §4.5 access models), as Prosody's util/pubsub.lua decides
// it: one capability table per affiliation, and one decision, `denied`, that every operation asks. As in
// Prosody's mod_pep, the access model only speaks for entities without an affiliation: it makes them members
// (open; presence and roster when the owner's roster says so) or leaves them with nothing. Retrieval,
// subscription, disco listing and notification delivery are all `retrieve`/`subscribe`, whose rows are the
// same, so they can never disagree. The errors are the XEP-0060 conditions of each refusal.
import { hasSubscriptionFrom } from '../../protocol/rfc6121.ts';
import type { Affiliation, Subscription } from '../../storage/types.ts';
import type { TypedConfig } from './config.ts';
import { errors, type PubsubError } from './errors.ts';

/** The owner's roster entry about the requester's bare JID (what the PEP wiring supplies). */
export interface Relationship {
  subscription: Subscription;
  groups: string[];
  /**
   * The owner's roster holds an item for the requester, whatever its subscription. When left out: an item
   * with a subscription or a group counts as one.
   */
  inRoster?: boolean;
  /**
   * One of the two blocks the other (XEP-0191): the requester is refused everything an access model could
   * grant, open included, and is told nothing it would not be told about a node that does not exist.
   */
  blocked?: boolean;
}

export const NO_RELATIONSHIP: Relationship = Object.freeze({ subscription: 'none', groups: [], inRoster: false }) as Relationship;

/** Does the owner know the requester (a roster item)? */
function inRoster(rel: Relationship | undefined): boolean {
  if (!rel) return false;
  return rel.inRoster ?? (rel.subscription !== 'none' || rel.groups.length > 0);
}

export type Action =
  | 'create' | 'publish' | 'retract' | 'retract-any' | 'purge' | 'configure' | 'delete'
  | 'manage-affiliations' | 'manage-subscriptions' | 'unsubscribe-other' | 'subscribe' | 'retrieve';

/** Where the actor stands: its affiliation ('owner' for the account itself, XEP-0163 §3.2) and roster entry. */
export interface Standing {
  affiliation: Affiliation;
  /** Needed only where `needsRelationship` says so. */
  relationship?: Relationship;
}

export type AccessModelConfig = Pick<TypedConfig, 'accessModel' | 'rosterGroupsAllowed'>;

const READER: readonly Action[] = ['subscribe', 'retrieve'];
const PUBLISHER: readonly Action[] = ['publish', 'retract', 'retract-any', 'purge', ...READER];

/**
 * XEP-0060 §4.1 table. Publishers may purge (the table's "Purge Node" column); publish-only entities delete
 * only their own items (`retract` without `retract-any`) and may neither subscribe nor retrieve.
 */
export const CAPABILITIES: Readonly<Record<Affiliation, ReadonlySet<Action>>> = {
  owner: new Set<Action>([
    'create', 'configure', 'delete', 'manage-affiliations', 'manage-subscriptions', 'unsubscribe-other', ...PUBLISHER,
  ]),
  publisher: new Set(PUBLISHER),
  'publish-only': new Set<Action>(['publish', 'retract']),
  member: new Set(READER),
  none: new Set(),
  outcast: new Set(),
};

/** Actions only an affiliation grants (the access model has no say). */
export type AffiliationAction = Exclude<Action, 'subscribe' | 'retrieve'>;

const REFUSALS: Record<AffiliationAction, () => PubsubError> = {
  // XEP-0163 §3.2: the account owner is the only one who creates (and auto-creates) PEP nodes.
  create: () => errors.forbidden('only the owner may create nodes'),
  // §7.1.3.1, §7.2.3.1
  publish: () => errors.forbidden('not a publisher'),
  retract: () => errors.forbidden('not a publisher'),
  // §4.1 note: publish-only entities delete only their own items.
  'retract-any': () => errors.forbidden('not the publisher of this item'),
  // §8.5.3.2, §8.2.3.2, §8.4.3.1, §8.9.1.3, §8.8.1.3: "Insufficient Privileges".
  purge: () => errors.forbidden('not an owner'),
  configure: () => errors.forbidden('not an owner'),
  delete: () => errors.forbidden('not an owner'),
  'manage-affiliations': () => errors.forbidden('not an owner'),
  'manage-subscriptions': () => errors.forbidden('not an owner'),
  // §6.2.3.3: only the subscriber's own bare JID (or the owner) may unsubscribe it.
  'unsubscribe-other': () => errors.forbidden('cannot unsubscribe another entity'),
};

/** The XEP-0060 error refusing an action only an affiliation grants. */
export function refusal(action: AffiliationAction): PubsubError {
  return REFUSALS[action]();
}

/**
 * Does deciding `action` for this affiliation under this model need the owner's roster entry? Every model
 * that can grant something to an entity without affiliation does (open too: a blocked entity is refused).
 */
export function needsRelationship(action: Action, affiliation: Affiliation, config: Pick<TypedConfig, 'accessModel'>): boolean {
  return affiliation === 'none' && CAPABILITIES.member.has(action) && (config.accessModel === 'open' || config.accessModel === 'presence' || config.accessModel === 'roster');
}

/** XEP-0060 §4.5: presence access means a subscription of type "from" or "both" in the owner's roster. */
export function hasPresenceSubscription(rel: Relationship | undefined): boolean {
  return hasSubscriptionFrom(rel?.subscription);
}

/** Undefined when the actor may do `action`; otherwise the XEP-0060 error that refuses it. */
export function denied(action: Action, standing: Standing, config?: AccessModelConfig): PubsubError | undefined {
  const { affiliation } = standing;
  if (CAPABILITIES[affiliation].has(action)) return undefined;
  if (action !== 'subscribe' && action !== 'retrieve') return refusal(action);
  // §6.1.3.8 / §6.5.9.10: outcasts are blocked with <forbidden/> whatever the model.
  if (affiliation === 'outcast') return errors.forbidden('outcast');
  // §4.1 table: publish-only may neither subscribe nor retrieve.
  if (affiliation === 'publish-only') return errors.forbidden('publish-only affiliation');
  return modelRefusal(config, standing.relationship);
}

/**
 * What a refused entity may learn about a node (issue 19; docs/security.md "Node existence"). XEP-0060 names
 * the reason of each refusal (§6.5.9), and Prosody tells it to anyone; we tell it only to entities the owner
 * knows. A *stranger* — not the owner, no affiliation at the node, no item in the owner's roster — learns
 * nothing about a node it may not read: every request naming such a node is answered exactly as one naming a
 * node that does not exist (item-not-found), whatever the operation. Roster contacts and affiliated entities
 * still get the specific condition (presence-subscription-required, not-in-roster-group, closed-node,
 * forbidden). A node the stranger may read (open) is no secret and answers as usual.
 * Needs `standing.relationship` whenever `mayHide` says so.
 */
export function hidden(standing: Standing, config: AccessModelConfig): boolean {
  if (standing.affiliation !== 'none') return false;
  // A blocked entity is a stranger to every node, open ones included (XEP-0191, issue 13).
  if (standing.relationship?.blocked) return true;
  return !inRoster(standing.relationship) && denied('retrieve', standing, config) !== undefined;
}

/**
 * Can `hidden` be true for this affiliation and model (so the owner's roster must be read to decide)? For
 * any model, since a blocked entity is hidden from all.
 */
export function mayHide(affiliation: Affiliation, _config: Pick<TypedConfig, 'accessModel'>): boolean {
  return affiliation === 'none';
}

/** The error the access model answers an entity without affiliation with; undefined when it makes it a member. */
function modelRefusal(config: AccessModelConfig | undefined, rel: Relationship | undefined): PubsubError | undefined {
  // As for a node that is not there: the blocked entity cannot tell a block from an absence.
  if (rel?.blocked) return errors.nodeNotFound();
  switch (config?.accessModel) {
    case 'open':
      return undefined;
    case 'presence':
      // §6.1.3.2 / §6.5.9.7
      return hasPresenceSubscription(rel) ? undefined : errors.presenceSubscriptionRequired();
    case 'roster': {
      // §6.5.1: "subscribed to the owner's presence and contained in the relevant roster group(s)".
      const groups = rel?.groups ?? [];
      if (!groups.some((g) => config.rosterGroupsAllowed.includes(g))) return errors.notInRosterGroup();
      return hasPresenceSubscription(rel) ? undefined : errors.presenceSubscriptionRequired();
    }
    default:
      // §6.1.3.4 / §6.5.9.9 whitelist: the member list is the affiliations above. A model we do not implement
      // (e.g. "authorize" in an imported config) grants nobody either.
      return errors.closedNode();
  }
}
