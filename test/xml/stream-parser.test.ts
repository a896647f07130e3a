import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StreamParser, parseXml, x, type Element, type XmlStreamError } from '../../src/xml/index.ts';

function run(input: string | Buffer[], limits = {}) {
  const stanzas: Element[] = [];
  const errors: XmlStreamError[] = [];
  let started: Element | undefined;
  let ended = false;
  const p = new StreamParser({ streamStart: (r) => (started = r), stanza: (s) => stanzas.push(s), streamEnd: () => (ended = true), error: (e) => errors.push(e) }, limits);
  if (typeof input === 'string') p.write(Buffer.from(input));
  else for (const b of input) p.write(b);
  return { stanzas, errors, started, ended };
}

const HEAD = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>`;

describe('StreamParser', () => {
  it('emits the header, one element per stanza with namespaces resolved, and the end', () => {
    const r = run(`<?xml version='1.0'?>${HEAD}<message to='a@b'><body>hi &amp; bye</body><x xmlns='urn:x'/></message> \n<iq/></stream:stream>`);
    assert.equal(r.started!.attrs.to, 'example.com');
    assert.equal(r.stanzas.length, 2);
    assert.equal(r.stanzas[0]!.ns, 'jabber:client');
    assert.equal(r.stanzas[0]!.getChildText('body'), 'hi & bye');
    assert.equal(r.stanzas[0]!.getChild('x')!.ns, 'urn:x');
    assert.ok(r.ended);
    assert.deepEqual(r.errors, []);
  });

  it('keeps characters split across reads at every byte boundary', () => {
    const whole = Buffer.from(`${HEAD}<message><body>Grüße €𝄞</body></message>`);
    for (let cut = 1; cut < whole.length; cut++) {
      const r = run([whole.subarray(0, cut), whole.subarray(cut)]);
      assert.equal(r.stanzas[0]?.getChildText('body'), 'Grüße €𝄞', `cut at ${cut}`);
    }
  });

  it('refuses what RFC 6120 §11.1 excludes, with the right condition', () => {
    const cases: [string, string][] = [
      [`<!DOCTYPE x [<!ENTITY a 'b'>]>${HEAD}`, 'restricted-xml'],
      [`${HEAD}<!-- c -->`, 'restricted-xml'],
      [`${HEAD}<?pi x?>`, 'restricted-xml'],
      [`${HEAD}<message>&custom;</message>`, 'not-well-formed'],
      [`${HEAD}<message></iq>`, 'not-well-formed'],
      [`${HEAD}text between stanzas<iq/>`, 'not-well-formed'],
      [`<?xml version='1.0' encoding='ISO-8859-1'?>${HEAD}`, 'unsupported-encoding'],
    ];
    for (const [input, condition] of cases) {
      const r = run(input);
      assert.equal(r.errors.length, 1, input);
      assert.equal(r.errors[0]!.condition, condition, input);
    }
    assert.equal(run([Buffer.from(HEAD), Buffer.from([0xff, 0xfe])]).errors[0]!.condition, 'unsupported-encoding');
  });

  it('enforces size, depth and attribute limits with policy-violation', () => {
    assert.equal(run(`${HEAD}<message><body>${'x'.repeat(5000)}</body></message>`, { maxStanzaSize: 4096 }).errors[0]!.condition, 'policy-violation');
    assert.equal(run(`${HEAD}${'<a>'.repeat(10)}`, { maxDepth: 5 }).errors[0]!.condition, 'policy-violation');
    assert.equal(run(`${HEAD}<a ${Array.from({ length: 10 }, (_, i) => `a${i}='1'`).join(' ')}/>`, { maxAttributes: 5 }).errors[0]!.condition, 'policy-violation');
    // Many small stanzas in one read do not add up to one big stanza.
    assert.deepEqual(run(`${HEAD}${'<iq/>'.repeat(2000)}`, { maxStanzaSize: 4096 }).errors, []);
  });

  it('keeps CDATA as text and gives parsers of separate streams separate state', () => {
    const a = run(`${HEAD}<message><body><![CDATA[<a & b>]]> c</body></message>`);
    const b = run(`${HEAD.replace("'jabber:client'", "'jabber:server'")}<message a='1' b='2'/><!-- x -->`);
    assert.equal(a.stanzas[0]!.getChildText('body'), '<a & b> c');
    assert.deepEqual(a.errors, []);
    assert.equal(b.stanzas[0]!.ns, 'jabber:server');
    assert.equal(b.errors[0]!.condition, 'restricted-xml');
  });

  it('resolves namespaces from the stream header after stanzas that declared their own', () => {
    const r = run(`${HEAD}<message xmlns='urn:other'/><x xmlns:stream='urn:fake'><stream:y/></x><iq><q xmlns='urn:q'/></iq><stream:error/>`);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.stanzas.map((s) => s.ns), ['urn:other', 'jabber:client', 'jabber:client', 'http://etherx.jabber.org/streams']);
    assert.equal(r.stanzas[1]!.getChild('y')!.ns, 'urn:fake');
    assert.equal(r.stanzas[2]!.getChild('q')!.ns, 'urn:q');
  });
});

describe('StreamParser.reset (stream restart on the same parser)', () => {
  function parser() {
    const seen: string[] = [];
    const errors: XmlStreamError[] = [];
    const p = new StreamParser({
      streamStart: (r) => seen.push(`start ${r.attrs.to}`),
      stanza: (s) => seen.push(`${s.name} ${s.ns} ${s.text()}`),
      streamEnd: () => seen.push('end'),
      error: (e) => errors.push(e),
    });
    return { p, seen, errors };
  }
  const HEAD2 = HEAD.replace('example.com', 'example.org');

  it('parses the restarted stream like a fresh parser, discarding a half-read stanza and character', () => {
    const { p, seen, errors } = parser();
    p.write(Buffer.from(`${HEAD}<auth>x</auth><message><body>cut`));
    p.write(Buffer.from([0xe2, 0x82])); // the first two bytes of '€'
    p.reset();
    p.write(Buffer.from(`${HEAD2}<iq>€</iq></stream:stream>`));
    assert.deepEqual(errors, []);
    assert.deepEqual(seen, ['start example.com', 'auth jabber:client x', 'start example.org', 'iq jabber:client €', 'end']);
  });

  it('reports malformed XML after a restart with the right condition', () => {
    for (const [input, condition] of [
      ['<message><body>unclosed</message>', 'not-well-formed'],
      ['<!-- c -->', 'restricted-xml'],
      ['</stream:stream>', 'not-well-formed'],
    ] as const) {
      const { p, errors } = parser();
      p.write(Buffer.from(`${HEAD}<auth/>`));
      p.reset();
      p.write(Buffer.from(input.startsWith('</') ? input : `${HEAD2}${input}`));
      assert.equal(errors.length, 1, input);
      assert.equal(errors[0]!.condition, condition, input);
    }
  });

  it('starts a failed parser over and keeps the limits', () => {
    const { p, seen, errors } = parser();
    p.write(Buffer.from(`${HEAD}<a></b>`));
    assert.equal(errors.length, 1);
    p.reset();
    p.write(Buffer.from(`${HEAD2}<iq/>${'<a>'.repeat(100)}`));
    assert.deepEqual(seen, ['start example.com', 'start example.org', 'iq jabber:client ']);
    assert.equal(errors.length, 2);
    assert.equal(errors[1]!.condition, 'policy-violation');
  });

  it('counts stanza sizes from the restart', () => {
    const stanzas: Element[] = [];
    const errors: XmlStreamError[] = [];
    const p = new StreamParser({ streamStart() {}, stanza: (s) => stanzas.push(s), streamEnd() {}, error: (e) => errors.push(e) }, { maxStanzaSize: 100 });
    p.write(Buffer.from(`${HEAD}${'<iq/>'.repeat(50)}<message>${'x'.repeat(60)}`));
    p.reset();
    p.write(Buffer.from(`${HEAD2}<message>${'y'.repeat(80)}</message>`));
    assert.deepEqual(errors, []);
    assert.equal(stanzas.at(-1)!.text(), 'y'.repeat(80));
  });
});

describe('Element', () => {
  it('builds, serialises with escaping, and parses back', () => {
    const el = x('message', { to: `a"b'<&>`, type: undefined }, x('body', null, `1 < 2 & "q" 𝄞`), x('x', { xmlns: 'urn:x' }));
    const text = el.toString();
    assert.equal(text, `<message to="a&quot;b&apos;&lt;&amp;&gt;"><body>1 &lt; 2 &amp; "q" 𝄞</body><x xmlns="urn:x"/></message>`);
    const back = parseXml(text);
    assert.equal(back.attrs.to, `a"b'<&>`);
    assert.equal(back.getChildText('body'), `1 < 2 & "q" 𝄞`);
    assert.equal(back.getChild('x', 'urn:x')!.ns, 'urn:x');
    assert.equal(el.clone().toString(), text);
  });
});
