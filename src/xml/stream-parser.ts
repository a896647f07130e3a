// Incremental parser for one XMPP stream: bytes in, stream header / one Element per stanza / stream end out.
// saxes does the XML (strict well-formedness, namespaces, no entity expansion); this layer adds what
// RFC 6120 asks on top: fatal UTF-8 decoding that survives characters split across reads, restricted XML
// (§11.1: no DTD, comments or processing instructions) and size/depth/attribute limits (§13.12).
import { Buffer } from 'node:buffer';
import { SaxesParser, type SaxesTagNS, type XMLDecl } from 'saxes';
import { Element } from './element.ts';
import { DEFAULT_XML_LIMITS, type XmlLimits } from './limits.ts';
import { Utf8StreamDecoder } from './utf8-stream.ts';

/** Why the stream cannot go on; maps one-to-one onto RFC 6120 §4.9.3 stream error conditions. */
export type XmlErrorCondition = 'not-well-formed' | 'restricted-xml' | 'policy-violation' | 'unsupported-encoding';

export class XmlStreamError extends Error {
  constructor(readonly condition: XmlErrorCondition, message: string) {
    super(message);
    this.name = 'XmlStreamError';
  }
}

/** Thrown through saxes to stop it at the first error (see fail()); never escapes write(). */
const ABORT = Symbol('abort');

/** Decoded text is handed to saxes in slices of this many code units, so limits are checked between them. */
const SLICE = 16 * 1024;

export interface StreamParserEvents {
  streamStart(root: Element): void;
  stanza(el: Element): void;
  streamEnd(): void;
  error(err: XmlStreamError): void;
}

/**
 * saxes' handler slots, as `SaxesParser#on(name, handler)` names them (saxes 6: EVENT_NAME_TO_HANDLER_NAME;
 * private in its typings). saxes calls each one if set.
 */
interface SaxHandlerSlots {
  errorHandler?: (err: Error) => void;
  doctypeHandler?: (doctype: string) => void;
  commentHandler?: (comment: string) => void;
  piHandler?: (pi: { target: string; body: string }) => void;
  xmldeclHandler?: (decl: XMLDecl) => void;
  openTagStartHandler?: (tag: unknown) => void;
  attributeHandler?: (attr: unknown) => void;
  openTagHandler?: (tag: SaxesTagNS) => void;
  closeTagHandler?: (tag: SaxesTagNS) => void;
  textHandler?: (text: string) => void;
  cdataHandler?: (cdata: string) => void;
}

/** saxes internals this parser relies on for its per-connection footprint (saxes 6; private in its typings). */
interface SaxInternals {
  stateTable: unknown[];
  ENTITIES: Record<string, string>;
  ns: Record<string, string>;
  tags: SaxesTagNS[];
  tag: SaxesTagNS | null;
  topNS: Record<string, string> | null;
  _init(): void;
}

const SAX_OPTIONS = { xmlns: true, position: true } as const;

/**
 * saxes gives every parser its own copy of tables that never change here: the state table (the same
 * prototype methods, ~380 bytes), the predefined namespace bindings and the entity table (DTDs are refused,
 * so only the five predefined entities). Every parser shares the first parser's, which matters at tens of
 * thousands of idle connections.
 */
let sharedTables: { stateTable: unknown[]; entities: Record<string, string>; ns: Record<string, string> } | undefined;

function shareTables(sax: SaxInternals): void {
  sharedTables ??= { stateTable: sax.stateTable, entities: sax.ENTITIES, ns: sax.ns };
  sax.stateTable = sharedTables.stateTable;
  sax.ENTITIES = sharedTables.entities;
  sax.ns = sharedTables.ns;
}

const NO_ATTRIBUTES: SaxesTagNS['attributes'] = Object.freeze({});

/**
 * The stream root's names and namespace bindings, one copy each. A substring of 13 or more characters is a
 * slice that keeps the whole string it came from (the decoded read) alive. Only the root: a lookup per
 * element cost ~10% of parsing throughput (measured). Bounded: past the limit strings are returned as is.
 */
const interned = new Map<string, string>();

function intern(s: string): string {
  if (s.length < 13) return s; // V8 copies shorter substrings
  const known = interned.get(s);
  if (known !== undefined) return known;
  if (interned.size >= 512) return s;
  // A flat copy: the map must not keep a read alive either.
  const flat = Buffer.from(s, 'utf8').toString('utf8');
  interned.set(flat, flat);
  return flat;
}

/** One resolved limits object per distinct input (servers pass the same one for every connection). */
const resolvedLimits = new WeakMap<Partial<XmlLimits>, XmlLimits>();

function resolveLimits(limits: Partial<XmlLimits>): XmlLimits {
  let r = resolvedLimits.get(limits);
  if (!r) resolvedLimits.set(limits, (r = { ...DEFAULT_XML_LIMITS, ...limits }));
  return r;
}

export class StreamParser {
  private decoder = new Utf8StreamDecoder();
  private readonly sax: SaxesParser<{ xmlns: true; position: true }>;
  private limits: XmlLimits;
  private current: Element | undefined;
  /** The stanza (depth-1 element) being built. */
  private stanza: Element | undefined;
  private depth = 0;
  private attrCount = 0;
  private stanzaStart = 0;
  private failed = false;
  private ended = false;
  /** True while saxes is running, so fail() can stop it. */
  private inSax = false;
  /** Code units handed to saxes so far (saxes' own `position` is off by one chunk between writes). */
  private fed = 0;
  /**
   * A completed stanza (or the stream end) held back until saxes moves on: saxes calls the close-tag
   * handler before it notices that the close tag's name does not match (`<message></iq>`), so a stanza is
   * only released once the next event arrives or the slice ends, and dropped if an error comes first at
   * the very same position.
   */
  private pending: (() => void) | undefined;
  private pendingPos = -1;

  /**
   * saxes calls most handlers as methods of the parser (`handler.call(parser, …)`), so those live on the
   * prototype of a saxes subclass that knows its StreamParser: one set for every connection instead of a
   * closure each (~450 bytes per connection). saxes calls the other three (error, close tag, text) without
   * a receiver; they stay closures, set in the constructor.
   * Handlers are never set through `sax.on(name, fn)`: it stores them with a computed key, and a
   * computed-key store that adds a property to an object already holding ~45 turns it into a dictionary
   * (V8's limit for such stores is far lower than for named ones): ~2.6 KB more per parser (measured).
   */
  private static readonly Sax = (() => {
    class Sax extends SaxesParser<{ xmlns: true; position: true }> {
      constructor(readonly owner: StreamParser) {
        super(SAX_OPTIONS);
      }
    }
    const shared: ThisType<Sax> & SaxHandlerSlots = {
      doctypeHandler() {
        this.owner.flush() ?? this.owner.fail('restricted-xml', 'DOCTYPE is not allowed in XMPP (RFC 6120 §11.1)');
      },
      commentHandler() {
        this.owner.flush() ?? this.owner.fail('restricted-xml', 'comments are not allowed in XMPP (RFC 6120 §11.1)');
      },
      piHandler() {
        this.owner.flush() ?? this.owner.fail('restricted-xml', 'processing instructions are not allowed in XMPP (RFC 6120 §11.1)');
      },
      xmldeclHandler(decl) {
        const p = this.owner;
        p.flush();
        if (decl.encoding !== undefined && decl.encoding.toUpperCase() !== 'UTF-8') {
          p.fail('unsupported-encoding', `encoding ${decl.encoding} is not supported; XMPP uses UTF-8`);
        }
      },
      openTagStartHandler() {
        const p = this.owner;
        p.flush();
        p.attrCount = 0;
        if (p.depth === 1) p.stanzaStart = this.position;
      },
      attributeHandler() {
        const p = this.owner;
        if (++p.attrCount > p.limits.maxAttributes) p.fail('policy-violation', `more than ${p.limits.maxAttributes} attributes on one element`);
      },
      openTagHandler(tag) {
        this.owner.openTag(tag as SaxesTagNS);
      },
      cdataHandler(t) {
        const p = this.owner;
        p.flush();
        p.text(t);
      },
    };
    Object.assign(Sax.prototype, shared);
    return Sax;
  })();

  constructor(private readonly on: StreamParserEvents, limits: Partial<XmlLimits> = {}) {
    this.limits = resolveLimits(limits);
    this.sax = new StreamParser.Sax(this);
    shareTables(this.sax as unknown as SaxInternals);
    const sax = this.sax as unknown as SaxHandlerSlots;
    sax.errorHandler = (e) => {
      if (this.pending && this.sax.position === this.pendingPos) this.pending = undefined;
      else this.flush();
      this.fail('not-well-formed', e.message);
    };
    sax.closeTagHandler = () => {
      this.flush();
      this.closeTag();
    };
    sax.textHandler = (t) => {
      this.flush();
      this.text(t);
    };
  }

  /**
   * Starts over for a new stream on the same connection (RFC 6120 §4.3.3: after STARTTLS and after SASL
   * success both sides discard the old stream and start a new one). Reusing the parser instead of making a
   * new one saves its allocation on every login. Not to be called from inside an event handler. `limits`,
   * if given, apply from the new stream on (a server allows less before authentication than after).
   */
  reset(limits?: Partial<XmlLimits>): void {
    if (limits) this.limits = resolveLimits(limits);
    const sax = this.sax as unknown as SaxInternals;
    sax._init();
    shareTables(sax);
    this.decoder = new Utf8StreamDecoder();
    this.current = undefined;
    this.stanza = undefined;
    this.depth = 0;
    this.attrCount = 0;
    this.stanzaStart = 0;
    this.failed = false;
    this.ended = false;
    this.inSax = false;
    this.fed = 0;
    this.pending = undefined;
    this.pendingPos = -1;
  }

  /** True inside an open stream with no element half-read (framed transports check it after each message). */
  get betweenElements(): boolean {
    return this.depth === 1 && !this.failed;
  }

  /** Feeds raw bytes from the socket. After an error or stream end, further input is ignored. */
  write(chunk: Uint8Array): void {
    if (this.failed || this.ended) return;
    const s = this.decoder.decode(chunk);
    if (s === undefined) {
      // RFC 6120 §4.9.3.22: violating the rules of UTF-8 is an unsupported-encoding stream error.
      this.fail('unsupported-encoding', 'invalid UTF-8 in stream');
      return;
    }
    this.writeString(s);
  }

  /** Feeds already decoded text (tests, fuzzers). */
  writeString(s: string): void {
    if (this.failed || this.ended || s.length === 0) return;
    // A stanza larger than the limit is refused before saxes buffers more of it: the check runs against
    // the start of the unfinished stanza (or the end of the previous one, between stanzas) after every
    // slice, so one huge read costs at most the limit plus a slice before it is refused. (saxes carries a
    // trailing high surrogate or CR over to the next slice itself.)
    for (let i = 0; i < s.length && !this.failed && !this.ended; i += SLICE) {
      this.inSax = true;
      try {
        const slice = i === 0 && s.length <= SLICE ? s : s.slice(i, i + SLICE);
        this.sax.write(slice);
        this.fed += slice.length;
        this.flush();
      } catch (e) {
        // ABORT: fail() already reported; anything else is saxes (or an event handler) throwing.
        if (e !== ABORT) this.fail('not-well-formed', (e as Error).message);
        return;
      } finally {
        this.inSax = false;
      }
      this.checkSize();
    }
  }

  private flush(): undefined {
    const release = this.pending;
    if (release) {
      this.pending = undefined;
      release();
    }
    return undefined;
  }

  private checkSize(): void {
    const position = this.inSax ? this.sax.position : this.fed;
    if (this.failed || this.ended) return;
    if (this.depth === 0) {
      // RFC 6120 §13.12: the header is bounded like a stanza, before saxes buffers more of it.
      if (position > this.limits.maxHeaderSize) this.fail('policy-violation', `stream header larger than ${this.limits.maxHeaderSize} bytes`);
    } else if (position - this.stanzaStart > this.limits.maxStanzaSize) {
      this.fail('policy-violation', `stanza larger than ${this.limits.maxStanzaSize} bytes`);
    }
  }

  private openTag(tag: SaxesTagNS): void {
    if (this.failed) return;
    const attrs: Record<string, string> = {};
    for (const k in tag.attributes) attrs[k] = tag.attributes[k]!.value;
    const el = new Element(tag.name, attrs);
    el.resolvedNs = tag.uri;
    if (this.depth === 0) {
      // saxes keeps the root tag open for the whole stream (for namespace resolution) but never reads its
      // attributes again: drop them rather than hold ~0.6 KB per idle connection. Its names and namespace
      // bindings are slices of the read that carried the header; interned, they stop keeping it alive (and
      // so do the namespaces of the stanzas that inherit them, e.g. a session's stored presence).
      tag.attributes = NO_ATTRIBUTES;
      tag.name = intern(tag.name);
      tag.prefix = intern(tag.prefix);
      tag.local = intern(tag.local);
      tag.uri = intern(tag.uri);
      for (const p in tag.ns) tag.ns[p] = intern(tag.ns[p]!);
      this.depth = 1;
      this.stanzaStart = this.sax.position;
      this.on.streamStart(el);
      return;
    }
    if (this.depth > this.limits.maxDepth) {
      this.fail('policy-violation', `elements nested deeper than ${this.limits.maxDepth}`);
      return;
    }
    if (this.current) this.current.append(el);
    else {
      el.parent = undefined;
      this.stanza = el;
    }
    if (tag.prefix !== '') this.carryRootBinding(el, tag.prefix, tag.uri);
    for (const k in tag.attributes) {
      const a = tag.attributes[k]!;
      if (a.prefix !== '' && a.prefix !== 'xmlns' && a.prefix !== 'xml') this.carryRootBinding(el, a.prefix, a.uri);
    }
    this.current = el;
    this.depth++;
  }

  /**
   * A stanza leaves its stream: the root is dropped, and the stanza is routed, stored and replayed on other
   * streams whose roots declare other prefixes. A prefix that the stanza uses but that only the stream
   * header declares (`<stream:stream xmlns:k='urn:x'>` … `<k:x/>`) would then be unbound wherever it is
   * written, breaking the recipient's stream (RFC 6120 §11: only namespace-well-formed XML goes out). So the
   * root's binding is copied onto the stanza element, which makes every stanza self-contained; bindings
   * declared inside the stanza are already carried by its own tree. Only prefixed names pay for the walk.
   */
  private carryRootBinding(el: Element, prefix: string, uri: string): void {
    const key = `xmlns:${prefix}`;
    for (let e: Element | undefined = el; e; e = e.parent) if (e.attrs[key] !== undefined) return;
    this.stanza!.attrs[key] = uri;
  }

  private closeTag(): void {
    if (this.failed) return;
    this.depth--;
    if (this.depth === 0) {
      this.ended = true;
      this.hold(() => this.on.streamEnd());
      return;
    }
    const el = this.current!;
    this.current = el.parent;
    if (this.depth === 1) {
      this.current = undefined;
      this.stanza = undefined;
      // saxes keeps the last closed tag (with its attributes) until the next one opens, which on an idle
      // connection is forever; only the stream's root matters from here on.
      const sax = this.sax as unknown as SaxInternals;
      sax.tag = null;
      sax.topNS = sax.tags[0]?.ns ?? null;
      // A stanza that arrived whole in one slice is measured here, before anyone sees it.
      this.checkSize();
      if (this.failed) return;
      this.stanzaStart = this.sax.position;
      this.hold(() => this.on.stanza(el));
    }
  }

  private hold(release: () => void): void {
    this.pending = release;
    this.pendingPos = this.sax.position;
  }

  private text(t: string): void {
    if (this.failed) return;
    if (this.current) {
      this.current.append(t);
      return;
    }
    // Between stanzas only whitespace (keepalives) is meaningful; RFC 6120 §11.7 allows it, nothing else.
    if (this.depth === 1 && /[^ \t\r\n]/.test(t)) this.fail('not-well-formed', 'character data between stanzas');
  }

  private fail(condition: XmlErrorCondition, message: string): void {
    if (this.failed) return;
    this.failed = true;
    this.on.error(new XmlStreamError(condition, message));
    // Stop saxes in the middle of its input: whatever follows the first error is not worth parsing, and
    // parsing it can be expensive (saxes resolves each tag's namespace by walking its open-tag stack, so a
    // refused 100k-deep nesting would otherwise take minutes of CPU).
    if (this.inSax) throw ABORT;
  }
}
