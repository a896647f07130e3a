import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseJid, tryParseJid, Jid } from '../../src/jid/index.ts';

describe('JIDs (RFC 7622)', () => {
  it('splits and normalises the three parts', () => {
    const j = parseJid('Juliet@Capulet.LIT/Balcony');
    assert.equal(j.local, 'juliet');
    assert.equal(j.domain, 'capulet.lit');
    assert.equal(j.resource, 'Balcony', 'resources keep their case');
    assert.equal(j.bare, 'juliet@capulet.lit');
    assert.equal(j.full, 'juliet@capulet.lit/Balcony');
    assert.equal(parseJid('capulet.lit').bare, 'capulet.lit');
    assert.equal(parseJid('capulet.lit.').domain, 'capulet.lit', 'a trailing dot is removed');
    assert.equal(parseJid('a@b/c/d@e').resource, 'c/d@e', 'the resource is everything after the first slash');
  });

  it('case-folds and NFC-normalises non-ASCII parts', () => {
    assert.equal(parseJid('ÇA@ÉXAMPLE.com').bare, 'ça@éxample.com');
    // U+0065 U+0301 (e + combining acute) is the same JID as U+00E9.
    assert.equal(parseJid('cafe\u0301@example.com').local, 'caf\u00e9');
  });

  it('rejects malformed JIDs', () => {
    for (const bad of ['', '@example.com', 'a@', 'a@b/', 'a"b@example.com', 'a b@example.com', "o'neil@example.com", 'a@b@c', 'x@exa mple.com', `${'a'.repeat(1024)}@example.com`, 'a@example..com', 'a@ex\u0000ample.com']) {
      assert.equal(tryParseJid(bad), undefined, JSON.stringify(bad));
    }
  });

  it('compares by normalised form and builds bare/full variants', () => {
    assert.ok(parseJid('A@B.c/r').equals(Jid.of('a', 'b.C', 'r')));
    const j = parseJid('a@b.c');
    assert.ok(j.isBare());
    assert.equal(j.withResource('x').full, 'a@b.c/x');
    assert.equal(j.withResource('x').toBare().full, 'a@b.c');
  });
});

describe('JID parts of normalised strings', () => {
  it('slices local, domain and resource by position, the first slash starting the resource', async () => {
    const { bareOf, domainOf, jidParts, resourceOf } = await import('../../src/jid/index.ts');
    assert.deepEqual(jidParts('juliet@example.com/balcony/2'), { local: 'juliet', domain: 'example.com', resource: 'balcony/2' });
    assert.deepEqual(jidParts('example.com'), { local: undefined, domain: 'example.com', resource: undefined });
    // An '@' after the slash belongs to the resource (RFC 7622 §3.1).
    assert.deepEqual(jidParts('example.com/a@b'), { local: undefined, domain: 'example.com', resource: 'a@b' });
    assert.equal(bareOf('juliet@example.com/balcony'), 'juliet@example.com');
    assert.equal(bareOf('juliet@example.com'), 'juliet@example.com');
    assert.equal(domainOf('juliet@example.com/x@y'), 'example.com');
    assert.equal(resourceOf('juliet@example.com'), undefined);
    assert.equal(resourceOf('juliet@example.com/'), '');
  });
});
