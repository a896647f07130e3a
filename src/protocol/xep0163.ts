// XEP-0163 — Personal Eventing Protocol, version 1.2.2. PEP-specific pubsub features a PEP service must
// support beyond the engine's own (§3): automatic subscriptions from presence, caps-filtered notifications,
// last-item delivery on presence.
import { pubsubFeature } from './xep0060.ts';

export const PEP_IDENTITY = { category: 'pubsub', type: 'pep' } as const;

export const PEP_FEATURES: readonly string[] = [
  pubsubFeature('auto-subscribe'),
  pubsubFeature('filtered-notifications'),
  pubsubFeature('last-published'),
  pubsubFeature('presence-notifications'),
  pubsubFeature('presence-subscribe'),
];

/** XEP-0033 Extended Stanza Addressing, used for the "replyto" address of PEP notifications (XEP-0163 §4.3.2). */
export const NS_ADDRESS = 'http://jabber.org/protocol/address';
