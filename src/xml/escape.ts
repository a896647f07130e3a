// XML escaping for text and attribute values. Hand-written because it is three regex replacements on the
// hottest path of the server (every serialised stanza) and no library adds anything here.

// CR is escaped in text too: a literal CR would come back as LF (XML 1.0 §2.11 end-of-line handling).
const TEXT_RE = /[&<>\r]/g;
const ATTR_RE = /[&<>"'\r\n\t]/g;

const TEXT_MAP: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' };
// Attribute values also escape whitespace control characters so that attribute-value normalisation on
// the receiving side cannot alter them.
const ATTR_MAP: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#xD;', '\n': '&#xA;', '\t': '&#x9;',
};

export function escapeText(s: string): string {
  return TEXT_RE.test(s) ? s.replace(TEXT_RE, (c) => TEXT_MAP[c]!) : s;
}

export function escapeAttr(s: string): string {
  return ATTR_RE.test(s) ? s.replace(ATTR_RE, (c) => ATTR_MAP[c]!) : s;
}
