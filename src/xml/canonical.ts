// Canonical XML 1.0 (W3C REC xml-c14n-20010315, "without comments") of an Element subtree, plus the
// exclusive variant's namespace rule (W3C REC xml-exc-c14n-20020718). Used for fingerprints that must not
// depend on how a peer happened to serialise the same XML (attribute order, quotes, empty-element tags,
// redundant namespace declarations). Our Element model carries no comments, PIs or DTD, so those rules
// never apply; character references and CDATA are already resolved by the parser.
import { Element } from './element.ts';

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

export interface CanonicalOptions {
  /**
   * 'inclusive' (Canonical XML 1.0): the apex element also renders every namespace declaration and xml:*
   * attribute in scope from its ancestors. 'exclusive': a namespace declaration is rendered only where it is
   * visibly used (element or attribute prefix), so the output does not depend on the enclosing document.
   */
  mode?: 'inclusive' | 'exclusive';
}

/** Canonical form of `el` (treated as the apex of a document subset) as a string; hash its UTF-8 bytes. */
export function canonicalize(el: Element, opts: CanonicalOptions = {}): string {
  const mode = opts.mode ?? 'inclusive';
  const out: string[] = [];
  const scope = ancestorScope(el.parent);
  const inheritedXmlAttrs = mode === 'inclusive' ? ancestorXmlAttrs(el.parent) : new Map<string, string>();
  writeElement(el, scope, new Map(), inheritedXmlAttrs, mode, out);
  return out.join('');
}

/** Copy of `el` without character data between elements: any element with element children loses its text. */
export function withoutInterElementText(el: Element): Element {
  const copy = new Element(el.name, { ...el.attrs });
  copy.resolvedNs = el.ns;
  const hasElements = el.children.some((c) => typeof c !== 'string');
  for (const c of el.children) {
    if (typeof c !== 'string') copy.append(withoutInterElementText(c));
    else if (!hasElements) copy.append(c);
  }
  return copy;
}

type Scope = Map<string, string>; // prefix ('' = default) → namespace URI

function ancestorScope(parent: Element | undefined): Scope {
  const chain: Element[] = [];
  for (let p = parent; p; p = p.parent) chain.unshift(p);
  let scope: Scope = new Map();
  for (const p of chain) scope = elementScope(p, scope);
  return scope;
}

function ancestorXmlAttrs(parent: Element | undefined): Map<string, string> {
  const found = new Map<string, string>();
  for (let p = parent; p; p = p.parent) {
    for (const k of Object.keys(p.attrs)) if (k.startsWith('xml:') && !found.has(k)) found.set(k, p.attrs[k]!);
  }
  return found;
}

function elementScope(el: Element, parentScope: Scope): Scope {
  const scope = new Map(parentScope);
  for (const k of Object.keys(el.attrs)) {
    if (k === 'xmlns') scope.set('', el.attrs[k]!);
    else if (k.startsWith('xmlns:')) scope.set(k.slice(6), el.attrs[k]!);
  }
  // A detached or built element may know its namespace without a declaration in reach; make it explicit.
  const own = el.prefix ?? '';
  const ns = el.ns;
  if ((scope.get(own) ?? '') !== ns) scope.set(own, ns);
  return scope;
}

function writeElement(
  el: Element,
  parentScope: Scope,
  rendered: Scope,
  inheritedXmlAttrs: Map<string, string>,
  mode: 'inclusive' | 'exclusive',
  out: string[],
): void {
  const scope = elementScope(el, parentScope);
  const attrNames = Object.keys(el.attrs).filter((k) => k !== 'xmlns' && !k.startsWith('xmlns:'));

  // Namespace declarations to render (C14N §2.3 / exc-c14n §3).
  let candidates: string[];
  if (mode === 'inclusive') {
    candidates = [...scope.keys()].filter((p) => p !== 'xml');
  } else {
    const used = new Set<string>([el.prefix ?? '']);
    for (const a of attrNames) {
      const i = a.indexOf(':');
      if (i > 0 && a.slice(0, i) !== 'xml') used.add(a.slice(0, i));
    }
    candidates = [...used];
  }
  const decls: [string, string][] = [];
  for (const p of candidates) {
    const uri = scope.get(p) ?? '';
    const prev = rendered.get(p) ?? '';
    if (p === '') {
      // The empty default namespace is only declared to undo a non-empty one rendered above.
      if (uri !== prev) decls.push(['', uri]);
    } else if (uri !== '' && rendered.get(p) !== uri) {
      decls.push([p, uri]);
    }
  }
  decls.sort((a, b) => cmp(a[0], b[0]));

  const attrs: { ns: string; local: string; name: string; value: string }[] = [];
  const seen = new Set<string>();
  for (const name of attrNames) {
    seen.add(name);
    attrs.push({ ...attrNs(name, scope), name, value: el.attrs[name]! });
  }
  for (const [name, value] of inheritedXmlAttrs) {
    if (!seen.has(name)) attrs.push({ ns: XML_NS, local: name.slice(4), name, value });
  }
  attrs.sort((a, b) => cmp(a.ns, b.ns) || cmp(a.local, b.local));

  out.push('<', el.name);
  for (const [p, uri] of decls) out.push(p === '' ? ' xmlns="' : ` xmlns:${p}="`, escapeAttrC14n(uri), '"');
  for (const a of attrs) out.push(' ', a.name, '="', escapeAttrC14n(a.value), '"');
  out.push('>');

  const childRendered = decls.length ? new Map(rendered) : rendered;
  for (const [p, uri] of decls) childRendered.set(p, uri);
  for (const c of el.children) {
    if (typeof c === 'string') out.push(escapeTextC14n(c));
    else writeElement(c, scope, childRendered, new Map(), mode, out);
  }
  out.push('</', el.name, '>');
}

function attrNs(name: string, scope: Scope): { ns: string; local: string } {
  const i = name.indexOf(':');
  if (i < 0) return { ns: '', local: name }; // unprefixed attributes are in no namespace
  const prefix = name.slice(0, i);
  return { ns: prefix === 'xml' ? XML_NS : (scope.get(prefix) ?? ''), local: name.slice(i + 1) };
}

// C14N orders by Unicode code point; UTF-8 byte order is code point order (UTF-16 order is not).
function cmp(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

// C14N §2.3 text nodes: & < > and #xD are replaced.
function escapeTextC14n(s: string): string {
  return s.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#xD;'));
}

// C14N §2.3 attribute values: & < " #x9 #xA #xD are replaced.
function escapeAttrC14n(s: string): string {
  return s.replace(/[&<"\t\n\r]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '"' ? '&quot;' : c === '\t' ? '&#x9;' : c === '\n' ? '&#xA;' : '&#xD;',
  );
}
