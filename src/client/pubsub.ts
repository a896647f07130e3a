// XEP-0060 / XEP-0163 / XEP-0222 client operations used for keys: publish with publish-options (XEP-0060
// §7.1.5), retrieve items (§6.5), read and submit the node configuration (§8.2), set whitelist members (§8.9),
// and unpack PEP notifications. Failures are worded in pubsub-problems.ts.
import { x, type Element } from '../xml/index.ts';
import { FORM_NODE_CONFIG, FORM_PUBLISH_OPTIONS, NS_PUBSUB, NS_PUBSUB_EVENT, NS_PUBSUB_OWNER } from '../protocol/xep0060.ts';
import { NS_DATA, buildDataForm, parseDataForm, formTypeField, type DataFormField } from '../protocol/xep0004.ts';
import type { XmppClient } from './client.ts';

export type AccessModel = 'open' | 'presence' | 'roster' | 'whitelist';
export const ACCESS_MODELS: readonly AccessModel[] = ['open', 'presence', 'roster', 'whitelist'];

export interface NodeOptions {
  accessModel: AccessModel;
  /** roster access: the roster groups allowed (XEP-0060 pubsub#roster_groups_allowed). */
  rosterGroups?: string[];
  /** XEP-0222 §3: persist_items true, send_last_published_item never, by default. */
  persistItems?: boolean;
  sendLastPublishedItem?: 'never' | 'on_sub' | 'on_sub_and_presence';
  maxItems?: number | 'max';
}

/** The pubsub#… fields XEP-0222 asks for, as var → values. */
export function nodeOptionFields(o: NodeOptions): Record<string, string[]> {
  const f: Record<string, string[]> = {
    'pubsub#persist_items': [String(o.persistItems ?? true)],
    'pubsub#access_model': [o.accessModel],
    'pubsub#send_last_published_item': [o.sendLastPublishedItem ?? 'never'],
  };
  if (o.maxItems !== undefined) f['pubsub#max_items'] = [String(o.maxItems)];
  if (o.accessModel === 'roster') f['pubsub#roster_groups_allowed'] = o.rosterGroups ?? [];
  return f;
}

function optionsForm(formType: string, fields: Record<string, string[]>): Element {
  const list: DataFormField[] = [formTypeField(formType)];
  for (const [v, values] of Object.entries(fields)) list.push({ var: v, values });
  return buildDataForm({ type: 'submit', fields: list });
}

/** Publishes one item; `options` become XEP-0060 §7.1.5 preconditions. Returns the item id the service used. */
export async function publishItem(client: XmppClient, node: string, payload: Element, id: string | undefined, options?: NodeOptions): Promise<string | undefined> {
  const pubsub = x('pubsub', { xmlns: NS_PUBSUB }, x('publish', { node }, x('item', { id }, payload)));
  if (options) pubsub.append(x('publish-options', null, optionsForm(FORM_PUBLISH_OPTIONS, nodeOptionFields(options))));
  const r = await client.iq(x('iq', { type: 'set' }, pubsub));
  return r.getChild('pubsub', NS_PUBSUB)?.getChild('publish', NS_PUBSUB)?.getChild('item', NS_PUBSUB)?.attrs.id ?? id;
}

export interface PubsubItem {
  id: string | undefined;
  payload: Element | undefined;
}

export async function getItems(client: XmppClient, jid: string, node: string, timeoutMs?: number): Promise<PubsubItem[]> {
  const r = await client.iq(x('iq', { type: 'get', to: jid }, x('pubsub', { xmlns: NS_PUBSUB }, x('items', { node }))), timeoutMs);
  const items = r.getChild('pubsub', NS_PUBSUB)?.getChild('items', NS_PUBSUB)?.getChildren('item', NS_PUBSUB) ?? [];
  return items.map((i) => ({ id: i.attrs.id, payload: i.firstElement() }));
}

/** XEP-0060 §8.2: reads the node configuration form, changes the given fields and submits it whole. */
export async function configureNode(client: XmppClient, node: string, options: NodeOptions): Promise<void> {
  const r = await client.iq(x('iq', { type: 'get' }, x('pubsub', { xmlns: NS_PUBSUB_OWNER }, x('configure', { node }))));
  const formEl = r.getChild('pubsub', NS_PUBSUB_OWNER)?.getChild('configure', NS_PUBSUB_OWNER)?.getChild('x', NS_DATA);
  const want = nodeOptionFields(options);
  const fields: Record<string, string[]> = {};
  if (formEl) {
    for (const f of parseDataForm(formEl).fields) {
      if (f.var && f.var !== 'FORM_TYPE' && f.type !== 'fixed') fields[f.var] = f.values;
    }
  }
  Object.assign(fields, want);
  await client.iq(x('iq', { type: 'set' }, x('pubsub', { xmlns: NS_PUBSUB_OWNER }, x('configure', { node }, optionsForm(FORM_NODE_CONFIG, fields)))));
}

/** XEP-0060 §8.9: makes `jids` members of the node (who may then retrieve items of a whitelist node). */
export async function setMembers(client: XmppClient, node: string, jids: string[]): Promise<void> {
  if (jids.length === 0) return;
  await client.iq(x('iq', { type: 'set' }, x('pubsub', { xmlns: NS_PUBSUB_OWNER },
    x('affiliations', { node }, jids.map((jid) => x('affiliation', { jid, affiliation: 'member' }))))));
}

/** A PEP notification (XEP-0163 §4.3) unpacked: publisher, node, published payloads and retracted ids. */
export interface PepEvent {
  from: string;
  node: string;
  items: PubsubItem[];
  retracted: string[];
}

export function parsePepEvent(message: Element): PepEvent | undefined {
  const items = message.getChild('event', NS_PUBSUB_EVENT)?.getChild('items', NS_PUBSUB_EVENT);
  if (!items?.attrs.node) return undefined;
  return {
    from: message.attrs.from ?? '',
    node: items.attrs.node,
    items: items.getChildren('item', NS_PUBSUB_EVENT).map((i) => ({ id: i.attrs.id, payload: i.firstElement() })),
    retracted: items.getChildren('retract', NS_PUBSUB_EVENT).map((r) => r.attrs.id ?? '').filter((id) => id),
  };
}
