// XEP-0060 — Publish-Subscribe, version 1.30.0. Namespaces, FORM_TYPEs and disco feature names.
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
