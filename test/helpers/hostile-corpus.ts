// A corpus of hostile XML inputs with the RFC 6120 stream error each must get. Shared by the parser fuzz
// test (test/xml/fuzz.test.ts) and the TCP test (test/server/hostile-input.test.ts).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { XmlErrorCondition } from '../../src/xml/index.ts';

export interface HostileCase {
  name: string;
  /** Where the bytes go: where a stanza may go (after the stream header) or before the header (prolog). */
  where: 'stanza' | 'prolog';
  data: () => Uint8Array | string;
  condition: XmlErrorCondition;
  /** A well-formed fragment on its own (only the stream context makes it wrong): parseXml accepts it. */
  fragmentOk?: boolean;
}

const big = 10 * 1024 * 1024;
const bytes = (...b: number[]) => Buffer.from(b);
const inText = (...b: number[]) => Buffer.concat([Buffer.from('<message><body>a'), bytes(...b), Buffer.from('b</body></message>')]);

export const billionLaughs =
  `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">` +
  Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('') +
  `]><lolz>&lol9;</lolz>`;

export const HOSTILE_CORPUS: HostileCase[] = [
  { name: 'billion laughs DOCTYPE (prolog)', where: 'prolog', data: () => billionLaughs, condition: 'restricted-xml' },
  { name: 'external entity SYSTEM file:///etc/passwd (prolog)', where: 'prolog', data: () => `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>`, condition: 'restricted-xml' },
  { name: 'bare DOCTYPE (prolog)', where: 'prolog', data: () => `<!DOCTYPE stream:stream>`, condition: 'restricted-xml' },
  { name: 'encoding declaration ISO-8859-1 (prolog)', where: 'prolog', data: () => `<?xml version='1.0' encoding='ISO-8859-1'?>`, condition: 'unsupported-encoding' },
  // Inside the stream a DOCTYPE is out of place for XML itself; saxes reports it as not well-formed.
  { name: 'billion laughs DOCTYPE inside the stream', where: 'stanza', data: () => billionLaughs.replace('<?xml version="1.0"?>', ''), condition: 'not-well-formed' },
  { name: 'external entity reference &xxe; inside a stanza', where: 'stanza', data: () => `<message><body>&xxe;</body></message>`, condition: 'not-well-formed' },
  { name: '100k-deep nesting', where: 'stanza', data: () => '<a>'.repeat(100_000), condition: 'policy-violation' },
  { name: '100k-deep nesting, closed', where: 'stanza', data: () => '<a>'.repeat(100_000) + '</a>'.repeat(100_000), condition: 'policy-violation' },
  { name: '10 MB attribute', where: 'stanza', data: () => `<message a='${'a'.repeat(big)}'/>`, condition: 'policy-violation' },
  { name: '10 MB text node', where: 'stanza', data: () => `<message><body>${'a'.repeat(big)}</body></message>`, condition: 'policy-violation' },
  { name: '10 MB attribute, unterminated', where: 'stanza', data: () => `<message a='${'a'.repeat(big)}`, condition: 'policy-violation' },
  { name: 'lone continuation byte 0x80', where: 'stanza', data: () => inText(0x80), condition: 'unsupported-encoding' },
  { name: 'lone continuation bytes 0xBF 0xBF', where: 'stanza', data: () => inText(0xbf, 0xbf), condition: 'unsupported-encoding' },
  { name: 'overlong "/" C0 AF', where: 'stanza', data: () => inText(0xc0, 0xaf), condition: 'unsupported-encoding' },
  { name: 'overlong "/" E0 80 AF', where: 'stanza', data: () => inText(0xe0, 0x80, 0xaf), condition: 'unsupported-encoding' },
  { name: 'overlong NUL C0 80', where: 'stanza', data: () => inText(0xc0, 0x80), condition: 'unsupported-encoding' },
  { name: 'UTF-16 surrogate ED A0 80', where: 'stanza', data: () => inText(0xed, 0xa0, 0x80), condition: 'unsupported-encoding' },
  { name: 'surrogate pair as CESU-8 ED A0 BD ED B8 80', where: 'stanza', data: () => inText(0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80), condition: 'unsupported-encoding' },
  { name: '5-byte form F8 88 80 80 80', where: 'stanza', data: () => inText(0xf8, 0x88, 0x80, 0x80, 0x80), condition: 'unsupported-encoding' },
  { name: '6-byte form FC 84 80 80 80 80', where: 'stanza', data: () => inText(0xfc, 0x84, 0x80, 0x80, 0x80, 0x80), condition: 'unsupported-encoding' },
  { name: 'code point above U+10FFFF F4 90 80 80', where: 'stanza', data: () => inText(0xf4, 0x90, 0x80, 0x80), condition: 'unsupported-encoding' },
  { name: 'bytes FE FF', where: 'stanza', data: () => inText(0xfe, 0xff), condition: 'unsupported-encoding' },
  { name: 'truncated sequence E2 82 then ASCII', where: 'stanza', data: () => inText(0xe2, 0x82), condition: 'unsupported-encoding' },
  { name: 'NUL byte in text', where: 'stanza', data: () => inText(0x00), condition: 'not-well-formed' },
  { name: 'NUL byte in an attribute', where: 'stanza', data: () => Buffer.concat([Buffer.from("<message id='a"), bytes(0), Buffer.from("'/>")]), condition: 'not-well-formed' },
  { name: 'character reference &#0;', where: 'stanza', data: () => `<message><body>&#0;</body></message>`, condition: 'not-well-formed' },
  { name: 'character reference to a surrogate &#xD800;', where: 'stanza', data: () => `<message><body>&#xD800;</body></message>`, condition: 'not-well-formed' },
  { name: 'undefined entity &foo;', where: 'stanza', data: () => `<message><body>&foo;</body></message>`, condition: 'not-well-formed' },
  { name: 'comment', where: 'stanza', data: () => `<!-- hello --><message/>`, condition: 'restricted-xml' },
  { name: 'comment inside a stanza', where: 'stanza', data: () => `<message><!-- hello --></message>`, condition: 'restricted-xml' },
  { name: 'processing instruction', where: 'stanza', data: () => `<?php system('id'); ?>`, condition: 'restricted-xml' },
  { name: 'processing instruction inside a stanza', where: 'stanza', data: () => `<message><?foo bar?></message>`, condition: 'restricted-xml' },
  { name: 'XML declaration inside the stream', where: 'stanza', data: () => `<?xml version='1.0'?><message/>`, condition: 'not-well-formed', fragmentOk: true },
  { name: 'stanza with 1000 attributes', where: 'stanza', data: () => `<message ${Array.from({ length: 1000 }, (_, i) => `a${i}='v'`).join(' ')}/>`, condition: 'policy-violation', fragmentOk: true },
  { name: 'duplicate attribute', where: 'stanza', data: () => `<message id='a' id='b'/>`, condition: 'not-well-formed' },
  { name: 'undeclared prefix', where: 'stanza', data: () => `<foo:message/>`, condition: 'not-well-formed' },
  { name: 'mismatched close tag', where: 'stanza', data: () => `<message></iq>`, condition: 'not-well-formed' },
  { name: 'character data between stanzas', where: 'stanza', data: () => `hello<message/>`, condition: 'not-well-formed', fragmentOk: true },
  { name: 'unescaped < in attribute', where: 'stanza', data: () => `<message id='<'/>`, condition: 'not-well-formed' },
];

/** global.gc, enabled from inside the test when node was not started with --expose-gc; undefined if impossible. */
export function exposeGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    // Turning the flag on at run time and fetching gc from a fresh context is the documented V8 way to get
    // it without --expose-gc on the command line.
    setFlagsFromString('--expose_gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}
