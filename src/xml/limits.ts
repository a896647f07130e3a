/** Limits applied by the stream parser; a violation is reported as a policy violation of that stream. */
export interface XmlLimits {
  /** Maximum size of one stanza (top-level child of the stream), counted in UTF-16 code units of decoded text. */
  maxStanzaSize: number;
  /** Maximum element depth inside a stanza (the stanza itself is depth 1). */
  maxDepth: number;
  /** Maximum attributes on one element. */
  maxAttributes: number;
  /**
   * Maximum size of what comes before the stream header's `>` (XML declaration and the `<stream:stream …>`
   * open tag), in UTF-16 code units. Real headers are a few hundred bytes; without a bound an unterminated
   * header is buffered for ever.
   */
  maxHeaderSize: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = {
  maxStanzaSize: 256 * 1024,
  maxDepth: 64,
  maxAttributes: 64,
  maxHeaderSize: 8 * 1024,
};
