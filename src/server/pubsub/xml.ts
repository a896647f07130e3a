// XEP-0060 stanzas ↔ engine calls. One table entry per operation: how to parse its element out of the
// <pubsub/> child of an IQ, and how to run it against the service and build the result payload; one
// dispatcher picks the entry. Also the <event/> of notifications. The only pubsub file that knows XML;
// errors are PubsubErrors (stanza errors), thrown here or by the engine and serialised by whoever answers.
import type { Jid } from '../../jid/index.ts';
import { buildDataForm, DataFormError, formTypeField, getFormType, parseDataForm, type DataFormField } from '../../protocol/xep0004.ts';
import { buildRsm, NS_RSM, parseRsm, RsmError, type RsmQuery } from '../../protocol/xep0059.ts';
import { FORM_NODE_CONFIG, FORM_PUBLISH_OPTIONS, NS_PUBSUB, NS_PUBSUB_EVENT, NS_PUBSUB_OWNER } from '../../protocol/xep0060.ts';
import type { Affiliation, NodeConfig, SubscriptionState } from '../../storage/types.ts';
import { Element, RawXml, x } from '../../xml/index.ts';
import { NODE_CONFIG_FIELDS } from './config.ts';
import type { PubsubEngine } from './engine.ts';
import { errors, PubsubError } from './errors.ts';
import type { ItemsEvent, PubsubEvent } from './events.ts';
import type { PubsubService } from './service.ts';
import { cachedFormConfig } from './options-form-xml.ts';

// ------------------------------------------------------------------ requests
export type PubsubRequest =
  | { kind: 'publish'; node: string; item?: { id?: string; payload?: string }; options?: NodeConfig }
  | { kind: 'retract'; node: string; id: string; notify?: boolean }
  | { kind: 'items'; node: string; ids?: string[]; max?: number; rsm?: RsmQuery }
  | { kind: 'subscribe'; node: string; jid: string }
  | { kind: 'unsubscribe'; node: string; jid: string }
  | { kind: 'subscriptions'; node?: string }
  | { kind: 'affiliations'; node?: string }
  | { kind: 'create'; node?: string; config?: NodeConfig }
  | { kind: 'configure-get'; node: string }
  | { kind: 'configure-set'; node: string; config: NodeConfig | undefined }
  | { kind: 'default' }
  | { kind: 'delete'; node: string; redirect?: string }
  | { kind: 'purge'; node: string }
  | { kind: 'owner-affiliations-get'; node: string }
  | { kind: 'owner-affiliations-set'; node: string; affiliations: { jid: string; affiliation: Affiliation }[] }
  | { kind: 'owner-subscriptions-get'; node: string }
  | { kind: 'owner-subscriptions-set'; node: string; subscriptions: { jid: string; subscription: SubscriptionState }[] };

type Kind = PubsubRequest['kind'];
type RequestOf<K extends Kind> = Extract<PubsubRequest, { kind: K }>;

/** What a request is run with: the addressed service, the requesting entity, and the pipelining signal. */
export interface PubsubRequestContext {
  /** The requester (full JID). */
  from: Jid;
  /** The service (its bare JID is the service). */
  to: Jid;
  /** See PublishOptions.proceed (publishes only call it). */
  proceed?: () => void;
}

export interface PubsubExecution {
  /** The IQ result child (undefined: an empty result). */
  payload: Element | undefined;
  /** Notifications to fan out. */
  events: PubsubEvent[];
  /** XEP-0060 §6.1.7: the last item, to send to the new subscriber only. */
  sendLast?: { to: string; event: ItemsEvent };
}

interface RunContext {
  engine: PubsubEngine;
  service: PubsubService;
  actor: Jid;
  proceed?: () => void;
}

/** One XEP-0060 operation: the element (namespace, name) and IQ type it answers, its parser and its runner. */
interface Operation<K extends Kind> {
  ns: typeof NS_PUBSUB | typeof NS_PUBSUB_OWNER;
  element: string;
  type: 'get' | 'set';
  /** `op` is the operation element, `pubsub` its parent (for modifiers such as <publish-options/>). */
  parse(op: Element, pubsub: Element): Omit<RequestOf<K>, 'kind'>;
  run(req: RequestOf<K>, ctx: RunContext): Promise<PubsubExecution>;
}

const user = (...children: (Element | undefined)[]) => x('pubsub', { xmlns: NS_PUBSUB }, ...children);
const owner = (...children: (Element | undefined)[]) => x('pubsub', { xmlns: NS_PUBSUB_OWNER }, ...children);
const result = (payload?: Element, event?: PubsubEvent): PubsubExecution => ({ payload, events: event ? [event] : [] });

/** §8.8.1 / §8.9.1: the owner's view of a node's subscriptions or affiliations, one child per entry. */
function ownerListing(
  element: 'affiliations' | 'subscriptions', entries: (service: PubsubService, node: string, actor: Jid) => Promise<Element[]>,
): Operation<'owner-affiliations-get' | 'owner-subscriptions-get'> {
  return {
    ns: NS_PUBSUB_OWNER, element, type: 'get',
    parse: nodeOnly,
    async run(req, { service, actor }) {
      return result(owner(x(element, { node: req.node }, await entries(service, req.node, actor))));
    },
  };
}

/** §8.9.2: the affiliations an owner sets. */
function affiliationsOf(op: Element): { jid: string; affiliation: Affiliation }[] {
  return op.getChildren('affiliation', NS_PUBSUB_OWNER).map((a) => {
    if (!a.attrs.jid || !a.attrs.affiliation) throw badRequest('<affiliation/> needs jid and affiliation');
    return { jid: a.attrs.jid, affiliation: a.attrs.affiliation as Affiliation };
  });
}

/** §8.8.2: the subscriptions an owner sets. */
function subscriptionsOf(op: Element): { jid: string; subscription: SubscriptionState }[] {
  const subscriptions: { jid: string; subscription: SubscriptionState }[] = [];
  for (const s of op.getChildren('subscription', NS_PUBSUB_OWNER)) {
    if (!s.attrs.jid) throw badRequest('<subscription/> needs a jid');
    // §8.8.2.1: without 'subscription' the value MUST NOT change.
    if (s.attrs.subscription === undefined) continue;
    subscriptions.push({ jid: s.attrs.jid, subscription: s.attrs.subscription as SubscriptionState });
  }
  return subscriptions;
}

/** §8.8.2 / §8.9.2: an owner changes a node's subscriptions or affiliations; the answer is empty. */
function ownerListChange<K extends 'owner-affiliations-set' | 'owner-subscriptions-set'>(
  element: 'affiliations' | 'subscriptions',
  read: (op: Element) => Omit<RequestOf<K>, 'kind' | 'node'>,
  apply: (service: PubsubService, req: RequestOf<K>, actor: Jid) => Promise<unknown>,
): Operation<K> {
  return {
    ns: NS_PUBSUB_OWNER, element, type: 'set',
    parse: (op) => ({ node: nodeAttr(op), ...read(op) }) as Omit<RequestOf<K>, 'kind'>,
    async run(req, { service, actor }) {
      await apply(service, req, actor);
      return result();
    },
  };
}

const OPERATIONS: { [K in Kind]: Operation<K> } = {
  publish: {
    ns: NS_PUBSUB, element: 'publish', type: 'set',
    parse(op, pubsub) {
      const node = nodeAttr(op);
      const items = op.getChildren('item', NS_PUBSUB);
      // §7.1.1: batch publishing was removed; at most one item.
      if (items.length > 1) throw badRequest('at most one <item/> per publish');
      const req: Omit<RequestOf<'publish'>, 'kind'> = { node };
      if (items[0]) req.item = parseItem(items[0]);
      const form = pubsub.getChild('publish-options', NS_PUBSUB)?.getChild('x', 'jabber:x:data');
      if (form) req.options = cachedFormConfig(form, () => formToConfig(form, FORM_PUBLISH_OPTIONS, 'publish-options'));
      return req;
    },
    async run(req, { service, actor, proceed }) {
      const r = await service.publish(req.node, actor, req.item, { options: req.options, proceed });
      // §7.1.2: the result names the ItemID (SHOULD when generated).
      return result(user(x('publish', { node: r.node }, r.id !== undefined ? x('item', { id: r.id }) : undefined)), r.event);
    },
  },
  retract: {
    ns: NS_PUBSUB, element: 'retract', type: 'set',
    parse(op) {
      const node = nodeAttr(op);
      const items = op.getChildren('item', NS_PUBSUB);
      const id = items[0]?.attrs.id;
      // §7.2.3.4: one <item/> with an id is required.
      if (items.length !== 1 || !id) throw errors.itemRequired();
      const req: Omit<RequestOf<'retract'>, 'kind'> = { node, id };
      // §7.2.2.1: "true" or "1".
      const notify = op.attrs.notify;
      if (notify === 'true' || notify === '1') req.notify = true;
      else if (notify === 'false' || notify === '0') req.notify = false;
      return req;
    },
    async run(req, { service, actor }) {
      return result(undefined, (await service.retract(req.node, actor, req.id, req.notify)).event);
    },
  },
  items: {
    ns: NS_PUBSUB, element: 'items', type: 'get',
    parse(op, pubsub) {
      const req: Omit<RequestOf<'items'>, 'kind'> = { node: nodeAttr(op) };
      const ids = op.getChildren('item', NS_PUBSUB).map((i) => i.attrs.id);
      if (ids.some((id) => !id)) throw badRequest('<item/> without id');
      if (ids.length) req.ids = ids as string[];
      if (op.attrs.max_items !== undefined) {
        if (!/^\d{1,9}$/.test(op.attrs.max_items)) throw badRequest('invalid max_items');
        req.max = Number(op.attrs.max_items);
      }
      const set = pubsub.getChild('set', NS_RSM);
      if (set) {
        try {
          req.rsm = parseRsm(set);
        } catch (e) {
          if (e instanceof RsmError) throw badRequest(e.message);
          throw e;
        }
      }
      return req;
    },
    async run(req, { service, actor }) {
      const r = await service.items(req.node, actor, { ids: req.ids, max: req.max, rsm: req.rsm });
      return result(user(x('items', { node: r.node }, r.items.map(itemElement)), r.rsm ? buildRsm(r.rsm) : undefined));
    },
  },
  subscribe: {
    ns: NS_PUBSUB, element: 'subscribe', type: 'set',
    parse: parseSubscription,
    async run(req, { service, actor }) {
      const r = await service.subscribe(req.node, actor, req.jid);
      const payload = user(x('subscription', { node: r.node, jid: r.jid, subscription: r.subscription }));
      return r.lastItem ? { payload, events: [], sendLast: { to: r.jid, event: r.lastItem } } : result(payload);
    },
  },
  unsubscribe: {
    ns: NS_PUBSUB, element: 'unsubscribe', type: 'set',
    parse: parseSubscription,
    async run(req, { service, actor }) {
      await service.unsubscribe(req.node, actor, req.jid);
      return result();
    },
  },
  subscriptions: {
    ns: NS_PUBSUB, element: 'subscriptions', type: 'get',
    parse: optionalNode,
    async run(req, { service, actor }) {
      const subs = await service.subscriptions(actor, { node: req.node });
      return result(user(x('subscriptions', { node: req.node },
        subs.map((s) => x('subscription', { node: s.node, jid: s.jid, subscription: s.subscription })))));
    },
  },
  affiliations: {
    ns: NS_PUBSUB, element: 'affiliations', type: 'get',
    parse: optionalNode,
    async run(req, { service, actor }) {
      const affs = await service.affiliations(actor, { node: req.node });
      return result(user(x('affiliations', null, affs.map((a) => x('affiliation', { node: a.node, affiliation: a.affiliation })))));
    },
  },
  create: {
    ns: NS_PUBSUB, element: 'create', type: 'set',
    parse(op, pubsub) {
      const req: Omit<RequestOf<'create'>, 'kind'> = {};
      if (op.attrs.node) req.node = op.attrs.node;
      const configure = pubsub.getChild('configure', NS_PUBSUB);
      if (configure) {
        // §8.1.3: <configure/> in a create request MUST NOT carry a node.
        if (configure.attrs.node !== undefined) throw badRequest('<configure/> with create must not have a node');
        const form = configure.getChild('x', 'jabber:x:data');
        if (form) req.config = formToConfig(form, FORM_NODE_CONFIG, 'configure');
      }
      return req;
    },
    async run(req, { service, actor }) {
      const r = await service.create(req.node, actor, req.config);
      return result(user(x('create', { node: r.node })));
    },
  },
  'configure-get': {
    ns: NS_PUBSUB_OWNER, element: 'configure', type: 'get',
    parse: nodeOnly,
    async run(req, { service, actor }) {
      const config = await service.configuration(req.node, actor);
      return result(owner(x('configure', { node: req.node }, buildNodeConfigForm(config, 'form'))));
    },
  },
  'configure-set': {
    ns: NS_PUBSUB_OWNER, element: 'configure', type: 'set',
    parse(op) {
      const node = nodeAttr(op);
      const form = op.getChild('x', 'jabber:x:data');
      if (!form) throw badRequest('<configure/> without a data form');
      // §8.2.4: a cancelled form leaves the configuration as it is.
      if (form.attrs.type === 'cancel') return { node, config: undefined };
      return { node, config: formToConfig(form, FORM_NODE_CONFIG, 'configure') };
    },
    async run(req, { service, actor }) {
      // §8.2.4 cancel: still the owner's call to make.
      if (req.config === undefined) await service.configuration(req.node, actor);
      else return result(undefined, (await service.configure(req.node, actor, req.config)).event);
      return result();
    },
  },
  default: {
    ns: NS_PUBSUB_OWNER, element: 'default', type: 'get',
    parse(op) {
      // §8.3.1: only leaf nodes exist here; other types are not supported (XEP-0248 collections).
      if (op.attrs.type !== undefined && op.attrs.type !== 'leaf') throw errors.unsupported('collections');
      return {};
    },
    async run(_req, { engine }) {
      return result(owner(x('default', null, buildNodeConfigForm(engine.defaultConfig(), 'form'))));
    },
  },
  delete: {
    ns: NS_PUBSUB_OWNER, element: 'delete', type: 'set',
    parse(op) {
      const node = nodeAttr(op);
      const uri = op.getChild('redirect', NS_PUBSUB_OWNER)?.attrs.uri;
      return uri ? { node, redirect: uri } : { node };
    },
    async run(req, { service, actor }) {
      return result(undefined, (await service.delete(req.node, actor, req.redirect)).event);
    },
  },
  purge: {
    ns: NS_PUBSUB_OWNER, element: 'purge', type: 'set',
    parse: nodeOnly,
    async run(req, { service, actor }) {
      return result(undefined, (await service.purge(req.node, actor)).event);
    },
  },
  'owner-affiliations-get': ownerListing('affiliations', async (service, node, actor) =>
    (await service.nodeAffiliations(node, actor)).map((a) => x('affiliation', { jid: a.jid, affiliation: a.affiliation }))),
  'owner-affiliations-set': ownerListChange('affiliations', (op) => ({ affiliations: affiliationsOf(op) }),
    (service, req, actor) => service.setNodeAffiliations(req.node, actor, req.affiliations)),
  'owner-subscriptions-get': ownerListing('subscriptions', async (service, node, actor) =>
    (await service.nodeSubscriptions(node, actor)).map((s) => x('subscription', { jid: s.jid, subscription: s.subscription }))),
  'owner-subscriptions-set': ownerListChange('subscriptions', (op) => ({ subscriptions: subscriptionsOf(op) }),
    (service, req, actor) => service.setNodeSubscriptions(req.node, actor, req.subscriptions)),
};

/** Elements of the user namespace that accompany an operation rather than being one. */
const MODIFIERS: Record<string, readonly string[]> = { [NS_PUBSUB]: ['publish-options', 'configure', 'options'], [NS_PUBSUB_OWNER]: [] };

/** User-namespace operations we answer with <unsupported/>, whatever the IQ type. */
const UNSUPPORTED: Record<string, string> = {
  // §6.3 subscription options.
  options: 'subscription-options',
  // §6.4 default subscription options.
  default: 'retrieve-default-sub',
};

/** `${ns} ${element}` → the operations on that element, one per IQ type. */
const BY_ELEMENT = new Map<string, { kind: Kind; op: Operation<Kind> }[]>();
for (const [kind, op] of Object.entries(OPERATIONS) as [Kind, Operation<Kind>][]) {
  const key = `${op.ns} ${op.element}`;
  BY_ELEMENT.set(key, [...(BY_ELEMENT.get(key) ?? []), { kind, op }]);
}

const badRequest = (text: string) => new PubsubError('bad-request', { text });

/**
 * Parses an IQ carrying <pubsub xmlns='http://jabber.org/protocol/pubsub'/> or its #owner variant into a
 * request. Throws PubsubError for malformed or unsupported requests.
 */
export function parsePubsubRequest(iq: Element): PubsubRequest {
  const type = iq.attrs.type;
  if (type !== 'get' && type !== 'set') throw badRequest('pubsub requests are IQ get or set');
  const pubsub = iq.elements.find((e) => e.local === 'pubsub' && (e.ns === NS_PUBSUB || e.ns === NS_PUBSUB_OWNER));
  if (!pubsub) throw badRequest('no <pubsub/> element');
  const ns = pubsub.ns!;
  const op = operation(pubsub, ns, MODIFIERS[ns]!);
  if (ns === NS_PUBSUB && UNSUPPORTED[op.local]) throw errors.unsupported(UNSUPPORTED[op.local]!);
  const candidates = BY_ELEMENT.get(`${ns} ${op.local}`);
  if (!candidates) throw badRequest(`unknown ${ns === NS_PUBSUB ? 'pubsub' : 'pubsub#owner'} operation <${op.local}/>`);
  const entry = candidates.find((c) => c.op.type === type);
  if (!entry) throw badRequest(`<${op.local}/> is not valid in an IQ ${type}`);
  return { kind: entry.kind, ...entry.op.parse(op, pubsub) } as PubsubRequest;
}

/** Runs a parsed request: `from` acting at the service `to`. */
export async function runPubsubRequest(engine: PubsubEngine, ctx: PubsubRequestContext, req: PubsubRequest): Promise<PubsubExecution> {
  const entry = OPERATIONS[req.kind] as Operation<Kind>;
  return entry.run(req, { engine, service: engine.service(ctx.to), actor: ctx.from, proceed: ctx.proceed });
}

/** Parses and runs one pubsub IQ; failures reject with a PubsubError (a StanzaError). */
export async function handlePubsubIq(engine: PubsubEngine, ctx: PubsubRequestContext & { stanza: Element }): Promise<PubsubExecution> {
  return runPubsubRequest(engine, ctx, parsePubsubRequest(ctx.stanza));
}

/** XEP-0060 §7.1.3 etc.: the 'node' attribute, or <nodeid-required/>. */
function nodeAttr(el: Element): string {
  const node = el.attrs.node;
  if (node === undefined || node === '') throw errors.nodeIdRequired();
  return node;
}

function nodeOnly(op: Element): { node: string } {
  return { node: nodeAttr(op) };
}

function optionalNode(op: Element): { node?: string } {
  return op.attrs.node ? { node: op.attrs.node } : {};
}

/** §6.1.1 / §6.2.1: <subscribe/> and <unsubscribe/> name a node and a JID. */
function parseSubscription(op: Element, pubsub: Element): { node: string; jid: string } {
  const node = nodeAttr(op);
  const jid = op.attrs.jid;
  // §6.1.1 'jid' is required; §16 <jid-required/>.
  if (!jid) throw new PubsubError('bad-request', { pubsubCondition: 'jid-required' });
  // §6.3 subscription options are not implemented.
  if (pubsub.getChild('options', NS_PUBSUB)) throw errors.unsupported('subscription-options');
  return { node, jid };
}

/** The single operation element of a <pubsub/>, skipping the modifiers that may accompany it. */
function operation(pubsub: Element, ns: string, modifiers: readonly string[]): Element {
  const mine = pubsub.elements.filter((e) => e.ns === ns);
  const ops = mine.filter((e) => !modifiers.includes(e.local));
  // A modifier on its own is the operation (e.g. <options/> alone is a subscription-options request).
  if (ops.length === 0 && mine.length === 1) return mine[0];
  if (ops.length !== 1) throw badRequest('expected exactly one pubsub operation');
  return ops[0];
}

function parseItem(item: Element): { id?: string; payload?: string } {
  const out: { id?: string; payload?: string } = {};
  if (item.attrs.id) out.id = item.attrs.id;
  const payloads = item.elements;
  // §7.1.3.5: exactly one payload element.
  if (payloads.length > 1) throw errors.invalidPayload('more than one payload element');
  if (payloads.length === 1) {
    out.payload = serializePayload(payloads[0]);
  }
  return out;
}

/**
 * Serialises a payload element so it stands alone: namespace declarations it inherits from the stanza
 * (default namespace, prefixes used in its subtree) are copied onto its root.
 */
export function serializePayload(el: Element): string {
  const declared: Record<string, string> = {};
  const prefixes = new Set<string>();
  let needsDefault = false;
  // Collects prefixes used in the subtree and whether some unprefixed element relies on a default
  // namespace declared outside it.
  const walk = (e: Element, defaultInside: boolean) => {
    const hasDefault = defaultInside || e.attrs.xmlns !== undefined;
    if (e.prefix) prefixes.add(e.prefix);
    else if (!hasDefault) needsDefault = true;
    for (const a of Object.keys(e.attrs)) {
      const i = a.indexOf(':');
      if (i > 0) {
        const p = a.slice(0, i);
        if (p !== 'xmlns' && p !== 'xml') prefixes.add(p);
      }
    }
    for (const c of e.elements) walk(c, hasDefault);
  };
  walk(el, false);
  if (needsDefault) {
    const ns = el.lookupNs(undefined);
    if (ns) declared.xmlns = ns;
  }
  for (const p of prefixes) {
    if (el.attrs[`xmlns:${p}`] === undefined) {
      const ns = el.lookupNs(p);
      if (ns) declared[`xmlns:${p}`] = ns;
    }
  }
  // Payloads that declare their own namespace (every key payload does) are written as they are: a copy is
  // only needed to add declarations.
  if (Object.keys(declared).length === 0) return el.toString();
  const copy = el.clone();
  copy.attrs = { ...declared, ...copy.attrs };
  return copy.toString();
}

/**
 * Data form → NodeConfig. `context` picks the XEP-0060 error for a bad form: publish-options forms are
 * invalid options (bad-request), configuration forms cannot be processed (§8.2.5.2 not-acceptable).
 */
function formToConfig(el: Element, formType: string, context: 'publish-options' | 'configure'): NodeConfig {
  const fail = (text: string) => (context === 'publish-options' ? errors.invalidOptions(text) : errors.configNotAcceptable(text));
  let form;
  try {
    form = parseDataForm(el);
  } catch (e) {
    if (e instanceof DataFormError) throw fail(e.message);
    throw e;
  }
  if (form.type !== 'submit') throw fail(`expected a form of type submit, got ${form.type}`);
  const ft = getFormType(form);
  // XEP-0068: a FORM_TYPE other than the expected one is a different form altogether.
  if (ft !== undefined && ft !== formType) throw fail(`unexpected FORM_TYPE ${ft}`);
  const config: NodeConfig = {};
  for (const f of form.fields) {
    if (f.var === undefined || f.var === 'FORM_TYPE') continue;
    // Only pubsub#… fields exist in these forms; anything else is unknown (§7.1.5 rejects unknown fields).
    if (!f.var.startsWith('pubsub#')) throw fail(`unknown field ${f.var}`);
    const key = f.var.slice('pubsub#'.length);
    const spec = NODE_CONFIG_FIELDS[key];
    const multi = spec?.type === 'list-multi' || f.type === 'list-multi' || f.type === 'jid-multi' || f.type === 'text-multi';
    config[key] = multi || f.values.length > 1 ? [...f.values] : (f.values[0] ?? '');
  }
  return config;
}

// ------------------------------------------------------------------ forms
/** A pubsub#node_config form (type form for configure/default, result for config notifications). */
export function buildNodeConfigForm(config: NodeConfig, type: 'form' | 'result' = 'form'): Element {
  const fields: DataFormField[] = [formTypeField(FORM_NODE_CONFIG)];
  for (const [key, spec] of Object.entries(NODE_CONFIG_FIELDS)) {
    const v = config[key];
    const values = v === undefined ? [] : Array.isArray(v) ? v : [v];
    const field: DataFormField = { var: `pubsub#${key}`, type: spec.type, values: [...values] };
    if (type === 'form') {
      field.label = spec.label;
      if (spec.options) field.options = spec.options.map((o) => ({ value: o }));
    }
    fields.push(field);
  }
  return buildDataForm({ type, fields });
}

// ------------------------------------------------------------------ items
function itemElement(it: { id: string; publisher?: string; payload?: string }): Element {
  const el = x('item', { id: it.id, publisher: it.publisher });
  // Stored payloads are serializePayload() output: spliced as they are, parsed only if inspected.
  if (it.payload) el.append(RawXml.of(it.payload));
  return el;
}

// ------------------------------------------------------------------ notifications
/** The <event xmlns='http://jabber.org/protocol/pubsub#event'/> of a notification; build once per event. */
export function buildEventElement(event: PubsubEvent): Element {
  const ev = x('event', { xmlns: NS_PUBSUB_EVENT });
  switch (event.type) {
    case 'items': {
      const items = x('items', { node: event.node });
      for (const it of event.items) items.append(itemElement(it));
      for (const id of event.retracts ?? []) items.append(x('retract', { id }));
      ev.append(items);
      break;
    }
    case 'purge':
      ev.append(x('purge', { node: event.node }));
      break;
    case 'delete':
      ev.append(x('delete', { node: event.node }, event.redirect ? x('redirect', { uri: event.redirect }) : undefined));
      break;
    case 'config':
      // §8.2.5.3: the form only for nodes that deliver payloads.
      ev.append(x('configuration', { node: event.node }, event.includeConfig ? buildNodeConfigForm(event.config, 'result') : undefined));
      break;
  }
  return ev;
}
