// Property and corpus tests for the XML layer (issue 5, hostile input): the stream parser gives the same
// stanzas however the bytes are split, never throws, ends in stanzas or exactly one error with an RFC 6120
// stream condition, serialise(parse(x)) round-trips, and a corpus of hostile inputs each gets its condition
// without hanging, blowing the stack or keeping memory. Figures are printed with t.diagnostic.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Element, StreamParser, parseXml, serialize, type XmlErrorCondition, type XmlLimits } from '../../src/xml/index.ts';
import { HOSTILE_CORPUS, exposeGc, type HostileCase } from '../helpers/hostile-corpus.ts';

const HEADER = `<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;
const CONDITIONS: ReadonlySet<string> = new Set(['not-well-formed', 'restricted-xml', 'policy-violation', 'unsupported-encoding']);
const RUNS = Number(process.env.PEPKEYS_FUZZ_RUNS ?? 300);

/** Everything a parser reported, in order; stanzas as their serialisation. */
interface Outcome {
  starts: number;
  stanzas: string[];
  ends: number;
  errors: { condition: XmlErrorCondition; message: string }[];
  /** Events seen after the first error (must stay empty). */
  afterError: number;
}

function newParser(limits: Partial<XmlLimits> = {}): { p: StreamParser; out: Outcome } {
  const out: Outcome = { starts: 0, stanzas: [], ends: 0, errors: [], afterError: 0 };
  const seen = () => {
    if (out.errors.length) out.afterError++;
  };
  const p = new StreamParser(
    {
      streamStart: () => (seen(), out.starts++),
      stanza: (el) => (seen(), out.stanzas.push(serialize(el))),
      streamEnd: () => (seen(), out.ends++),
      error: (e) => (seen(), out.errors.push({ condition: e.condition, message: e.message })),
    },
    limits,
  );
  return { p, out };
}

function feed(chunks: Iterable<Uint8Array>, limits: Partial<XmlLimits> = {}): Outcome {
  const { p, out } = newParser(limits);
  for (const c of chunks) p.write(c);
  return out;
}

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.length, c))))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of points) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}

/** A parser outcome is legal: no events after an error, at most one error, with an RFC condition. */
function assertLegal(out: Outcome): void {
  assert.ok(out.errors.length <= 1, `more than one error: ${JSON.stringify(out.errors)}`);
  assert.equal(out.afterError, 0, 'events after the error');
  for (const e of out.errors) assert.ok(CONDITIONS.has(e.condition), `unexpected condition ${e.condition}`);
  assert.ok(out.starts <= 1 && out.ends <= 1);
}

// ------------------------------------------------------------------------------------------ generators
// XML 1.0 Char production minus what a serialiser cannot keep (see xmlChar): tab, LF, CR, the BMP without
// surrogates and U+FFFE/FFFF, and astral characters.
const specialChar = fc.constantFrom('&', '<', '>', '"', "'", '\r', '\n', '\t', ' ', ']]>', '&amp;', '😀', '𝄞', 'é', '€', '中', '\u00a0', '\u2028');
const bmpChar = fc.integer({ min: 0x20, max: 0xfffd }).filter((c) => c < 0xd800 || c > 0xdfff).map((c) => String.fromCodePoint(c));
const astralChar = fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c));
const xmlChar = fc.oneof({ weight: 3, arbitrary: specialChar }, { weight: 4, arbitrary: bmpChar }, { weight: 1, arbitrary: astralChar });
const xmlString = (maxLength: number) => fc.array(xmlChar, { maxLength }).map((a) => a.join(''));

const nameStart = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_', 'é', 'Ω', '中', 'ß');
const nameChar = fc.oneof(nameStart, fc.constantFrom(...'0123456789-.', '\u00b7'));
const xmlName = fc.tuple(nameStart, fc.array(nameChar, { maxLength: 8 })).map(([a, b]) => a + b.join('')).filter((n) => !/^xml/i.test(n));

interface Tree {
  name: string;
  attrs: Record<string, string>;
  children: (Tree | string)[];
}

const { tree: treeArb } = fc.letrec<{ tree: Tree; child: Tree | string }>((tie) => ({
  tree: fc.record({
    name: xmlName,
    attrs: fc.dictionary(xmlName, xmlString(12), { maxKeys: 5 }),
    children: fc.array(tie('child'), { maxLength: 4, depthIdentifier: 'tree' }),
  }),
  child: fc.oneof({ depthSize: 'small', withCrossShrink: true }, xmlString(16).filter((s) => s.length > 0), tie('tree')),
}));

/** Builds an Element; adjacent text children are merged, as any parser would. */
function build(t: Tree): Element {
  const el = new Element(t.name, { ...t.attrs });
  for (const c of t.children) {
    const last = el.children[el.children.length - 1];
    if (typeof c === 'string') {
      if (typeof last === 'string') el.children[el.children.length - 1] = last + c;
      else el.append(c);
    } else el.append(build(c));
  }
  return el;
}

/** Structure without parent links or resolved namespaces, for deep equality. */
function shape(el: Element): unknown {
  return { name: el.name, attrs: { ...el.attrs }, children: el.children.map((c) => (typeof c === 'string' ? c : shape(c))) };
}

const stanzaArb = treeArb.map((t) => {
  const el = build(t);
  // Stanzas in the stream carry no xmlns of their own here; the stream's default namespace applies.
  return serialize(el);
});

// ------------------------------------------------------------------------------------------ (a) splitting
describe('StreamParser: splitting the input anywhere changes nothing', () => {
  it('gives the same stanzas for arbitrary split points, including inside UTF-8 sequences', (t) => {
    let inputs = 0;
    let chunksFed = 0;
    let midCharCuts = 0;
    fc.assert(
      fc.property(fc.array(stanzaArb, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 40 }), fc.boolean(), (stanzas, rawCuts, close) => {
        const bytes = Buffer.from(HEADER + stanzas.join('\n') + (close ? '</stream:stream>' : ''));
        const cuts = rawCuts.map((c) => c % (bytes.length + 1));
        for (const c of cuts) if (c > 0 && c < bytes.length && (bytes[c]! & 0xc0) === 0x80) midCharCuts++;
        const whole = feed([bytes]);
        const chunks = splitAt(bytes, cuts);
        const split = feed(chunks);
        inputs++;
        chunksFed += chunks.length;
        assert.deepEqual(whole.errors, [], `valid stream refused: ${JSON.stringify(whole.errors)}`);
        assert.equal(whole.stanzas.length, stanzas.length);
        assert.deepEqual(split, whole);
        assert.equal(whole.ends, close ? 1 : 0);
      }),
      { numRuns: RUNS },
    );
    t.diagnostic(`split property: ${inputs} streams, ${chunksFed} chunks fed, ${midCharCuts} cuts inside a multibyte character`);
  });

  it('gives the same stanzas when a multibyte-heavy stream is cut at every single byte boundary, and byte by byte', (t) => {
    const body = 'Grüße € 𝄞 中文 😀 &amp; &lt;x&gt; \u00a0é';
    const bytes = Buffer.from(`${HEADER}<message id='m1' a='𝄞€&quot;'><body>${body}</body></message><iq id='€' type='get'><q xmlns='urn:ü'>😀</q></iq></stream:stream>`);
    const whole = feed([bytes]);
    assert.equal(whole.stanzas.length, 2);
    assert.equal(whole.ends, 1);
    let cuts = 0;
    for (let i = 0; i <= bytes.length; i++) {
      assert.deepEqual(feed(splitAt(bytes, [i])), whole, `cut at ${i}`);
      cuts++;
    }
    const oneByOne = feed(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)));
    assert.deepEqual(oneByOne, whole);
    // Every pair of cuts too (covers a 4-byte character cut twice).
    let pairs = 0;
    const start = bytes.indexOf(Buffer.from('𝄞'));
    for (let i = start - 2; i < start + 6; i++) for (let j = i; j < start + 8; j++, pairs++) assert.deepEqual(feed(splitAt(bytes, [i, j])), whole);
    t.diagnostic(`exhaustive split: ${bytes.length} bytes, ${cuts} single cuts, ${pairs} double cuts around U+1D11E, 1 byte-by-byte feed`);
  });
});

// ------------------------------------------------------------------------------------------ (b) garbage
describe('StreamParser: arbitrary input never throws and ends in stanzas or exactly one stream error', () => {
  it('survives arbitrary bytes, alone and after a valid header, whole and split', (t) => {
    let inputs = 0;
    const byCondition: Record<string, number> = {};
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 8 }), (junk, withHeader, cuts) => {
        const bytes = withHeader ? Buffer.concat([Buffer.from(HEADER), junk]) : Buffer.from(junk);
        for (const chunks of [[bytes], splitAt(bytes, cuts.map((c) => c % (bytes.length + 1)))]) {
          const out = feed(chunks);
          assertLegal(out);
          inputs++;
          const k = out.errors[0]?.condition ?? 'no-error';
          byCondition[k] = (byCondition[k] ?? 0) + 1;
        }
      }),
      { numRuns: RUNS * 3 },
    );
    t.diagnostic(`arbitrary bytes: ${inputs} feeds, outcomes ${JSON.stringify(byCondition)}`);
  });

  it('survives arbitrary strings built from XML-ish fragments', (t) => {
    const fragment = fc.oneof(
      fc.constantFrom('<', '>', '/>', '</', '<a', '<b:c', ' x="1"', " y='&amp;'", '&', '&lt;', '&#0;', '&#x1F600;', '&#xD800;', '&foo;',
        '<!--', '-->', '<?', '?>', '<![CDATA[', ']]>', '<!DOCTYPE a>', '<!ENTITY e "x">', '\0', '\uFFFE', '\uD800', 'xmlns="u"',
        'xmlns:p="q"', '<message>', '</message>', '<iq type="get" id="1"><ping xmlns="urn:xmpp:ping"/></iq>', '</stream:stream>', ' ', '\n'),
      fc.string({ maxLength: 8 }),
      fc.string({ unit: 'binary', maxLength: 4 }),
    );
    let inputs = 0;
    let withStanzas = 0;
    let withError = 0;
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 30 }), fc.boolean(), (parts, withHeader) => {
        const s = (withHeader ? HEADER : '') + parts.join('');
        const out = feed([Buffer.from(s)]);
        assertLegal(out);
        // The string path of the parser (writeString) must hold to the same rules.
        const { p, out: out2 } = newParser();
        for (const part of [withHeader ? HEADER : '', ...parts]) p.writeString(part);
        assertLegal(out2);
        inputs++;
        if (out.stanzas.length) withStanzas++;
        if (out.errors.length) withError++;
      }),
      { numRuns: RUNS * 3 },
    );
    t.diagnostic(`arbitrary strings: ${inputs} inputs, ${withStanzas} yielded stanzas, ${withError} ended in a stream error`);
  });
});

// ------------------------------------------------------------------------------------------ (c) round trip
describe('serialize(parseXml(x)) round-trips', () => {
  it('for generated element trees with special characters, astral characters, CR/LF/TAB in text and attributes', (t) => {
    let trees = 0;
    let nodes = 0;
    const count = (el: Element): number => 1 + el.children.reduce((n: number, c) => n + (typeof c === 'string' ? 1 : count(c)), 0);
    fc.assert(
      fc.property(treeArb, (tree) => {
        const el = build(tree);
        const xml = serialize(el);
        const parsed = parseXml(xml);
        assert.deepEqual(shape(parsed), shape(el));
        assert.equal(serialize(parsed), xml);
        trees++;
        nodes += count(el);
      }),
      { numRuns: RUNS * 2 },
    );
    t.diagnostic(`round trip: ${trees} trees, ${nodes} nodes`);
  });

  it('keeps a carriage return in text (it is not normalised to LF on the way back)', () => {
    const el = new Element('a', {}, ['line1\r\nline2\r']);
    assert.equal(parseXml(serialize(el)).text(), 'line1\r\nline2\r');
  });
});

// ------------------------------------------------------------------------------------------ (d) corpus
function runCase(c: HostileCase, chunkSize?: number): { out: Outcome; ms: number } {
  const data = c.data();
  const payload = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
  const all = c.where === 'prolog' ? Buffer.concat([payload, Buffer.from(HEADER)]) : Buffer.concat([Buffer.from(HEADER), payload]);
  const t0 = performance.now();
  const chunks: Uint8Array[] = [];
  if (chunkSize) for (let i = 0; i < all.length; i += chunkSize) chunks.push(all.subarray(i, i + chunkSize));
  else chunks.push(all);
  const out = feed(chunks);
  return { out, ms: performance.now() - t0 };
}

describe('hostile corpus against the stream parser', () => {
  it('gives each hostile input its condition, whole and in 64 KiB reads, emits no stanza for it, and releases memory', (t) => {
    const gc = exposeGc();
    gc?.();
    const baseline = process.memoryUsage().heapUsed;
    let feeds = 0;
    let slowest = { name: '', ms: 0 };
    for (const c of HOSTILE_CORPUS) {
      for (const chunk of [undefined, 64 * 1024, 1]) {
        // Byte-by-byte only for the small inputs (it is the slow path by design).
        if (chunk === 1 && (c.data() as { length: number }).length > 20_000) continue;
        const { out, ms } = runCase(c, chunk);
        feeds++;
        if (ms > slowest.ms) slowest = { name: `${c.name} (${chunk ?? 'whole'})`, ms };
        assertLegal(out);
        assert.equal(out.errors.length, 1, `${c.name} (${chunk ?? 'whole'}): expected an error, got ${JSON.stringify(out)}`.slice(0, 400));
        assert.equal(out.errors[0]!.condition, c.condition, `${c.name} (${chunk ?? 'whole'}): ${out.errors[0]!.message}`);
        assert.deepEqual(out.stanzas, [], `${c.name}: no stanza may come out of a refused input`);
      }
    }
    gc?.();
    const after = process.memoryUsage().heapUsed;
    t.diagnostic(`hostile corpus: ${HOSTILE_CORPUS.length} cases, ${feeds} feeds, all refused with the expected condition; slowest ${slowest.name} ${slowest.ms.toFixed(0)} ms`);
    t.diagnostic(`heap: baseline ${(baseline / 1048576).toFixed(1)} MiB, after corpus ${(after / 1048576).toFixed(1)} MiB (gc ${gc ? 'forced' : 'not available'})`);
    if (gc) assert.ok(after - baseline < 32 * 1048576, `heap grew by ${((after - baseline) / 1048576).toFixed(1)} MiB`);
  });

  it('refuses a stanza over the size limit even when it arrives complete in one read', () => {
    for (const size of [256 * 1024 + 1, 300 * 1024, 1024 * 1024]) {
      const out = feed([Buffer.from(`${HEADER}<message><body>${'x'.repeat(size)}</body></message><message id='after'/>`)]);
      assert.deepEqual(out.stanzas, []);
      assert.equal(out.errors[0]?.condition, 'policy-violation');
    }
    // Exactly at the limit a stanza passes (the limit counts the whole stanza).
    const open = "<message><body>";
    const close = '</body></message>';
    const fill = 256 * 1024 - open.length - close.length;
    const ok = feed([Buffer.from(`${HEADER}${open}${'x'.repeat(fill)}${close}`)]);
    assert.deepEqual(ok.errors, []);
    assert.equal(ok.stanzas.length, 1);
  });

  it('never hands out a stanza whose close tag does not match, but keeps complete stanzas before an error', () => {
    // saxes calls the close handler before it checks the close tag's name.
    for (const bad of ['<message></iq>', "<message to='a@b'><body>x</body></mess>", '<message><body></message>']) {
      for (const chunk of [undefined, 1, 3]) {
        const all = Buffer.from(`${HEADER}<iq id='ok' type='get'/>${bad}`);
        const chunks = chunk ? Array.from({ length: Math.ceil(all.length / chunk) }, (_, i) => all.subarray(i * chunk, (i + 1) * chunk)) : [all];
        const out = feed(chunks);
        assert.deepEqual(out.stanzas, ['<iq id="ok" type="get"/>'], `${bad} fed in ${chunk ?? 'one'}`);
        assert.equal(out.errors[0]?.condition, 'not-well-formed');
      }
    }
    const after = feed([Buffer.from(`${HEADER}<message id='1'/>&foo;`)]);
    assert.deepEqual(after.stanzas, ['<message id="1"/>']);
    assert.equal(after.errors[0]?.condition, 'not-well-formed');
    const root = feed([Buffer.from(`${HEADER}<message id='1'/></stream:wrong>`)]);
    assert.equal(root.ends, 0, 'a mismatched closing tag is no stream end');
    assert.equal(root.errors[0]?.condition, 'not-well-formed');
  });

  it('stops parsing after the first error (a refused 100k-deep input costs no more than a valid one)', (t) => {
    // Without stopping, saxes resolves namespaces by walking its tag stack: quadratic in depth.
    const t0 = performance.now();
    const { out } = runCase(HOSTILE_CORPUS.find((c) => c.name === '100k-deep nesting')!);
    const ms = performance.now() - t0;
    assert.equal(out.errors[0]?.condition, 'policy-violation');
    t.diagnostic(`100k-deep nesting refused in ${ms.toFixed(1)} ms`);
  });

  it('applies the depth, attribute and size limits it is given', () => {
    const depth = (n: number) => feed([Buffer.from(HEADER + '<a>'.repeat(n) + '</a>'.repeat(n))], { maxDepth: 5 });
    assert.equal(depth(5).stanzas.length, 1);
    assert.equal(depth(6).errors[0]?.condition, 'policy-violation');
    const attrs = (n: number) => feed([Buffer.from(`${HEADER}<a ${Array.from({ length: n }, (_, i) => `a${i}='v'`).join(' ')}/>`)], { maxAttributes: 5 });
    assert.equal(attrs(5).stanzas.length, 1);
    assert.equal(attrs(6).errors[0]?.condition, 'policy-violation');
  });

  it('parseXml refuses the same corpus with an error, never a stanza', (t) => {
    let refused = 0;
    for (const c of HOSTILE_CORPUS) {
      const d = c.data();
      if (typeof d !== 'string' || d.length > 1_000_000 || c.fragmentOk) continue;
      assert.throws(() => parseXml(d), (e: Error & { condition?: string }) => CONDITIONS.has(e.condition ?? ''), c.name);
      refused++;
    }
    t.diagnostic(`parseXml refused ${refused} string cases`);
  });
});
