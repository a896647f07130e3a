// RFC 6121 subscription rules, the one copy the presence, roster and PEP code use.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hasSubscriptionFrom, hasSubscriptionTo, isSubscriptionState, type SubscriptionState } from '../../src/protocol/rfc6121.ts';

const ALL: SubscriptionState[] = ['none', 'to', 'from', 'both'];

describe('RFC 6121 subscription states', () => {
  it('tells which direction presence flows (§2.1.2.5)', () => {
    assert.deepEqual(ALL.filter(hasSubscriptionFrom), ['from', 'both']);
    assert.deepEqual(ALL.filter(hasSubscriptionTo), ['to', 'both']);
    assert.equal(hasSubscriptionFrom(undefined), false);
    assert.equal(hasSubscriptionTo(undefined), false);
    assert.deepEqual(['none', 'both', 'remove', undefined].map(isSubscriptionState), [true, true, false, false]);
  });
});
