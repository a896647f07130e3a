// Disco features (XEP-0060 §10) of what this engine and xml.ts really implement. Features that depend on
// presence and caps wiring (auto-subscribe, filtered-notifications, last-published, presence-notifications)
// belong to the PEP module that implements them, not to this list.
import { pubsubFeature, type PubsubFeatureName } from '../../protocol/xep0060.ts';

const IMPLEMENTED: readonly PubsubFeatureName[] = [
  // §10: access-X means "the default access model is X"; PEP's default is presence (XEP-0163 §8).
  'access-presence',
  'auto-create', // §7.1.4
  'config-node', // §8.2
  'create-and-configure', // §8.1.3
  'create-nodes', // §8.1
  'delete-items', // §7.2
  'delete-nodes', // §8.4
  'instant-nodes', // §8.1.1
  'item-ids', // §7.1.1
  'manage-subscriptions', // §8.8
  'member-affiliation', // §4.1
  'modify-affiliations', // §8.9
  'multi-items', // pubsub#max_items > 1
  'outcast-affiliation', // §4.1
  'persistent-items', // §4.3
  'publish', // §7.1
  'publish-only-affiliation', // §4.1
  'publish-options', // §7.1.5
  'publisher-affiliation', // §4.1
  'purge-nodes', // §8.5
  'retract-items', // §7.2
  'retrieve-affiliations', // §5.7
  'retrieve-default', // §8.3
  'retrieve-items', // §6.5
  'retrieve-subscriptions', // §5.6
  'rsm', // §6.5.4
  'subscribe', // §6.1, §6.2
];

/** `http://jabber.org/protocol/pubsub#…` features to advertise in disco#info. */
export const PUBSUB_FEATURES: readonly string[] = Object.freeze(IMPLEMENTED.map(pubsubFeature));
