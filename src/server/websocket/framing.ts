// RFC 7395 framing as text: <open/> and <close/> in and out, and each outgoing element made a document of
// its own. The session serialises stanzas as it does for TCP, where they inherit jabber:client and the
// stream: prefix from the stream header; a WebSocket message has no header to inherit from (§3.3.3).
import { escapeAttr, parseXml } from '../../xml/index.ts';
import { NS_CLIENT, NS_STREAM, StreamError } from '../../protocol/rfc6120.ts';
import { NS_FRAMING } from '../../protocol/rfc7395.ts';
import type { StreamOpen } from '../core/transport.ts';

export const OPEN = /^\s*<open[\s/>]/;
export const CLOSE = /^\s*<close[\s/>]/;

/** The server's <open/> (RFC 7395 §3.4). */
export function openElement(h: StreamOpen): string {
  return (
    `<open xmlns='${NS_FRAMING}' id='${h.id}'` +
    (h.from ? ` from='${escapeAttr(h.from)}'` : '') +
    (h.to ? ` to='${escapeAttr(h.to)}'` : '') +
    ` version='1.0' xml:lang='en'/>`
  );
}

/** The server's <close/>, with a new address for the client when it is being redirected (RFC 7395 §3.6.1). */
export function closeElement(seeOtherUri?: string): string {
  return `<close xmlns='${NS_FRAMING}'${seeOtherUri ? ` see-other-uri='${escapeAttr(seeOtherUri)}'` : ''}/>`;
}

/** A stream error as a document of its own: the stream: prefix declared on it. */
export function streamErrorElement(err: StreamError): string {
  const el = err.toElement();
  el.attrs['xmlns:stream'] = NS_STREAM;
  return el.toString();
}

/**
 * A client's <open/> or <close/> message parsed: framing elements are tiny, so anything bigger is refused
 * unread. Throws a StreamError.
 */
function framingElement(text: string, name: string) {
  let el;
  try {
    el = parseXml(text, { maxStanzaSize: 4096, maxDepth: 2, maxAttributes: 16 });
  } catch (err) {
    throw new StreamError('not-well-formed', (err as Error).message);
  }
  if (el.name !== name || el.ns !== NS_FRAMING) throw new StreamError('invalid-namespace', `<${name}/> must be in ${NS_FRAMING}`);
  return el;
}

/**
 * The client's <open/> as the stream header the session's parser expects: the session checks `to` and
 * `version` as it does on TCP, and the parser starts a new stream at each one (after SASL success too).
 */
export function headerFromOpen(text: string): string {
  const open = framingElement(text, 'open');
  let header = `<stream:stream xmlns='${NS_CLIENT}' xmlns:stream='${NS_STREAM}'`;
  for (const a of ['to', 'from', 'version', 'xml:lang']) {
    const v = open.attrs[a];
    if (v !== undefined) header += ` ${a}='${escapeAttr(v)}'`;
  }
  return `${header}>`;
}

/** Checks the client's <close/> (its see-other-uri, a server's attribute, is ignored). */
export function checkClose(text: string): void {
  framingElement(text, 'close');
}

/**
 * One serialised element, with the namespaces it inherited from the TCP stream header declared on it:
 * jabber:client on stanzas, the stream: prefix on stream-level elements. Elements that declare their own
 * namespace (the framing elements, SASL, XEP-0198) pass unchanged.
 */
export function selfContained(data: string): string {
  if (data.charCodeAt(0) !== 60 /* < */) return data;
  const end = startTagEnd(data);
  let nameEnd = 1;
  while (nameEnd < end && !isNameEnd(data.charCodeAt(nameEnd))) nameEnd++;
  const name = data.slice(1, nameEnd);
  const tag = data.slice(nameEnd, end);
  if (name.startsWith('stream:')) return hasAttr(tag, 'xmlns:stream') ? data : `${data.slice(0, nameEnd)} xmlns:stream='${NS_STREAM}'${data.slice(nameEnd)}`;
  if (name.includes(':') || hasAttr(tag, 'xmlns')) return data;
  return `${data.slice(0, nameEnd)} xmlns='${NS_CLIENT}'${data.slice(nameEnd)}`;
}

function isNameEnd(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 47 /* / */ || c === 62 /* > */;
}

/** Index of the '>' closing the first start tag (quotes respected). */
function startTagEnd(s: string): number {
  let quote = 0;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 34 || c === 39) quote = c;
    else if (c === 62) return i;
  }
  return s.length;
}

/** Whether the attributes of a start tag (its text after the name) include `name`, outside attribute values. */
function hasAttr(attrs: string, name: string): boolean {
  let quote = 0;
  for (let i = 0; i < attrs.length; i++) {
    const c = attrs.charCodeAt(i);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 34 || c === 39) quote = c;
    else if (attrs.startsWith(name, i) && isSpace(attrs.charCodeAt(i - 1)) && /^\s*=/.test(attrs.slice(i + name.length, i + name.length + 8))) return true;
  }
  return false;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}
