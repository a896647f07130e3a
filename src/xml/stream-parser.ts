// Incremental parser for one XMPP stream: bytes in, stream header / one Element per stanza / stream end out.
// saxes does the XML (strict well-formedness, namespaces, no entity expansion); this layer adds what
// RFC 6120 asks on top: fatal UTF-8 decoding that survives characters split across reads, restricted XML
// (§11.1: no DTD, comments or processing instructions) and size/depth/attribute limits (§13.12).
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { Element } from './element.ts';
import { DEFAULT_XML_LIMITS, type XmlLimits } from './limits.ts';

/** Why the stream cannot go on; maps one-to-one onto RFC 6120 §4.9.3 stream error conditions. */
export type XmlErrorCondition = 'not-well-formed' | 'restricted-xml' | 'policy-violation' | 'unsupported-encoding';

export class XmlStreamError extends Error {
  constructor(readonly condition: XmlErrorCondition, message: string) {
    super(message);
    this.name = 'XmlStreamError';
  }
}

export interface StreamParserEvents {
  streamStart(root: Element): void;
  stanza(el: Element): void;
  streamEnd(): void;
  error(err: XmlStreamError): void;
}

export class StreamParser {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly sax: SaxesParser<{ xmlns: true; position: true }>;
  private readonly limits: XmlLimits;
  private root: Element | undefined;
  private current: Element | undefined;
  private depth = 0;
  private attrCount = 0;
  private stanzaStart = 0;
  private fed = 0;
  private failed = false;
  private ended = false;

  constructor(private readonly on: StreamParserEvents, limits: Partial<XmlLimits> = {}) {
    this.limits = { ...DEFAULT_XML_LIMITS, ...limits };
    this.sax = new SaxesParser({ xmlns: true, position: true });
    const sax = this.sax;
    sax.on('error', (e) => this.fail('not-well-formed', e.message));
    sax.on('doctype', () => this.fail('restricted-xml', 'DOCTYPE is not allowed in XMPP (RFC 6120 §11.1)'));
    sax.on('comment', () => this.fail('restricted-xml', 'comments are not allowed in XMPP (RFC 6120 §11.1)'));
    sax.on('processinginstruction', () => this.fail('restricted-xml', 'processing instructions are not allowed in XMPP (RFC 6120 §11.1)'));
    sax.on('xmldecl', (decl) => {
      if (decl.encoding !== undefined && decl.encoding.toUpperCase() !== 'UTF-8') {
        this.fail('unsupported-encoding', `encoding ${decl.encoding} is not supported; XMPP uses UTF-8`);
      }
    });
    sax.on('opentagstart', () => {
      this.attrCount = 0;
      if (this.depth === 1) this.stanzaStart = this.sax.position;
    });
    sax.on('attribute', () => {
      if (++this.attrCount > this.limits.maxAttributes) this.fail('policy-violation', `more than ${this.limits.maxAttributes} attributes on one element`);
    });
    sax.on('opentag', (tag) => this.openTag(tag));
    sax.on('closetag', () => this.closeTag());
    sax.on('text', (t) => this.text(t));
    sax.on('cdata', (t) => this.text(t));
  }

  /** Feeds raw bytes from the socket. After an error or stream end, further input is ignored. */
  write(chunk: Uint8Array): void {
    if (this.failed || this.ended) return;
    let s: string;
    try {
      s = this.decoder.decode(chunk, { stream: true });
    } catch {
      this.fail('not-well-formed', 'invalid UTF-8 in stream');
      return;
    }
    this.writeString(s);
  }

  /** Feeds already decoded text (tests, fuzzers). */
  writeString(s: string): void {
    if (this.failed || this.ended || s.length === 0) return;
    // A stanza larger than the limit is refused before saxes buffers more of it: the check runs against
    // the start of the unfinished stanza (or the end of the previous one, between stanzas).
    try {
      this.sax.write(s);
    } catch (e) {
      this.fail('not-well-formed', (e as Error).message);
      return;
    }
    // saxes' `position` is only meaningful inside its event callbacks (after write() returns it counts the
    // chunk twice), so the total fed is tracked here.
    this.fed += s.length;
    if (!this.failed && this.depth >= 1 && this.fed - this.stanzaStart > this.limits.maxStanzaSize) {
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
      this.root = el;
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
    else el.parent = undefined;
    this.current = el;
    this.depth++;
  }

  private closeTag(): void {
    if (this.failed) return;
    this.depth--;
    if (this.depth === 0) {
      this.ended = true;
      this.on.streamEnd();
      return;
    }
    const el = this.current!;
    this.current = el.parent;
    if (this.depth === 1) {
      // A stanza that arrived whole within one read is measured here, where saxes' position is valid.
      if (this.sax.position - this.stanzaStart > this.limits.maxStanzaSize) {
        this.fail('policy-violation', `stanza larger than ${this.limits.maxStanzaSize} bytes`);
        return;
      }
      this.current = undefined;
      this.stanzaStart = this.sax.position;
      this.on.stanza(el);
    }
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
  }

  get streamRoot(): Element | undefined {
    return this.root;
  }
}
