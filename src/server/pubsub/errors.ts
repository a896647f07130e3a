// Pubsub errors as data: the RFC 6120 stanza condition, its error type and the XEP-0060 §16 pubsub#errors
// condition (with the `feature` of <unsupported/>). XML-free; xml.ts turns them into <error/> elements.

/** RFC 6120 §8.3.3 conditions used by XEP-0060. */
export type PubsubStanzaCondition =
  | 'bad-request' | 'conflict' | 'feature-not-implemented' | 'forbidden' | 'internal-server-error'
  | 'item-not-found' | 'not-acceptable' | 'not-allowed' | 'not-authorized' | 'policy-violation'
  | 'resource-constraint' | 'unexpected-request';

export type PubsubErrorType = 'auth' | 'cancel' | 'modify' | 'wait';

/** XEP-0060 §16 (schema for http://jabber.org/protocol/pubsub#errors). */
export type PubsubCondition =
  | 'closed-node' | 'configuration-required' | 'invalid-jid' | 'invalid-options' | 'invalid-payload'
  | 'invalid-subid' | 'item-forbidden' | 'item-required' | 'jid-required' | 'max-items-exceeded'
  | 'max-nodes-exceeded' | 'nodeid-required' | 'not-in-roster-group' | 'not-subscribed' | 'payload-too-big'
  | 'payload-required' | 'pending-subscription' | 'precondition-not-met' | 'presence-subscription-required'
  | 'subid-required' | 'too-many-subscriptions' | 'unsupported' | 'unsupported-access-model';

/** The error type each condition carries in the XEP-0060 examples. */
const TYPES: Record<PubsubStanzaCondition, PubsubErrorType> = {
  'bad-request': 'modify',
  conflict: 'cancel',
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  'internal-server-error': 'cancel',
  'item-not-found': 'cancel',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'policy-violation': 'cancel',
  'resource-constraint': 'wait',
  'unexpected-request': 'cancel',
};

export interface PubsubErrorOptions {
  pubsubCondition?: PubsubCondition;
  /** For <unsupported feature='...'/>: the feature name without the pubsub# prefix. */
  feature?: string;
  text?: string;
  type?: PubsubErrorType;
}

export class PubsubError extends Error {
  readonly condition: PubsubStanzaCondition;
  readonly type: PubsubErrorType;
  readonly pubsubCondition: PubsubCondition | undefined;
  readonly feature: string | undefined;
  readonly text: string | undefined;

  constructor(condition: PubsubStanzaCondition, opts: PubsubErrorOptions = {}) {
    const tail = opts.pubsubCondition ? `/${opts.pubsubCondition}${opts.feature ? `(${opts.feature})` : ''}` : '';
    super(`${condition}${tail}${opts.text ? `: ${opts.text}` : ''}`);
    this.name = 'PubsubError';
    this.condition = condition;
    this.type = opts.type ?? TYPES[condition];
    this.pubsubCondition = opts.pubsubCondition;
    this.feature = opts.feature;
    this.text = opts.text;
  }
}

// Constructors for the errors XEP-0060 names, so every call site spells them the same way.
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
