// Public surface of the pubsub engine and its XEP-0060 XML mapping.
export { PubsubEngine, createPubsubEngine } from './engine.ts';
export type {
  PubsubEngineDeps, PubsubLimits, PublishItemInput, PublishResult, ItemView, RsmRequest, RsmResult, GetItemsOptions,
  GetItemsResult, NodeListing, AffiliationEntry, SubscriptionEntry, CancelledSubscription, SubscribeResult,
} from './engine.ts';
export { PubsubError, errors as pubsubErrors } from './errors.ts';
export type { PubsubCondition, PubsubStanzaCondition, PubsubErrorType } from './errors.ts';
export type { AccessDecision, AccessFacts, Relationship } from './access.ts';
export { canAccess, NO_RELATIONSHIP } from './access.ts';
export {
  NODE_CONFIG_FIELDS, PEP_DEFAULT_CONFIG, SUPPORTED_ACCESS_MODELS, effectiveConfig, normalizeConfig, typedConfig,
} from './config.ts';
export type { AccessModel, TypedConfig } from './config.ts';
export type { PubsubEvent, ItemsEvent, PurgeEvent, DeleteEvent, ConfigEvent, EventItem, AccessSnapshot, PubsubEventListener } from './events.ts';
export { PUBSUB_FEATURES } from './features.ts';
export {
  parsePubsubRequest, executePubsubRequest, handlePubsubIq, buildEventElement, buildNodeConfigForm, pubsubErrorElement,
  toStanzaError, serializePayload,
} from './xml.ts';
export type { PubsubRequest, PubsubExecution } from './xml.ts';
