// Events as plain data (XEP-0060 §7.1.2 items, §7.2.2.1 retract, §8.5.2 purge, §8.4.2 delete, §8.2.5.3
// configuration). The wiring layer turns each into one <message/> per allowed recipient; xml.ts builds the
// <event/> element once per event.
import type { Affiliation, NodeConfig } from '../../storage/types.ts';

export interface EventItem {
  id: string;
  /** Present only when the node exposes publishers (pubsub#itemreply = publisher, XEP-0060 §7.1.2.3). */
  publisher?: string;
  /** Serialised payload element; absent for notification-only nodes (deliver_payloads false). */
  payload?: string;
}

/**
 * What decided access when the event happened: enough for `engine.mayReceiveEvent` to decide a recipient
 * even after the node is gone (delete events).
 */
export interface AccessSnapshot {
  accessModel: string;
  rosterGroupsAllowed: string[];
  /** Bare JID → affiliation, 'none' omitted. */
  affiliations: Record<string, Affiliation>;
}

export interface EventBase {
  service: string;
  node: string;
  /** The node's effective configuration at the time of the event. */
  config: NodeConfig;
  /** XEP-0060 pubsub#notification_type: the <message/> type to use. */
  messageType: 'headline' | 'normal';
  /** Explicit subscriptions (XEP-0060 §6.1) in state "subscribed", as subscribed (full or bare JIDs). */
  subscribers: string[];
  access: AccessSnapshot;
}

export interface ItemsEvent extends EventBase {
  type: 'items';
  /** Published items (at most one: XEP-0060 1.13 removed batch publishing). */
  items: EventItem[];
  /** Retracted item ids (§7.2.2.1). */
  retracts?: string[];
}

export interface PurgeEvent extends EventBase {
  type: 'purge';
}

export interface DeleteEvent extends EventBase {
  type: 'delete';
  /** §8.4.1: URI of a replacement node. */
  redirect?: string;
}

export interface ConfigEvent extends EventBase {
  type: 'config';
  /** §8.2.5.3: the full form is included only when the node delivers payloads. */
  includeConfig: boolean;
}

export type PubsubEvent = ItemsEvent | PurgeEvent | DeleteEvent | ConfigEvent;
