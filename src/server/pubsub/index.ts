// Public surface of the pubsub engine and its XEP-0060 XML mapping.
export { PubsubEngine, createPubsubEngine } from './engine.ts';
export type { KeyLog, KeyWrite, PubsubEngineDeps, PubsubLimits } from './engine.ts';
export { PubsubService } from './service.ts';
export type {
  PublishItemInput, PublishOptions, PublishResult, ItemView, ItemsQuery, ItemsResult, NodeListing, NodeFilter, AffiliationEntry,
  SubscriptionEntry, CancelledSubscription, SubscribeResult,
} from './service.ts';
export { PubsubError, errors as pubsubErrors } from './errors.ts';
export type { PubsubCondition, PubsubStanzaCondition, PubsubErrorType } from './errors.ts';
export type { Action, Relationship, Standing } from './access.ts';
export { CAPABILITIES, denied, NO_RELATIONSHIP } from './access.ts';
export {
  NODE_CONFIG_FIELDS, PEP_DEFAULT_CONFIG, SUPPORTED_ACCESS_MODELS, effectiveConfig, normalizeConfig, typedConfig,
} from './config.ts';
export type { AccessModel, TypedConfig } from './config.ts';
export type { PubsubEvent, ItemsEvent, PurgeEvent, DeleteEvent, ConfigEvent, EventItem, AccessSnapshot } from './events.ts';
export { PUBSUB_FEATURES } from './features.ts';
export { parsePubsubRequest, runPubsubRequest, handlePubsubIq, buildEventElement, buildNodeConfigForm, serializePayload } from './xml.ts';
export type { PubsubRequest, PubsubRequestContext, PubsubExecution } from './xml.ts';
