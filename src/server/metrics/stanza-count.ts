// Counting the stanzas in what a session writes. A write is stream framing, a negotiation element, one
// stanza, or several stanzas joined (the PEP outbox writes a recipient's notifications at once), so the
// top-level elements are found by tracking depth from tag to tag, jumping with indexOf. Our serialiser
// escapes '<' and '>' in text and attribute values, so every '<' starts a tag.

export const KINDS = ['message', 'presence', 'iq'] as const;
export type StanzaKind = (typeof KINDS)[number];

/** Index into KINDS of the stanza whose name starts at `at`, or -1. */
export function kindAt(s: string, at: number): number {
  const c = s.charCodeAt(at);
  let name: string;
  if (c === 109 /* m */) name = 'message';
  else if (c === 112 /* p */) name = 'presence';
  else if (c === 105 /* i */) name = 'iq';
  else return -1;
  if (!s.startsWith(name, at)) return -1;
  const after = s.charCodeAt(at + name.length);
  // ' ', '>', '/', or other whitespace
  return after === 32 || after === 62 || after === 47 || after === 9 || after === 10 || after === 13 ? KINDS.indexOf(name as StanzaKind) : -1;
}

/** Adds the top-level message/presence/iq elements of `data` to counts (indexed like KINDS). */
export function countStanzas(data: string, counts: number[]): void {
  let depth = 0;
  let top = -1;
  let i = data.indexOf('<');
  while (i !== -1) {
    const c = data.charCodeAt(i + 1);
    if (c === 47 /* </ */) {
      depth--;
      if (depth === 0 && top >= 0) counts[top]!++;
      // A closing tag whose opening was written earlier: </stream:stream>.
      if (depth < 0) depth = 0;
    } else if (c === 33 /* <! */) {
      // CDATA or a comment (only in verbatim copies of received XML): skip to its end.
      const end = data.startsWith('<![CDATA[', i) ? data.indexOf(']]>', i) : data.indexOf('-->', i);
      if (end === -1) return;
      i = end;
    } else if (c !== 63 /* <? */) {
      const end = data.indexOf('>', i);
      if (end === -1) return;
      if (depth === 0) top = kindAt(data, i + 1);
      if (data.charCodeAt(end - 1) === 47 /* /> */) {
        if (depth === 0 && top >= 0) counts[top]!++;
      } else depth++;
      i = end;
    }
    i = data.indexOf('<', i + 1);
  }
}
