// The element tree every layer above works with: a stanza is one Element, its children Elements or text.
// Namespaces follow XML Namespaces: `xmlns` / `xmlns:p` attributes are kept as written (so serialisation
// round-trips) and an element's namespace is resolved through its ancestors.
import { escapeAttr, escapeText } from './escape.ts';

export type Attrs = Record<string, string>;
export type Node = Element | string;

export class Element {
  name: string;
  attrs: Attrs;
  children: Node[];
  parent: Element | undefined;
  /** Namespace the parser resolved for this element; set for parsed trees, computed for built ones. */
  resolvedNs: string | undefined;
  /** Only set on a RawXml (parse.ts) whose tree has not been looked at: serialize() writes it verbatim. */
  declare rawXml?: string;

  constructor(name: string, attrs: Attrs = {}, children: Node[] = []) {
    this.name = name;
    this.attrs = attrs;
    this.children = [];
    this.parent = undefined;
    this.resolvedNs = undefined;
    for (const c of children) this.append(c);
  }

  /** Local part of the qualified name. */
  get local(): string {
    const i = this.name.indexOf(':');
    return i < 0 ? this.name : this.name.slice(i + 1);
  }

  get prefix(): string | undefined {
    const i = this.name.indexOf(':');
    return i < 0 ? undefined : this.name.slice(0, i);
  }

  /** The namespace URI of this element ('' when none is in scope). */
  get ns(): string {
    if (this.resolvedNs !== undefined) return this.resolvedNs;
    return this.lookupNs(this.prefix);
  }

  lookupNs(prefix: string | undefined): string {
    const key = prefix === undefined ? 'xmlns' : `xmlns:${prefix}`;
    for (let el: Element | undefined = this; el; el = el.parent) {
      const v = el.attrs[key];
      if (v !== undefined) return v;
      if (prefix === undefined && el.resolvedNs !== undefined && el.prefix === undefined) return el.resolvedNs;
    }
    if (prefix === 'xml') return 'http://www.w3.org/XML/1998/namespace';
    return '';
  }

  is(local: string, ns?: string): boolean {
    return this.local === local && (ns === undefined || this.ns === ns);
  }

  attr(name: string): string | undefined {
    return this.attrs[name];
  }

  append(child: Node | undefined | null | false): this {
    if (child === undefined || child === null || child === false) return this;
    if (typeof child !== 'string') child.parent = this;
    this.children.push(child);
    return this;
  }

  /** Appends a new child element and returns it (builder style). */
  c(name: string, attrs: Attrs = {}): Element {
    const child = new Element(name, attrs);
    this.append(child);
    return child;
  }

  t(text: string): this {
    return this.append(text);
  }

  remove(child: Element): this {
    const i = this.children.indexOf(child);
    if (i >= 0) this.children.splice(i, 1);
    child.parent = undefined;
    return this;
  }

  get elements(): Element[] {
    const out: Element[] = [];
    for (const c of this.children) if (typeof c !== 'string') out.push(c);
    return out;
  }

  getChild(local: string, ns?: string): Element | undefined {
    for (const c of this.children) if (typeof c !== 'string' && c.is(local, ns)) return c;
    return undefined;
  }

  getChildren(local: string, ns?: string): Element[] {
    const out: Element[] = [];
    for (const c of this.children) if (typeof c !== 'string' && c.is(local, ns)) out.push(c);
    return out;
  }

  /** First child element in a namespace, whatever its name (e.g. the payload of an IQ). */
  firstChildNs(ns: string): Element | undefined {
    for (const c of this.children) if (typeof c !== 'string' && c.ns === ns) return c;
    return undefined;
  }

  firstElement(): Element | undefined {
    for (const c of this.children) if (typeof c !== 'string') return c;
    return undefined;
  }

  /** Concatenated direct text children. */
  text(): string {
    let s = '';
    for (const c of this.children) if (typeof c === 'string') s += c;
    return s;
  }

  getChildText(local: string, ns?: string): string | undefined {
    return this.getChild(local, ns)?.text();
  }

  /** Deep copy without the parent link; resolved namespaces are kept. */
  clone(): Element {
    const copy = new Element(this.name, { ...this.attrs });
    copy.resolvedNs = this.resolvedNs;
    for (const c of this.children) copy.append(typeof c === 'string' ? c : c.clone());
    return copy;
  }

  toString(): string {
    return serialize(this);
  }
}

export function serialize(el: Element): string {
  const parts: string[] = [];
  write(el, parts);
  return parts.join('');
}

function write(el: Element, out: string[]): void {
  if (el.rawXml !== undefined) {
    out.push(el.rawXml);
    return;
  }
  out.push('<', el.name);
  for (const k in el.attrs) {
    const v = el.attrs[k];
    if (v !== undefined) out.push(' ', k, '="', escapeAttr(v), '"');
  }
  if (el.children.length === 0) {
    out.push('/>');
    return;
  }
  out.push('>');
  for (const c of el.children) {
    if (typeof c === 'string') out.push(escapeText(c));
    else write(c, out);
  }
  out.push('</', el.name, '>');
}

/** Builder: `x('iq', { type: 'get' }, x('query', { xmlns: NS }))`. Undefined attribute values are dropped. */
export function x(name: string, attrs?: Record<string, string | undefined> | null, ...children: (Node | Node[] | undefined | null | false)[]): Element {
  const clean: Attrs = {};
  if (attrs) for (const k in attrs) if (attrs[k] !== undefined) clean[k] = attrs[k]!;
  const el = new Element(name, clean);
  for (const c of children) {
    if (Array.isArray(c)) for (const cc of c) el.append(cc);
    else el.append(c);
  }
  return el;
}
