// RFC 6121 subscription rules, the one copy the presence, roster and PEP code use.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  addFrom, addTo, hasSubscriptionFrom, hasSubscriptionTo, isSubscriptionState, removeFrom, removeTo, type SubscriptionState,
} from '../../src/protocol/rfc6121.ts';

const ALL: SubscriptionState[] = ['none', 'to', 'from', 'both'];

describe('RFC 6121 subscription states', () => {
  it('tells which direction presence flows (§2.1.2.5)', () => {
    assert.deepEqual(ALL.filter(hasSubscriptionFrom), ['from', 'both']);
    assert.deepEqual(ALL.filter(hasSubscriptionTo), ['to', 'both']);
    assert.equal(hasSubscriptionFrom(undefined), false);
    assert.equal(hasSubscriptionTo(undefined), false);
    assert.deepEqual(['none', 'both', 'remove', undefined].map(isSubscriptionState), [true, true, false, false]);
  });

  it('adds and removes one half, keeping the other (Appendix A)', () => {
    assert.deepEqual(ALL.map(addFrom), ['from', 'both', 'from', 'both']);
    assert.deepEqual(ALL.map(removeFrom), ['none', 'to', 'none', 'to']);
    assert.deepEqual(ALL.map(addTo), ['to', 'to', 'both', 'both']);
    assert.deepEqual(ALL.map(removeTo), ['none', 'none', 'from', 'from']);
  });
});
