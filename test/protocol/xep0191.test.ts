// XEP-0191 §4 JID matching (the XEP-0016 order): which entities a blocklist item covers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { itemMatches, blockedError, NS_BLOCKING_ERRORS } from '../../src/protocol/xep0191.ts';

describe('XEP-0191 JID matching', () => {
  const cases: [string, string, boolean][] = [
    // user@domain/resource: only that resource.
    ['romeo@montague.lit/orchard', 'romeo@montague.lit/orchard', true],
    ['romeo@montague.lit/orchard', 'romeo@montague.lit/balcony', false],
    ['romeo@montague.lit/orchard', 'romeo@montague.lit', false],
    // user@domain: any resource.
    ['romeo@montague.lit', 'romeo@montague.lit', true],
    ['romeo@montague.lit', 'romeo@montague.lit/orchard', true],
    ['romeo@montague.lit', 'benvolio@montague.lit', false],
    // domain/resource: only that resource of the domain itself.
    ['montague.lit/bot', 'montague.lit/bot', true],
    ['montague.lit/bot', 'romeo@montague.lit/bot', false],
    ['montague.lit/bot', 'montague.lit', false],
    // domain: the domain, its users, their resources, and subdomains.
    ['montague.lit', 'montague.lit', true],
    ['montague.lit', 'romeo@montague.lit/orchard', true],
    ['montague.lit', 'chat.montague.lit', true],
    ['montague.lit', 'evilmontague.lit', false],
    ['montague.lit', 'capulet.lit', false],
  ];
  for (const [item, entity, want] of cases) {
    it(`${item} ${want ? 'covers' : 'does not cover'} ${entity}`, () => assert.equal(itemMatches(item, entity), want));
  }

  it('the refusal of a stanza to a blocked entity is <not-acceptable/> with <blocked/> (§5.3)', () => {
    const e = blockedError().toElement();
    assert.equal(e.attrs.type, 'cancel');
    assert.ok(e.getChild('not-acceptable', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
    assert.ok(e.getChild('blocked', NS_BLOCKING_ERRORS));
  });
});
