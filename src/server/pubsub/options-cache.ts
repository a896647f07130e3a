// Publish-options as real clients send them (issue 20): XEP-0222 §3 and every OMEMO/OpenPGP client put the
// same form on every publish. Parsing it (data form → NodeConfig → normalised options) and comparing it
// with the node's configuration is pure, so both are done once: the parsed form is kept by the form's
// canonical bytes, and each node's configuration remembers its verdict on the last options it was checked
// against (a node's configuration object is replaced whenever the node is reconfigured, so the verdict
// can never go stale).
import type { Element } from '../../xml/index.ts';
import type { NodeConfig } from '../../storage/types.ts';
import { preparePublishOptions, type PreparedOptions } from './preconditions.ts';

/**
 * The form's canonical bytes: its type and, per field, var, type and values, in document order. Forms with
 * anything else in them (labels, descriptions, titles, nested markup) get no key and take the full path,
 * so everything that could change how the form is read is part of the key.
 */
export function formKey(form: Element): string | undefined {
  let key = form.attrs.type ?? '';
  for (const a in form.attrs) if (a !== 'type' && a !== 'xmlns') return undefined;
  for (const c of form.children) {
    if (typeof c === 'string') {
      if (c.trim() !== '') return undefined;
      continue;
    }
    if (c.name !== 'field' || c.resolvedNs !== 'jabber:x:data') return undefined;
    for (const a in c.attrs) if (a !== 'var' && a !== 'type') return undefined;
    key += `\u0001${c.attrs.var ?? '\u0002'}\u0001${c.attrs.type ?? '\u0002'}`;
    for (const v of c.children) {
      if (typeof v === 'string') {
        if (v.trim() !== '') return undefined;
        continue;
      }
      if (v.name !== 'value' || v.resolvedNs !== 'jabber:x:data') return undefined;
      for (const _ in v.attrs) return undefined;
      let text = '';
      for (const t of v.children) {
        if (typeof t !== 'string') return undefined;
        text += t;
      }
      key += `\u0003${text}`;
    }
  }
  return key;
}

/** A bounded map: cleared when full (a server sees a handful of distinct forms; a flood of distinct ones
 * must not grow memory). */
class Bounded<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(k: string): V | undefined {
    return this.map.get(k);
  }
  set(k: string, v: V): void {
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(k, v);
  }
}

const MAX_FORMS = 256;
const parsedForms = new Bounded<NodeConfig>(MAX_FORMS);
const preparedByForm = new WeakMap<NodeConfig, PreparedOptions>();

/** The NodeConfig of a publish-options form, parsed once per distinct form (`parse` on a miss; its
 * errors are thrown as they are and nothing is cached). The result is frozen: callers share it. */
export function cachedFormConfig(form: Element, parse: () => NodeConfig): NodeConfig {
  const key = formKey(form);
  if (key === undefined) return parse();
  let config = parsedForms.get(key);
  if (!config) {
    config = parse();
    for (const v of Object.values(config)) if (Array.isArray(v)) Object.freeze(v);
    Object.freeze(config);
    parsedForms.set(key, config);
  }
  return config;
}

/** preparePublishOptions, once per shared (frozen, cached) options object. */
export function cachedPrepare(options: NodeConfig): PreparedOptions {
  if (!Object.isFrozen(options)) return preparePublishOptions(options);
  let p = preparedByForm.get(options);
  if (!p) {
    p = preparePublishOptions(options);
    preparedByForm.set(options, p);
  }
  return p;
}
