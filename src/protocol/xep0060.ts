// XEP-0060 — Publish-Subscribe, version 1.30.0. Namespaces, FORM_TYPEs, disco feature names and the
// pubsub error (a stanza error with its pubsub#errors condition).
import { StanzaError, type StanzaErrorCondition, type StanzaErrorType } from './rfc6120.ts';
import { x } from '../xml/index.ts';
export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
export const NS_PUBSUB_OWNER = 'http://jabber.org/protocol/pubsub#owner';
export const NS_PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event';
export const NS_PUBSUB_ERRORS = 'http://jabber.org/protocol/pubsub#errors';

/** §16.4 FORM_TYPEs. */
export const FORM_NODE_CONFIG = 'http://jabber.org/protocol/pubsub#node_config';
export const FORM_PUBLISH_OPTIONS = 'http://jabber.org/protocol/pubsub#publish-options';
export const FORM_META_DATA = 'http://jabber.org/protocol/pubsub#meta-data';
export const FORM_SUBSCRIBE_OPTIONS = 'http://jabber.org/protocol/pubsub#subscribe_options';

/** §10 feature names (the part after `pubsub#`). */
export type PubsubFeatureName =
  | 'access-authorize' | 'access-open' | 'access-presence' | 'access-roster' | 'access-whitelist'
  | 'auto-create' | 'auto-subscribe' | 'config-node' | 'create-and-configure' | 'create-nodes' | 'delete-items'
  | 'delete-nodes' | 'filtered-notifications' | 'get-pending' | 'instant-nodes' | 'item-ids' | 'last-published'
  | 'leased-subscription' | 'manage-subscriptions' | 'member-affiliation' | 'meta-data' | 'modify-affiliations'
  | 'multi-items' | 'multi-subscribe' | 'outcast-affiliation' | 'persistent-items' | 'presence-notifications'
  | 'presence-subscribe' | 'publish' | 'publish-options' | 'publish-only-affiliation' | 'publisher-affiliation'
  | 'publish-node-full' | 'purge-nodes' | 'retract-items' | 'retrieve-affiliations' | 'retrieve-default'
  | 'retrieve-default-sub' | 'retrieve-items' | 'retrieve-subscriptions' | 'rsm' | 'subscribe'
  | 'subscription-options' | 'subscription-notifications';

/** `http://jabber.org/protocol/pubsub#<name>` (§10; `rsm` per §6.5.4). */
export function pubsubFeature(name: PubsubFeatureName): string {
  return `${NS_PUBSUB}#${name}`;
}

/** RFC 6120 §8.3.3 conditions used by XEP-0060. */
export type PubsubStanzaCondition = Extract<StanzaErrorCondition,
  | 'bad-request' | 'conflict' | 'feature-not-implemented' | 'forbidden' | 'internal-server-error'
  | 'item-not-found' | 'not-acceptable' | 'not-allowed' | 'not-authorized' | 'policy-violation'
  | 'resource-constraint' | 'unexpected-request'>;

export type PubsubErrorType = Exclude<StanzaErrorType, 'continue'>;

/** §16 (schema for http://jabber.org/protocol/pubsub#errors). */
export type PubsubCondition =
  | 'closed-node' | 'configuration-required' | 'invalid-jid' | 'invalid-options' | 'invalid-payload'
  | 'invalid-subid' | 'item-forbidden' | 'item-required' | 'jid-required' | 'max-items-exceeded'
  | 'max-nodes-exceeded' | 'nodeid-required' | 'not-in-roster-group' | 'not-subscribed' | 'payload-too-big'
  | 'payload-required' | 'pending-subscription' | 'precondition-not-met' | 'presence-subscription-required'
  | 'subid-required' | 'too-many-subscriptions' | 'unsupported' | 'unsupported-access-model';

/** Where the XEP-0060 examples send a condition with another type than RFC 6120's usual one. */
const XEP0060_TYPES: Partial<Record<PubsubStanzaCondition, PubsubErrorType>> = {
  // §6.2.3.2 not-subscribed
  'unexpected-request': 'cancel',
  'policy-violation': 'cancel',
};

export interface PubsubErrorOptions {
  pubsubCondition?: PubsubCondition;
  /** For <unsupported feature='...'/>: the feature name without the pubsub# prefix. */
  feature?: string;
  text?: string;
  type?: PubsubErrorType;
}

/**
 * A stanza error carrying its pubsub#errors condition (§7 error examples): thrown once by the engine or
 * the request parser, serialised once by whoever answers the stanza (`toElement`).
 */
export class PubsubError extends StanzaError {
  declare readonly condition: PubsubStanzaCondition;
  declare readonly type: PubsubErrorType;
  readonly pubsubCondition: PubsubCondition | undefined;
  readonly feature: string | undefined;

  constructor(condition: PubsubStanzaCondition, opts: PubsubErrorOptions = {}) {
    const app = opts.pubsubCondition ? x(opts.pubsubCondition, { xmlns: NS_PUBSUB_ERRORS, feature: opts.feature }) : undefined;
    super(condition, opts.text, opts.type ?? XEP0060_TYPES[condition], app);
    const tail = opts.pubsubCondition ? `/${opts.pubsubCondition}${opts.feature ? `(${opts.feature})` : ''}` : '';
    this.message = `${condition}${tail}${opts.text ? `: ${opts.text}` : ''}`;
    this.name = 'PubsubError';
    this.pubsubCondition = opts.pubsubCondition;
    this.feature = opts.feature;
  }
}
