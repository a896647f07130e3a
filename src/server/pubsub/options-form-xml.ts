// The XML side of the publish-options cache (issue 20): a publish-options form, read once per distinct
// form. The form is keyed by its canonical bytes, so the same form sent with every publish (XEP-0222 §3, every
// OMEMO and OpenPGP client) is parsed into a NodeConfig once; options-cache.ts then compares that shared,
// frozen config with each node's configuration once per configuration.
import type { Element } from '../../xml/index.ts';
import type { NodeConfig } from '../../storage/types.ts';

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
