// The XEP-0060 errors the engine and the request parser throw, one constructor each so every call site
// spells them the same way. PubsubError itself (protocol/xep0060.ts) is a StanzaError: the router answers
// with it like with any other.
import { PubsubError } from '../../protocol/xep0060.ts';
import type { ConfigProblem } from './config.ts';

export { PubsubError };
export type { PubsubCondition, PubsubErrorOptions, PubsubErrorType, PubsubStanzaCondition } from '../../protocol/xep0060.ts';

export const errors = {
  // §6.1.3.12, §6.5.9.11, §7.1.3.3, §8.2.3.5 ...: node does not exist.
  nodeNotFound: (text?: string) => new PubsubError('item-not-found', { text }),
  // §7.2.3.2: node or item does not exist.
  itemNotFound: (text?: string) => new PubsubError('item-not-found', { text }),
  // §7.1.3.1, §8.x "Insufficient Privileges"; §6.1.3.8 / §6.5.9.10 blocked (outcast).
  forbidden: (text?: string) => new PubsubError('forbidden', { text }),
  // §6.1.3.2 / §6.5.9.7
  presenceSubscriptionRequired: () =>
    new PubsubError('not-authorized', { pubsubCondition: 'presence-subscription-required' }),
  // §6.1.3.3 / §6.5.9.8
  notInRosterGroup: () => new PubsubError('not-authorized', { pubsubCondition: 'not-in-roster-group' }),
  // §6.1.3.4 / §6.5.9.9
  closedNode: () => new PubsubError('not-allowed', { pubsubCondition: 'closed-node' }),
  // §7.1.5: publish-options precondition not met on an existing node.
  preconditionNotMet: (text?: string) => new PubsubError('conflict', { pubsubCondition: 'precondition-not-met', text }),
  // §7.1.3.4 (payload size exceeds a service-defined limit)
  payloadTooBig: () => new PubsubError('not-acceptable', { pubsubCondition: 'payload-too-big' }),
  // §7.1.3.5
  invalidPayload: (text?: string) => new PubsubError('bad-request', { pubsubCondition: 'invalid-payload', text }),
  // §7.1.3.6 / §7.2.3.4
  itemRequired: () => new PubsubError('bad-request', { pubsubCondition: 'item-required' }),
  payloadRequired: () => new PubsubError('bad-request', { pubsubCondition: 'payload-required' }),
  itemForbidden: () => new PubsubError('bad-request', { pubsubCondition: 'item-forbidden' }),
  // §7.2.3.3 / §8.2.3.3: request lacks a node.
  nodeIdRequired: () => new PubsubError('bad-request', { pubsubCondition: 'nodeid-required' }),
  // §6.1.3.1
  invalidJid: () => new PubsubError('bad-request', { pubsubCondition: 'invalid-jid' }),
  // §6.2.3.2
  notSubscribed: () => new PubsubError('unexpected-request', { pubsubCondition: 'not-subscribed' }),
  // Publish-options form that cannot be applied (unknown field, bad value): the form itself is invalid.
  invalidOptions: (text?: string) => new PubsubError('bad-request', { pubsubCondition: 'invalid-options', text }),
  // §8.2.5.2: configuration change cannot be processed.
  configNotAcceptable: (text?: string) => new PubsubError('not-acceptable', { text }),
  // §8.1.2: unsupported access model.
  unsupportedAccessModel: (model: string) =>
    new PubsubError('not-acceptable', { pubsubCondition: 'unsupported-access-model', text: `access model ${model} is not supported` }),
  // §8.1.1: NodeID exists.
  nodeExists: () => new PubsubError('conflict', { text: 'node already exists' }),
  // Feature errors (<feature-not-implemented/> + <unsupported feature=.../>).
  unsupported: (feature: string, text?: string) =>
    new PubsubError('feature-not-implemented', { pubsubCondition: 'unsupported', feature, text }),
  // Local policy: too many nodes at this service. XEP-0060 §16 defines <max-nodes-exceeded/> without a
  // use case; paired with <not-allowed/> like its sibling <max-items-exceeded/> (§Batch Publish).
  tooManyNodes: () =>
    new PubsubError('not-allowed', { pubsubCondition: 'max-nodes-exceeded', text: 'too many nodes at this service' }),
};

/** §8.2.5.2 not-acceptable for a configuration we cannot apply; §8.1.2 for an access model we lack. */
export function configProblemError(p: ConfigProblem): PubsubError {
  if (p.kind === 'unsupported-access-model') return errors.unsupportedAccessModel(p.value);
  return errors.configNotAcceptable(describeProblem(p));
}

export function describeProblem(p: ConfigProblem): string {
  return p.kind === 'unknown-field' ? `unknown field pubsub#${p.field}` : `invalid value for pubsub#${p.field}`;
}
