// Parses one complete XML fragment (a stored item, a fixture, a config blob) into an Element, with the same
// restrictions as the stream parser. Used where XML arrives whole rather than as a stream.
import { Element } from './element.ts';
import { StreamParser, XmlStreamError } from './stream-parser.ts';
import type { XmlLimits } from './limits.ts';

const WRAP_OPEN = '<wrap>';
const WRAP_CLOSE = '</wrap>';

export function parseXml(xml: string, limits: Partial<XmlLimits> = {}): Element {
  let result: Element | undefined;
  let error: XmlStreamError | undefined;
  let count = 0;
  const p = new StreamParser(
    {
      streamStart() {},
      stanza(el) {
        count++;
        result = el;
      },
      streamEnd() {},
      error(e) {
        error ??= e;
      },
    },
    { maxStanzaSize: Number.MAX_SAFE_INTEGER, maxDepth: 10_000, maxAttributes: 10_000, ...limits },
  );
  // Wrapping lets the stream parser treat the fragment as its one stanza.
  p.writeString(WRAP_OPEN);
  p.writeString(xml.replace(/^\s*<\?xml[^?]*\?>/, ''));
  p.writeString(WRAP_CLOSE);
  if (error) throw error;
  if (!result || count !== 1) throw new XmlStreamError('not-well-formed', 'expected exactly one root element');
  result.parent = undefined;
  return result;
}
