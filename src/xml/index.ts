export { Element, x, serialize, type Attrs, type Node } from './element.ts';
export { escapeAttr, escapeText } from './escape.ts';
export { StreamParser, XmlStreamError, type StreamParserEvents, type XmlErrorCondition } from './stream-parser.ts';
export { parseXml, RawXml } from './parse.ts';
export { DEFAULT_XML_LIMITS, type XmlLimits } from './limits.ts';
