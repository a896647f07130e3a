// Access decisions (XEP-0060 §4.1 affiliations, §4.5 access models, §6.1.3 / §6.5.9 errors). One pure
// function decides retrieval, subscription, disco listing and notification delivery alike, so the four
// can never disagree.
import type { Affiliation, Subscription } from '../../storage/types.ts';
import type { TypedConfig } from './config.ts';
import { errors, type PubsubError } from './errors.ts';

/** The owner's roster entry about the requester's bare JID (what the PEP wiring supplies). */
export interface Relationship {
  subscription: Subscription;
  groups: string[];
}

export const NO_RELATIONSHIP: Relationship = Object.freeze({ subscription: 'none', groups: [] }) as Relationship;

export type AccessDecision = { ok: true } | { ok: false; error: PubsubError };

export interface AccessFacts {
  /** The requester is the service owner (PEP: bare JID of the account) or has the owner affiliation. */
  isOwner: boolean;
  affiliation: Affiliation;
  /** Needed only for the presence and roster models; see `needsRelationship`. */
  relationship?: Relationship;
}

const OK: AccessDecision = Object.freeze({ ok: true });

export function needsRelationship(config: Pick<TypedConfig, 'accessModel'>): boolean {
  return config.accessModel === 'presence' || config.accessModel === 'roster';
}

/** XEP-0060 §4.5: presence access means a subscription of type "from" or "both" in the owner's roster. */
export function hasPresenceSubscription(rel: Relationship | undefined): boolean {
  return rel !== undefined && (rel.subscription === 'from' || rel.subscription === 'both');
}

/** May this requester see the node's items (retrieve, subscribe, be listed, receive notifications)? */
export function canAccess(config: Pick<TypedConfig, 'accessModel' | 'rosterGroupsAllowed'>, facts: AccessFacts): AccessDecision {
  // XEP-0060 §6.5.1: the owner may always retrieve items.
  if (facts.isOwner || facts.affiliation === 'owner') return OK;
  // XEP-0060 §6.1.3.8 / §6.5.9.10: outcasts are blocked with <forbidden/> whatever the model.
  if (facts.affiliation === 'outcast') return { ok: false, error: errors.forbidden('outcast') };
  // XEP-0060 §4.1 table: publish-only may neither subscribe nor retrieve.
  if (facts.affiliation === 'publish-only') return { ok: false, error: errors.forbidden('publish-only affiliation') };
  // §4.1 table: members and publishers may subscribe and retrieve; §4.5 whitelist is the member list.
  if (facts.affiliation === 'member' || facts.affiliation === 'publisher') return OK;
  switch (config.accessModel) {
    case 'open':
      return OK;
    case 'presence':
      // §6.1.3.2 / §6.5.9.7
      return hasPresenceSubscription(facts.relationship) ? OK : { ok: false, error: errors.presenceSubscriptionRequired() };
    case 'roster': {
      // §6.5.1: "subscribed to the owner's presence and contained in the relevant roster group(s)".
      const groups = facts.relationship?.groups ?? [];
      if (!groups.some((g) => config.rosterGroupsAllowed.includes(g))) return { ok: false, error: errors.notInRosterGroup() };
      return hasPresenceSubscription(facts.relationship) ? OK : { ok: false, error: errors.presenceSubscriptionRequired() };
    }
    case 'whitelist':
      // §6.1.3.4 / §6.5.9.9
      return { ok: false, error: errors.closedNode() };
    default:
      // A model we do not implement (e.g. "authorize" in an imported config) grants nobody but the above.
      return { ok: false, error: errors.closedNode() };
  }
}

/** XEP-0060 §4.1: who may publish. PEP (XEP-0163 §3.2) has one publisher, the owner; publishers are optional. */
export function canPublish(facts: Pick<AccessFacts, 'isOwner' | 'affiliation'>): boolean {
  return facts.isOwner || facts.affiliation === 'owner' || facts.affiliation === 'publisher' || facts.affiliation === 'publish-only';
}

/** XEP-0060 §4.1: configure, delete, affiliations, subscriptions management: owners only. */
export function isOwnerLike(facts: Pick<AccessFacts, 'isOwner' | 'affiliation'>): boolean {
  return facts.isOwner || facts.affiliation === 'owner';
}
