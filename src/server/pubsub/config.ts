// pubsub#node_config fields this engine implements: their types, PEP defaults, validation and coercion.
// Values are kept as NodeConfig (field var without the `pubsub#` prefix → string | string[]) so they store
// and compare as plain data; `typedConfig` gives the engine typed views.
import type { NodeConfig } from '../../storage/types.ts';

export type AccessModel = 'open' | 'presence' | 'roster' | 'whitelist';
export type SendLastPublished = 'never' | 'on_sub' | 'on_sub_and_presence';

/** XEP-0060 §4.5 access models. "authorize" needs an owner-approval flow (§8.6) we do not implement. */
export const SUPPORTED_ACCESS_MODELS: readonly AccessModel[] = ['open', 'presence', 'roster', 'whitelist'];
export const KNOWN_ACCESS_MODELS: readonly string[] = ['authorize', ...SUPPORTED_ACCESS_MODELS];

export type FieldType = 'boolean' | 'list-single' | 'list-multi' | 'text-single';

export interface ConfigFieldSpec {
  type: FieldType;
  label: string;
  /** Allowed values for list-single fields. */
  options?: readonly string[];
  /** text-single fields holding a positive integer or the literal `max` (XEP-0060 §16.4.3 max_items). */
  integerOrMax?: boolean;
}

/**
 * The node_config fields we honour (XEP-0060 §16.4.3 registry). A field is listed only if the engine acts
 * on it; every other field is refused rather than silently stored.
 */
export const NODE_CONFIG_FIELDS: Readonly<Record<string, ConfigFieldSpec>> = {
  title: { type: 'text-single', label: 'A friendly name for the node' },
  description: { type: 'text-single', label: 'A description of the node' },
  access_model: { type: 'list-single', label: 'Who may subscribe and retrieve items', options: SUPPORTED_ACCESS_MODELS },
  roster_groups_allowed: { type: 'list-multi', label: 'The roster group(s) allowed to subscribe and retrieve items' },
  publish_model: { type: 'list-single', label: 'The publisher model', options: ['publishers'] },
  persist_items: { type: 'boolean', label: 'Whether to persist items to storage' },
  max_items: {
    type: 'text-single',
    label: 'The maximum number of items to persist. `max` for no specific limit other than a server imposed maximum.',
    integerOrMax: true,
  },
  deliver_notifications: { type: 'boolean', label: 'Whether to deliver event notifications' },
  deliver_payloads: { type: 'boolean', label: 'Whether to deliver payloads with event notifications' },
  notify_config: { type: 'boolean', label: 'Whether to notify subscribers when the node configuration changes' },
  notify_delete: { type: 'boolean', label: 'Whether to notify subscribers when the node is deleted' },
  notify_retract: { type: 'boolean', label: 'Whether to notify subscribers when items are removed from the node' },
  send_last_published_item: {
    type: 'list-single',
    label: 'When to send the last published item',
    options: ['never', 'on_sub', 'on_sub_and_presence'],
  },
  notification_type: { type: 'list-single', label: 'Specify the delivery style for notifications', options: ['headline', 'normal'] },
  // XEP-0060 §12.7: whether items carry a 'publisher' attribute ("publisher") or not ("none").
  itemreply: { type: 'list-single', label: 'Whether items carry the JID of their publisher', options: ['none', 'publisher'] },
};

/**
 * PEP defaults. XEP-0163 §8 (Recommended Defaults): access_model "presence", deliver payloads,
 * send_last_published_item "on_sub_and_presence"; XEP-0163 0.3 made PEP nodes persistent.
 * max_items: XEP-0163 names no default (it only mentions "singleton" nodes as a possibility in §5.3.4), and
 * XEP-0222 §4 (Composition) stores each item as a separate piece of data (e.g. one XEP-0189 key per item),
 * so a singleton default would silently evict data: we default to `max`, i.e. the server's per-node cap.
 */
export const PEP_DEFAULT_CONFIG: Readonly<NodeConfig> = Object.freeze({
  access_model: 'presence',
  roster_groups_allowed: [],
  publish_model: 'publishers',
  persist_items: 'true',
  max_items: 'max',
  deliver_notifications: 'true',
  deliver_payloads: 'true',
  notify_config: 'false',
  notify_delete: 'true',
  notify_retract: 'true',
  send_last_published_item: 'on_sub_and_presence',
  notification_type: 'headline',
  itemreply: 'none',
});

export type ConfigProblem =
  | { kind: 'unknown-field'; field: string }
  | { kind: 'bad-value'; field: string; value: string | string[] }
  | { kind: 'unsupported-access-model'; field: 'access_model'; value: string };

export type NormalizeResult = { ok: true; config: NodeConfig } | { ok: false; problem: ConfigProblem };

/** XEP-0004 §3.3 boolean: "0"/"false" and "1"/"true". */
export function parseBooleanValue(v: string): boolean | undefined {
  const t = v.trim();
  if (t === '1' || t === 'true') return true;
  if (t === '0' || t === 'false') return false;
  return undefined;
}

function single(v: string | string[]): string | undefined {
  if (typeof v === 'string') return v;
  if (v.length === 0) return '';
  return v.length === 1 ? v[0] : undefined;
}

/** Validates and coerces one field value into its canonical stored form. */
export function normalizeField(field: string, value: string | string[]): { ok: true; value: string | string[] } | { ok: false; problem: ConfigProblem } {
  const spec = NODE_CONFIG_FIELDS[field];
  if (!spec) return { ok: false, problem: { kind: 'unknown-field', field } };
  const bad = { ok: false as const, problem: { kind: 'bad-value' as const, field, value } };
  if (spec.type === 'list-multi') {
    const list = typeof value === 'string' ? (value === '' ? [] : [value]) : value;
    // Deduplicated and sorted: a list-multi is a set, so equal sets must compare equal as preconditions.
    return { ok: true, value: [...new Set(list)].sort() };
  }
  const v = single(value);
  if (v === undefined) return bad;
  switch (spec.type) {
    case 'boolean': {
      const b = parseBooleanValue(v);
      return b === undefined ? bad : { ok: true, value: b ? 'true' : 'false' };
    }
    case 'list-single': {
      const t = v.trim();
      if (field === 'access_model' && t === 'authorize') {
        return { ok: false, problem: { kind: 'unsupported-access-model', field: 'access_model', value: t } };
      }
      return spec.options!.includes(t) ? { ok: true, value: t } : bad;
    }
    case 'text-single': {
      if (spec.integerOrMax) {
        const t = v.trim();
        if (t === 'max') return { ok: true, value: 'max' };
        if (!/^\d{1,9}$/.test(t)) return bad;
        const n = Number(t);
        return n >= 1 ? { ok: true, value: String(n) } : bad;
      }
      return { ok: true, value: v };
    }
  }
}

/** Validates every field of `input`; the first problem wins. Returns only the given fields, normalised. */
export function normalizeConfig(input: NodeConfig): NormalizeResult {
  const out: NodeConfig = {};
  for (const [field, value] of Object.entries(input)) {
    const r = normalizeField(field, value);
    if (!r.ok) return r;
    out[field] = r.value;
  }
  return { ok: true, config: out };
}

/** Defaults overlaid with a stored config (stored configs may predate fields added later). */
export function effectiveConfig(stored: NodeConfig, defaults: NodeConfig = PEP_DEFAULT_CONFIG): NodeConfig {
  const out: NodeConfig = {};
  for (const [k, v] of Object.entries(defaults)) out[k] = Array.isArray(v) ? [...v] : v;
  for (const [k, v] of Object.entries(stored)) {
    if (k in NODE_CONFIG_FIELDS) out[k] = Array.isArray(v) ? [...v] : v;
  }
  return out;
}

/** Equality of two canonical values of one field. */
export function sameFieldValue(a: string | string[] | undefined, b: string | string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    const x = (Array.isArray(a) ? [...a] : [a]).sort();
    const y = (Array.isArray(b) ? [...b] : [b]).sort();
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  return a === b;
}

export interface TypedConfig {
  accessModel: AccessModel;
  rosterGroupsAllowed: string[];
  persistItems: boolean;
  /** undefined = `max` (the server limit applies). */
  maxItems: number | undefined;
  deliverNotifications: boolean;
  deliverPayloads: boolean;
  notifyConfig: boolean;
  notifyDelete: boolean;
  notifyRetract: boolean;
  sendLastPublishedItem: SendLastPublished;
  notificationType: 'headline' | 'normal';
  /** Items carry their publisher (itemreply = publisher). */
  exposePublisher: boolean;
  title: string | undefined;
  description: string | undefined;
}

function str(c: NodeConfig, k: string): string | undefined {
  const v = c[k];
  return v === undefined ? undefined : Array.isArray(v) ? v[0] : v;
}

function bool(c: NodeConfig, k: string): boolean {
  return parseBooleanValue(str(c, k) ?? '') ?? parseBooleanValue(String(PEP_DEFAULT_CONFIG[k])) ?? false;
}

/** Typed view of a config (run `effectiveConfig` first so every field is present). */
export function typedConfig(config: NodeConfig): TypedConfig {
  const am = str(config, 'access_model');
  const groups = config.roster_groups_allowed;
  const mi = str(config, 'max_items');
  const slpi = str(config, 'send_last_published_item');
  return {
    // A stored model we no longer know (e.g. "authorize") is treated as closed by access.ts.
    accessModel: (am ?? 'presence') as AccessModel,
    rosterGroupsAllowed: groups === undefined ? [] : Array.isArray(groups) ? groups : [groups],
    persistItems: bool(config, 'persist_items'),
    maxItems: mi === undefined || mi === 'max' ? undefined : Number(mi),
    deliverNotifications: bool(config, 'deliver_notifications'),
    deliverPayloads: bool(config, 'deliver_payloads'),
    notifyConfig: bool(config, 'notify_config'),
    notifyDelete: bool(config, 'notify_delete'),
    notifyRetract: bool(config, 'notify_retract'),
    sendLastPublishedItem: (slpi ?? 'on_sub_and_presence') as SendLastPublished,
    notificationType: str(config, 'notification_type') === 'normal' ? 'normal' : 'headline',
    exposePublisher: str(config, 'itemreply') === 'publisher',
    title: str(config, 'title'),
    description: str(config, 'description'),
  };
}

/** The item cap actually applied: the node's max_items bounded by the service limit. */
export function effectiveMaxItems(t: TypedConfig, serviceMax: number): number {
  // XEP-0060 §4.3: a transient node keeps no history; we still cache the last item for last-published.
  if (!t.persistItems) return 1;
  return t.maxItems === undefined ? serviceMax : Math.min(t.maxItems, serviceMax);
}
