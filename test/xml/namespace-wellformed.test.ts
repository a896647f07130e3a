// Issue 19, finding 4: a stanza leaves its stream (routed, stored, replayed on another stream), so what the
// parser hands out must stand alone. A prefix the client declared only on its stream header used to be
// written unbound, and the recipient's parser aborted its stream (RFC 6120 §11: namespace-well-formed XML).
// Property: for any well-formed stream whose stanzas use prefixes bound on the header, inside the stanza, or
// rebound on the way down, each stanza serialised on its own re-parses under a header that declares nothing
// but the stream namespaces, with every element and prefixed attribute in the same namespace as before.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { StreamParser, parseXml, type Element, type XmlStreamError } from '../../src/xml/index.ts';

const PREFIXES = ['k', 'p', 'q'] as const;
type Prefix = (typeof PREFIXES)[number];
const ROOT_URI = (p: Prefix) => `urn:root:${p}`;

interface Gen {
  prefix: Prefix | '';
  local: string;
  /** Prefixes this element (re)declares, with the URI suffix it gives them. */
  declares: [Prefix, number][];
  /** A prefixed attribute, if any. */
  attr: Prefix | undefined;
  children: Gen[];
}

/** Generated elements nest at most `depth` levels below this one. */
function genArb(depth: number): fc.Arbitrary<Gen> {
  return fc.record({
    prefix: fc.constantFrom<Prefix | ''>('', ...PREFIXES),
    local: fc.constantFrom('a', 'b', 'pubkey', 'x'),
    declares: fc.uniqueArray(fc.tuple(fc.constantFrom(...PREFIXES), fc.nat(3)), { maxLength: 2, selector: ([p]) => p }),
    attr: fc.option(fc.constantFrom(...PREFIXES), { nil: undefined }),
    children: depth === 0 ? fc.constant([]) : fc.array(genArb(depth - 1), { maxLength: 3 }),
  });
}

interface Expected {
  ns: string;
  local: string;
  attrNs: string | undefined;
  children: Expected[];
}

/** Writes the generated tree and computes the namespace of every name under the given scope. */
function render(g: Gen, scope: Record<string, string>, defaultNs: string): { xml: string; expected: Expected } {
  const inner = { ...scope };
  const decls = g.declares.map(([p, n]) => {
    inner[p] = `urn:inner:${p}:${n}`;
    return ` xmlns:${p}='urn:inner:${p}:${n}'`;
  });
  const name = g.prefix ? `${g.prefix}:${g.local}` : g.local;
  const attr = g.attr ? ` ${g.attr}:flag='1'` : '';
  const kids = g.children.map((c) => render(c, inner, defaultNs));
  return {
    xml: `<${name}${decls.join('')}${attr}>${kids.map((k) => k.xml).join('')}</${name}>`,
    expected: { ns: g.prefix ? inner[g.prefix]! : defaultNs, local: g.local, attrNs: g.attr ? inner[g.attr] : undefined, children: kids.map((k) => k.expected) },
  };
}

function actual(el: Element): Expected {
  const attrName = Object.keys(el.attrs).find((a) => a.endsWith(':flag'));
  return {
    ns: el.ns,
    local: el.local,
    attrNs: attrName ? el.lookupNs(attrName.slice(0, attrName.indexOf(':'))) : undefined,
    children: el.elements.map(actual),
  };
}

function parseStream(text: string): { stanzas: Element[]; errors: XmlStreamError[] } {
  const stanzas: Element[] = [];
  const errors: XmlStreamError[] = [];
  const p = new StreamParser({ streamStart() {}, stanza: (s) => stanzas.push(s), streamEnd() {}, error: (e) => errors.push(e) });
  p.writeString(text);
  return { stanzas, errors };
}

const HEADER_WITH = (decls: string) =>
  `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'${decls} to='example.com' version='1.0'>`;
const PLAIN_HEADER = HEADER_WITH('');

describe('stanzas the parser hands out are namespace-well-formed on their own', () => {
  it('a prefix bound only on the stream header travels with the stanza that uses it', () => {
    const { stanzas, errors } = parseStream(`${HEADER_WITH(" xmlns:k='urn:x'")}<message to='a@b'><k:x k:v='1'/></message><iq><q xmlns='urn:q'/></iq>`);
    assert.deepEqual(errors, []);
    const [message, iq] = stanzas;
    assert.equal(message!.toString(), `<message to="a@b" xmlns:k="urn:x"><k:x k:v="1"/></message>`);
    // A stanza that does not use the prefix is left as it was written.
    assert.equal(iq!.toString(), `<iq><q xmlns="urn:q"/></iq>`);
    const again = parseStream(`${PLAIN_HEADER}${message!.toString()}`);
    assert.deepEqual(again.errors, []);
    assert.equal(again.stanzas[0]!.getChild('x', 'urn:x')?.lookupNs('k'), 'urn:x');
  });

  it('a binding declared inside the stanza, or rebinding the header prefix, is left where it is', () => {
    const { stanzas, errors } = parseStream(`${HEADER_WITH(" xmlns:k='urn:outer'")}<message><a xmlns:k='urn:inner'><k:x/></a></message>`);
    assert.deepEqual(errors, []);
    assert.equal(stanzas[0]!.toString(), `<message><a xmlns:k="urn:inner"><k:x/></a></message>`);
    assert.equal(stanzas[0]!.getChild('a')!.getChild('x')!.ns, 'urn:inner');
  });

  it('holds for generated stanzas with prefixes bound on the header, inside, and rebound', (t) => {
    let checked = 0;
    const rootDecls = PREFIXES.map((p) => ` xmlns:${p}='${ROOT_URI(p)}'`).join('');
    const rootScope = Object.fromEntries(PREFIXES.map((p) => [p, ROOT_URI(p)]));
    fc.assert(
      fc.property(fc.array(genArb(3), { minLength: 1, maxLength: 4 }), (gens) => {
        const rendered = gens.map((g) => render(g, rootScope, 'jabber:client'));
        const { stanzas, errors } = parseStream(HEADER_WITH(rootDecls) + rendered.map((r) => r.xml).join(''));
        assert.deepEqual(errors, []);
        assert.equal(stanzas.length, gens.length);
        stanzas.forEach((stanza, i) => {
          assert.deepEqual(actual(stanza), rendered[i]!.expected);
          // Written on its own and read back under a header that declares none of the prefixes.
          const alone = parseStream(PLAIN_HEADER + stanza.toString());
          assert.deepEqual(alone.errors, [], stanza.toString());
          assert.deepEqual(actual(alone.stanzas[0]!), rendered[i]!.expected);
          // And as a fragment (how stored stanzas are read back): it parses, whatever it uses.
          parseXml(stanza.toString());
          checked++;
        });
      }),
      { numRuns: 300 },
    );
    t.diagnostic(`${checked} stanzas checked`);
  });
});

describe('the stream header is bounded (issue 19, finding 3)', () => {
  it('refuses an unterminated header past the limit with policy-violation, in one read and byte by byte', () => {
    const header = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' x='${'A'.repeat(40_000)}`;
    const one = parseStream(header);
    assert.equal(one.errors.length, 1);
    assert.equal(one.errors[0]!.condition, 'policy-violation');

    const errors: XmlStreamError[] = [];
    const p = new StreamParser({ streamStart() {}, stanza() {}, streamEnd() {}, error: (e) => errors.push(e) }, { maxHeaderSize: 1024 });
    for (let i = 0; i < 4096 && errors.length === 0; i += 64) p.writeString(header.slice(i, i + 64));
    assert.equal(errors[0]?.condition, 'policy-violation');
  });

  it('accepts an ordinary header, and the stanza limit still applies after it', () => {
    const errors: XmlStreamError[] = [];
    const stanzas: Element[] = [];
    const p = new StreamParser({ streamStart() {}, stanza: (s) => stanzas.push(s), streamEnd() {}, error: (e) => errors.push(e) }, { maxHeaderSize: 200, maxStanzaSize: 10_000 });
    p.writeString(`<?xml version='1.0'?>${PLAIN_HEADER}<message>${'y'.repeat(5000)}</message>`);
    assert.deepEqual(errors, []);
    assert.equal(stanzas.length, 1);
  });
});
