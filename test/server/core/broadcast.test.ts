// Serialise once, address per recipient (core/broadcast.ts), used by presence broadcasts and PEP fan-out.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml, x } from '../../../src/xml/index.ts';
import { addressEach } from '../../../src/server/core/broadcast.ts';

describe('addressEach', () => {
  it('gives each recipient the same stanza with its own to, escaped', () => {
    const p = x('presence', { from: 'ann@a.example/x' }, x('show', null, 'away'));
    const to = addressEach(p);
    for (const jid of ['ben@b.example/1', `o'brien@b.example/"q"&<`]) {
      const el = parseXml(to(jid));
      assert.equal(el.attrs.to, jid);
      assert.equal(el.attrs.from, 'ann@a.example/x');
      assert.equal(el.getChildText('show'), 'away');
    }
  });

  it('builds the stanza at the first recipient only, and not at all without one', () => {
    let builds = 0;
    const build = () => (builds++, x('message', { from: 'svc@a.example', type: 'headline' }, x('event', { xmlns: 'urn:test' })));
    addressEach(build);
    assert.equal(builds, 0);
    const to = addressEach(build);
    assert.equal(parseXml(to('a@a.example')).attrs.to, 'a@a.example');
    assert.equal(parseXml(to('b@a.example')).getChild('event', 'urn:test') !== undefined, true);
    assert.equal(builds, 1);
  });

  it('replaces a to the stanza already has, leaving the stanza itself alone', () => {
    const m = x('message', { from: 'a@a.example', to: 'old@a.example' });
    const el = parseXml(addressEach(m)('new@a.example'));
    assert.equal(el.attrs.to, 'new@a.example');
    assert.equal(m.attrs.to, 'old@a.example');
  });
});
