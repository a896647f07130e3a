// XEP-0060 stanzas ↔ engine calls: parse the <pubsub/> child of an IQ into a request, run it against the
// engine, build the result payload, the <error/> and the <event/> of notifications. The only pubsub file
// that knows XML.
import { NS_STANZAS, StanzaError, type StanzaErrorCondition } from '../../protocol/rfc6120.ts';
import { buildDataForm, DataFormError, formTypeField, getFormType, parseDataForm, type DataFormField } from '../../protocol/xep0004.ts';
import { buildRsm, NS_RSM, parseRsm, RsmError } from '../../protocol/xep0059.ts';
import {
  FORM_NODE_CONFIG, FORM_PUBLISH_OPTIONS, NS_PUBSUB, NS_PUBSUB_ERRORS, NS_PUBSUB_EVENT, NS_PUBSUB_OWNER,
} from '../../protocol/xep0060.ts';
import type { Affiliation, NodeConfig, SubscriptionState } from '../../storage/types.ts';
import { Element, RawXml, x } from '../../xml/index.ts';
import { NODE_CONFIG_FIELDS } from './config.ts';
import type { PubsubEngine, RsmRequest } from './engine.ts';
import { errors, PubsubError } from './errors.ts';
import type { EventItem, ItemsEvent, PubsubEvent } from './events.ts';

// ------------------------------------------------------------------ requests
export type PubsubRequest =
  | { kind: 'publish'; node: string; item?: { id?: string; payload?: string }; options?: NodeConfig }
  | { kind: 'retract'; node: string; id: string; notify?: boolean }
  | { kind: 'items'; node: string; ids?: string[]; max?: number; rsm?: RsmRequest }
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

const badRequest = (text: string) => new PubsubError('bad-request', { text });

/** XEP-0060 §7.1.3 etc.: the 'node' attribute, or <nodeid-required/>. */
function nodeAttr(el: Element): string {
  const node = el.attrs.node;
  if (node === undefined || node === '') throw errors.nodeIdRequired();
  return node;
}

/** The single operation element of a <pubsub/>, skipping the modifiers that may accompany it. */
function operation(pubsub: Element, ns: string, modifiers: string[]): Element {
  const mine = pubsub.elements.filter((e) => e.ns === ns);
  const ops = mine.filter((e) => !modifiers.includes(e.local));
  // A modifier on its own is the operation (e.g. <options/> alone is a subscription-options request).
  if (ops.length === 0 && mine.length === 1) return mine[0];
  if (ops.length !== 1) throw badRequest('expected exactly one pubsub operation');
  return ops[0];
}

/**
 * Parses an IQ carrying <pubsub xmlns='http://jabber.org/protocol/pubsub'/> or its #owner variant into a
 * request. Throws PubsubError for malformed or unsupported requests.
 */
export function parsePubsubRequest(iq: Element): PubsubRequest {
  const type = iq.attrs.type;
  if (type !== 'get' && type !== 'set') throw badRequest('pubsub requests are IQ get or set');
  const pubsub = iq.elements.find((e) => e.local === 'pubsub' && (e.ns === NS_PUBSUB || e.ns === NS_PUBSUB_OWNER));
  if (!pubsub) throw badRequest('no <pubsub/> element');
  return pubsub.ns === NS_PUBSUB ? parseUser(pubsub, type) : parseOwner(pubsub, type);
}

function parseUser(pubsub: Element, type: 'get' | 'set'): PubsubRequest {
  const op = operation(pubsub, NS_PUBSUB, ['publish-options', 'configure', 'options']);
  const wrongType = () => badRequest(`<${op.local}/> is not valid in an IQ ${type}`);
  switch (op.local) {
    case 'publish': {
      if (type !== 'set') throw wrongType();
      const node = nodeAttr(op);
      const items = op.getChildren('item', NS_PUBSUB);
      // §7.1.1: batch publishing was removed; at most one item.
      if (items.length > 1) throw badRequest('at most one <item/> per publish');
      const req: PubsubRequest = { kind: 'publish', node };
      if (items[0]) req.item = parseItem(items[0]);
      const po = pubsub.getChild('publish-options', NS_PUBSUB);
      const form = po?.getChild('x', 'jabber:x:data');
      if (form) req.options = formToConfig(form, FORM_PUBLISH_OPTIONS, 'publish-options');
      return req;
    }
    case 'retract': {
      if (type !== 'set') throw wrongType();
      const node = nodeAttr(op);
      const items = op.getChildren('item', NS_PUBSUB);
      const id = items[0]?.attrs.id;
      // §7.2.3.4: one <item/> with an id is required.
      if (items.length !== 1 || !id) throw errors.itemRequired();
      const notify = op.attrs.notify;
      const req: PubsubRequest = { kind: 'retract', node, id };
      // §7.2.2.1: "true" or "1".
      if (notify === 'true' || notify === '1') req.notify = true;
      else if (notify === 'false' || notify === '0') req.notify = false;
      return req;
    }
    case 'items': {
      if (type !== 'get') throw wrongType();
      const node = nodeAttr(op);
      const req: PubsubRequest = { kind: 'items', node };
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
    }
    case 'subscribe':
    case 'unsubscribe': {
      if (type !== 'set') throw wrongType();
      const node = nodeAttr(op);
      const jid = op.attrs.jid;
      // §6.1.1 'jid' is required; §16 <jid-required/>.
      if (!jid) throw new PubsubError('bad-request', { pubsubCondition: 'jid-required' });
      // §6.3 subscription options are not implemented.
      if (pubsub.getChild('options', NS_PUBSUB)) throw errors.unsupported('subscription-options');
      return { kind: op.local, node, jid };
    }
    case 'subscriptions':
    case 'affiliations': {
      if (type !== 'get') throw wrongType();
      const node = op.attrs.node;
      return node ? { kind: op.local, node } : { kind: op.local };
    }
    case 'create': {
      if (type !== 'set') throw wrongType();
      const req: PubsubRequest = { kind: 'create' };
      if (op.attrs.node) req.node = op.attrs.node;
      const configure = pubsub.getChild('configure', NS_PUBSUB);
      if (configure) {
        // §8.1.3: <configure/> in a create request MUST NOT carry a node.
        if (configure.attrs.node !== undefined) throw badRequest('<configure/> with create must not have a node');
        const form = configure.getChild('x', 'jabber:x:data');
        if (form) req.config = formToConfig(form, FORM_NODE_CONFIG, 'configure');
      }
      return req;
    }
    case 'options':
      throw errors.unsupported('subscription-options');
    case 'default':
      // §6.4: default subscription options.
      throw errors.unsupported('retrieve-default-sub');
    default:
      throw badRequest(`unknown pubsub operation <${op.local}/>`);
  }
}

function parseOwner(pubsub: Element, type: 'get' | 'set'): PubsubRequest {
  const op = operation(pubsub, NS_PUBSUB_OWNER, []);
  const wrongType = () => badRequest(`<${op.local}/> is not valid in an IQ ${type}`);
  switch (op.local) {
    case 'configure': {
      const node = nodeAttr(op);
      if (type === 'get') return { kind: 'configure-get', node };
      const form = op.getChild('x', 'jabber:x:data');
      if (!form) throw badRequest('<configure/> without a data form');
      // §8.2.4: a cancelled form leaves the configuration as it is.
      if (form.attrs.type === 'cancel') return { kind: 'configure-set', node, config: undefined };
      return { kind: 'configure-set', node, config: formToConfig(form, FORM_NODE_CONFIG, 'configure') };
    }
    case 'default':
      if (type !== 'get') throw wrongType();
      // §8.3.1: only leaf nodes exist here; other types are not supported (XEP-0248 collections).
      if (op.attrs.type !== undefined && op.attrs.type !== 'leaf') throw errors.unsupported('collections');
      return { kind: 'default' };
    case 'delete': {
      if (type !== 'set') throw wrongType();
      const node = nodeAttr(op);
      const uri = op.getChild('redirect', NS_PUBSUB_OWNER)?.attrs.uri;
      return uri ? { kind: 'delete', node, redirect: uri } : { kind: 'delete', node };
    }
    case 'purge':
      if (type !== 'set') throw wrongType();
      return { kind: 'purge', node: nodeAttr(op) };
    case 'affiliations': {
      const node = nodeAttr(op);
      if (type === 'get') return { kind: 'owner-affiliations-get', node };
      const affiliations = op.getChildren('affiliation', NS_PUBSUB_OWNER).map((a) => {
        if (!a.attrs.jid || !a.attrs.affiliation) throw badRequest('<affiliation/> needs jid and affiliation');
        return { jid: a.attrs.jid, affiliation: a.attrs.affiliation as Affiliation };
      });
      return { kind: 'owner-affiliations-set', node, affiliations };
    }
    case 'subscriptions': {
      const node = nodeAttr(op);
      if (type === 'get') return { kind: 'owner-subscriptions-get', node };
      const subscriptions: { jid: string; subscription: SubscriptionState }[] = [];
      for (const s of op.getChildren('subscription', NS_PUBSUB_OWNER)) {
        if (!s.attrs.jid) throw badRequest('<subscription/> needs a jid');
        // §8.8.2.1: without 'subscription' the value MUST NOT change.
        if (s.attrs.subscription === undefined) continue;
        subscriptions.push({ jid: s.attrs.jid, subscription: s.attrs.subscription as SubscriptionState });
      }
      return { kind: 'owner-subscriptions-set', node, subscriptions };
    }
    default:
      throw badRequest(`unknown pubsub#owner operation <${op.local}/>`);
  }
}

function parseItem(item: Element): { id?: string; payload?: string } {
  const out: { id?: string; payload?: string } = {};
  if (item.attrs.id) out.id = item.attrs.id;
  const payloads = item.elements;
  // §7.1.3.5: exactly one payload element.
  if (payloads.length > 1) throw errors.invalidPayload('more than one payload element');
  if (payloads.length === 1) out.payload = serializePayload(payloads[0]);
  return out;
}

/**
 * Serialises a payload element so it stands alone: namespace declarations it inherits from the stanza
 * (default namespace, prefixes used in its subtree) are copied onto its root.
 */
export function serializePayload(el: Element): string {
  const copy = el.clone();
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
    if (copy.attrs[`xmlns:${p}`] === undefined) {
      const ns = el.lookupNs(p);
      if (ns) declared[`xmlns:${p}`] = ns;
    }
  }
  if (Object.keys(declared).length) copy.attrs = { ...declared, ...copy.attrs };
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

// ------------------------------------------------------------------ execution
export interface PubsubExecution {
  /** The IQ result child (undefined: an empty result). */
  payload: Element | undefined;
  /** Notifications to fan out (already emitted to engine listeners too). */
  events: PubsubEvent[];
  /** XEP-0060 §6.1.7: the last item, to send to the new subscriber only. */
  sendLast?: { to: string; event: ItemsEvent };
}

/** Runs a parsed request as `requester` (full JID) against the service (owner's bare JID). */
/** `ordered`: see PubsubEngine.publish (called for publishes only). */
export async function executePubsubRequest(
  engine: PubsubEngine, service: string, requester: string, req: PubsubRequest, ordered?: () => void,
): Promise<PubsubExecution> {
  const events: PubsubEvent[] = [];
  const push = (e: PubsubEvent | undefined) => {
    if (e) events.push(e);
  };
  const user = (...children: (Element | undefined)[]) => x('pubsub', { xmlns: NS_PUBSUB }, ...children);
  const owner = (...children: (Element | undefined)[]) => x('pubsub', { xmlns: NS_PUBSUB_OWNER }, ...children);
  switch (req.kind) {
    case 'publish': {
      const r = await engine.publish(service, req.node, requester, req.item, req.options, ordered);
      push(r.event);
      // §7.1.2: the result names the ItemID (SHOULD when generated).
      return { payload: user(x('publish', { node: r.node }, r.id !== undefined ? x('item', { id: r.id }) : undefined)), events };
    }
    case 'retract':
      push((await engine.retract(service, req.node, requester, req.id, req.notify)).event);
      return { payload: undefined, events };
    case 'items': {
      const r = await engine.getItems(service, req.node, requester, { ids: req.ids, max: req.max, rsm: req.rsm });
      const items = x('items', { node: r.node }, r.items.map(itemElement));
      return { payload: user(items, r.rsm ? buildRsm(r.rsm) : undefined), events };
    }
    case 'subscribe': {
      const r = await engine.subscribe(service, req.node, requester, req.jid);
      const payload = user(x('subscription', { node: r.node, jid: r.jid, subscription: r.subscription }));
      return r.lastItem ? { payload, events, sendLast: { to: r.jid, event: r.lastItem } } : { payload, events };
    }
    case 'unsubscribe':
      await engine.unsubscribe(service, req.node, requester, req.jid);
      return { payload: undefined, events };
    case 'subscriptions': {
      const subs = await engine.getSubscriptions(service, requester, req.node);
      const el = x('subscriptions', { node: req.node }, subs.map((s) => x('subscription', { node: s.node, jid: s.jid, subscription: s.subscription })));
      return { payload: user(el), events };
    }
    case 'affiliations': {
      const affs = await engine.getOwnAffiliations(service, requester, req.node);
      const el = x('affiliations', null, affs.map((a) => x('affiliation', { node: a.node, affiliation: a.affiliation })));
      return { payload: user(el), events };
    }
    case 'create': {
      const r = await engine.createNode(service, req.node, requester, req.config);
      return { payload: user(x('create', { node: r.node })), events };
    }
    case 'configure-get': {
      const config = await engine.getConfig(service, req.node, requester);
      return { payload: owner(x('configure', { node: req.node }, buildNodeConfigForm(config, 'form'))), events };
    }
    case 'configure-set': {
      if (req.config === undefined) {
        // §8.2.4 cancel: still the owner's call to make.
        await engine.getConfig(service, req.node, requester);
        return { payload: undefined, events };
      }
      push((await engine.setConfig(service, req.node, requester, req.config)).event);
      return { payload: undefined, events };
    }
    case 'default':
      return { payload: owner(x('default', null, buildNodeConfigForm(engine.defaultConfig(), 'form'))), events };
    case 'delete':
      push((await engine.deleteNode(service, req.node, requester, req.redirect)).event);
      return { payload: undefined, events };
    case 'purge':
      push((await engine.purge(service, req.node, requester)).event);
      return { payload: undefined, events };
    case 'owner-affiliations-get': {
      const affs = await engine.getAffiliations(service, req.node, requester);
      const el = x('affiliations', { node: req.node }, affs.map((a) => x('affiliation', { jid: a.jid, affiliation: a.affiliation })));
      return { payload: owner(el), events };
    }
    case 'owner-affiliations-set':
      await engine.setAffiliations(service, req.node, requester, req.affiliations);
      return { payload: undefined, events };
    case 'owner-subscriptions-get': {
      const subs = await engine.getNodeSubscriptions(service, req.node, requester);
      const el = x('subscriptions', { node: req.node }, subs.map((s) => x('subscription', { jid: s.jid, subscription: s.subscription })));
      return { payload: owner(el), events };
    }
    case 'owner-subscriptions-set':
      await engine.setNodeSubscriptions(service, req.node, requester, req.subscriptions);
      return { payload: undefined, events };
  }
}

/**
 * Parses and runs one pubsub IQ; failures come back as a PubsubError (never thrown) so the caller can
 * answer with `pubsubErrorElement`.
 */
export async function handlePubsubIq(
  engine: PubsubEngine, service: string, requester: string, iq: Element, ordered?: () => void,
): Promise<({ ok: true } & PubsubExecution) | { ok: false; error: PubsubError }> {
  try {
    const req = parsePubsubRequest(iq);
    return { ok: true, ...(await executePubsubRequest(engine, service, requester, req, ordered)) };
  } catch (e) {
    if (e instanceof PubsubError) return { ok: false, error: e };
    throw e;
  }
}

// ------------------------------------------------------------------ errors
/** <error type=...><condition xmlns=stanzas/><pubsub-condition xmlns=pubsub#errors/></error> */
export function pubsubErrorElement(err: PubsubError): Element {
  return x('error', { type: err.type },
    x(err.condition, { xmlns: NS_STANZAS }),
    err.text ? x('text', { xmlns: NS_STANZAS, 'xml:lang': 'en' }, err.text) : undefined,
    pubsubConditionElement(err));
}

function pubsubConditionElement(err: PubsubError): Element | undefined {
  if (!err.pubsubCondition) return undefined;
  return x(err.pubsubCondition, { xmlns: NS_PUBSUB_ERRORS, feature: err.feature });
}

/** The same error as the protocol layer's StanzaError (for code that answers with errorReply). */
export function toStanzaError(err: PubsubError): StanzaError {
  return new StanzaError(err.condition as StanzaErrorCondition, err.text, err.type, pubsubConditionElement(err));
}

// ------------------------------------------------------------------ notifications
/** The <event xmlns='http://jabber.org/protocol/pubsub#event'/> of a notification; build once per event. */
export function buildEventElement(event: PubsubEvent): Element {
  const ev = x('event', { xmlns: NS_PUBSUB_EVENT });
  switch (event.type) {
    case 'items': {
      const items = x('items', { node: event.node });
      for (const it of event.items) items.append(eventItemElement(it));
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

function eventItemElement(it: EventItem): Element {
  return itemElement(it);
}
