import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RawXml, parseXml, x } from '../../src/xml/index.ts';

describe('RawXml', () => {
  const xml = '<k:key xmlns:k="urn:k" a="1 &amp; 2"><k:v>t&lt;</k:v></k:key>';

  it('serialises verbatim inside a built tree', () => {
    const el = x('item', { id: 'a' }, RawXml.of(xml));
    assert.equal(el.toString(), `<item id="a">${xml}</item>`);
    assert.equal(el.toString(), x('item', { id: 'a' }, parseXml(xml)).toString());
  });

  it('parses on first inspection, then behaves as the parsed tree', () => {
    const raw = RawXml.of(xml);
    const item = x('item', null, raw);
    assert.equal(raw.name, 'k:key');
    assert.equal(raw.ns, 'urn:k');
    assert.equal(raw.attrs.a, '1 & 2');
    assert.equal(raw.getChild('v', 'urn:k')?.text(), 't<');
    assert.equal(raw.getChild('v')?.parent, raw);
    assert.equal(raw.parent, item);
    raw.attrs.b = '2';
    raw.c('w');
    assert.equal(raw.toString(), '<k:key xmlns:k="urn:k" a="1 &amp; 2" b="2"><k:v>t&lt;</k:v><w/></k:key>');
  });

  it('clones without parsing; other input is parsed at once', () => {
    const copy = RawXml.of(xml).clone();
    assert.equal(copy.toString(), xml);
    assert.equal(RawXml.of('  <a/>').toString(), '<a/>');
    assert.throws(() => RawXml.of('text'));
  });
});
