// Parses one complete XML fragment (a stored item, a fixture, a config blob) into an Element, with the same
// restrictions as the stream parser. Used where XML arrives whole rather than as a stream.
import { Element } from './element.ts';
import { StreamParser, XmlStreamError } from './stream-parser.ts';
import type { XmlLimits } from './limits.ts';

const WRAP_OPEN = '<wrap>';
const WRAP_CLOSE = '</wrap>';

/** The limits of a whole fragment (one object, so the parser's resolved limits are looked up, not rebuilt). */
const FRAGMENT_LIMITS: Partial<XmlLimits> = { maxStanzaSize: Number.MAX_SAFE_INTEGER, maxDepth: 10_000, maxAttributes: 10_000 };

/** What the parser's handlers report for the fragment being parsed. */
interface Outcome {
  result: Element | undefined;
  error: XmlStreamError | undefined;
  count: number;
}

/**
 * One parser for every fragment, reset before each (reset() is several times cheaper than a new parser and
 * its saxes state: a key payload parses in a few microseconds, and the key log parses one per key event).
 * Safe because parsing is synchronous and the handlers only record: no parse can start inside another.
 */
let reused: { parser: StreamParser; outcome: Outcome } | undefined;

function fragmentParser(): { parser: StreamParser; outcome: Outcome } {
  if (reused) return reused;
  const outcome: Outcome = { result: undefined, error: undefined, count: 0 };
  const parser = new StreamParser(
    {
      streamStart() {},
      stanza(el) {
        outcome.count++;
        outcome.result = el;
      },
      streamEnd() {},
      error(e) {
        outcome.error ??= e;
      },
    },
    FRAGMENT_LIMITS,
  );
  return (reused = { parser, outcome });
}

export function parseXml(xml: string, limits?: Partial<XmlLimits>): Element {
  const { parser: p, outcome } = fragmentParser();
  p.reset(limits ? { ...FRAGMENT_LIMITS, ...limits } : FRAGMENT_LIMITS);
  outcome.result = undefined;
  outcome.error = undefined;
  outcome.count = 0;
  // Wrapping lets the stream parser treat the fragment as its one stanza.
  p.writeString(WRAP_OPEN);
  p.writeString(xml.startsWith('<?xml') || /^\s/.test(xml) ? xml.replace(/^\s*<\?xml[^?]*\?>/, '') : xml);
  p.writeString(WRAP_CLOSE);
  // Set by the handlers during the writes (TypeScript still sees the values assigned above).
  const { result, error, count } = outcome as Outcome;
  outcome.result = undefined;
  if (error) throw error;
  if (!result || count !== 1) throw new XmlStreamError('not-well-formed', 'expected exactly one root element');
  result.parent = undefined;
  return result;
}

const ROOT_NAME = /^<([^\s/>!?]+)[\s/>]/;

interface Tree {
  attrs: Element['attrs'];
  children: Element['children'];
  resolvedNs: string | undefined;
}

/**
 * An element kept as the serialised XML it was stored as, written verbatim by serialize(): stored pubsub
 * payloads are spliced into notifications and retrieval results without a parse and a re-serialisation.
 * Only for strings our own serializer produced from a parsed tree (pubsub `serializePayload`), so they are
 * well-formed and already in the serializer's form. The tree is parsed the first time anything reads or
 * sets `attrs`, `children` or `resolvedNs`; from then on it is an ordinary Element (mutations serialise).
 */
export class RawXml extends Element {
  /** The parsed tree behind the accessors below, once materialised. */
  declare private tree: Tree | undefined;

  /** A RawXml for `xml`, or the parsed tree when `xml` does not start with a plain element tag. */
  static of(xml: string): Element {
    const m = ROOT_NAME.exec(xml);
    if (!m || !xml.endsWith('>')) return parseXml(xml);
    // Not constructed with `new`: Element's constructor would give the instance its own attrs/children
    // fields, hiding the prototype accessors (and per-instance defineProperty is ~100x slower than this).
    const el = Object.create(RawXml.prototype) as RawXml;
    el.name = m[1]!;
    el.parent = undefined;
    el.rawXml = xml;
    el.tree = undefined;
    return el;
  }

  private constructor() {
    super('');
  }

  override clone(): Element {
    return this.rawXml !== undefined ? RawXml.of(this.rawXml) : super.clone();
  }

  /** @internal */
  materialise(): Tree {
    if (this.tree) return this.tree;
    const parsed = parseXml(this.rawXml!);
    this.rawXml = undefined;
    this.name = parsed.name;
    const tree: Tree = { attrs: parsed.attrs, children: [], resolvedNs: parsed.resolvedNs };
    this.tree = tree;
    for (const c of parsed.children) this.append(c);
    return tree;
  }
}

for (const key of ['attrs', 'children', 'resolvedNs'] as const) {
  Object.defineProperty(RawXml.prototype, key, {
    configurable: true,
    get(this: RawXml) {
      return this.materialise()[key];
    },
    set(this: RawXml, v: never) {
      this.materialise()[key] = v;
    },
  });
}
