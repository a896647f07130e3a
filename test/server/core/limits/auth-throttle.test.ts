// The login throttle's rules with an injected clock: a lockout lasts at most its window, retries during it
// do not extend it, expired entries are swept, and `unlock` (behind `pepkeys user unlock JID|IP`) ends it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthThrottle, AUTH_THROTTLE_WINDOW_MS as WINDOW } from '../../../../src/server/core/limits/auth-throttle.ts';

const LIMIT = 5;

function throttle() {
  const clock = { now: 1_000_000 };
  return { clock, t: new AuthThrottle(100, LIMIT, () => clock.now) };
}

describe('AuthThrottle', () => {
  it('locks an address and an account out at the limit, and lets them in again once the window has passed', () => {
    const { clock, t } = throttle();
    for (let i = 0; i < LIMIT - 1; i++) t.fail('192.0.2.1', 'juliet@capulet.lit');
    assert.equal(t.blocked('192.0.2.1', undefined), false);
    t.fail('192.0.2.1', 'juliet@capulet.lit');
    const lockedAt = clock.now;
    assert.equal(t.blocked('192.0.2.1', undefined), true);
    assert.equal(t.blocked('198.51.100.7', 'juliet@capulet.lit'), true, 'the account, from anywhere');
    assert.equal(t.blocked('198.51.100.7', 'nurse@capulet.lit'), false);
    // Refused attempts during the lockout ask `blocked` and record nothing.
    for (let m = 1; m < 15; m++) {
      clock.now = lockedAt + m * 60_000;
      assert.equal(t.blocked('192.0.2.1', 'juliet@capulet.lit'), true);
    }
    clock.now = lockedAt + WINDOW - 1;
    assert.equal(t.blocked('192.0.2.1', 'juliet@capulet.lit'), true);
    clock.now = lockedAt + WINDOW + 1;
    assert.equal(t.blocked('192.0.2.1', 'juliet@capulet.lit'), false);
  });

  it('never outlives its window even when failures keep being recorded past the limit', () => {
    const { clock, t } = throttle();
    const start = clock.now;
    // A burst of concurrent exchanges can all fail after passing the check: 50 failures, one a second.
    for (let i = 0; i < 50; i++) {
      t.fail('192.0.2.1', undefined);
      clock.now += 1000;
    }
    // Locked until the newest LIMIT failures leave the window: at most one window after the last one.
    clock.now = start + 49_000 + WINDOW + 1;
    assert.equal(t.blocked('192.0.2.1', undefined), false);
    assert.equal(t.unlock('192.0.2.1'), 0);
  });

  it('slows answers exponentially from the third failure, up to 10 s', () => {
    const { t } = throttle();
    const delays = Array.from({ length: 12 }, () => t.fail('192.0.2.1', undefined));
    assert.deepEqual(delays.slice(0, 4), [100, 100, 200, 400]);
    assert.equal(delays.at(-1), 800, 'no more failures are kept than the limit');
    const big = new AuthThrottle(2000, 30);
    const d = Array.from({ length: 30 }, () => big.fail('192.0.2.2', undefined));
    assert.equal(d.at(-1), 10_000);
  });

  it('sweeps entries whose window has passed', () => {
    const { clock, t } = throttle();
    t.fail('192.0.2.1', 'juliet@capulet.lit');
    t.fail('192.0.2.2', undefined);
    assert.equal(t.size, 3);
    clock.now += WINDOW / 2;
    t.fail('192.0.2.3', undefined);
    clock.now += WINDOW / 2 + 1;
    t.sweep();
    assert.equal(t.size, 1);
    clock.now += WINDOW;
    t.sweep();
    assert.equal(t.size, 0);
  });

  it('forgets an account after a successful login, but not the address', () => {
    const { t } = throttle();
    for (let i = 0; i < LIMIT; i++) t.fail('192.0.2.1', 'juliet@capulet.lit');
    t.succeed('juliet@capulet.lit');
    assert.equal(t.blocked('198.51.100.7', 'juliet@capulet.lit'), false);
    assert.equal(t.blocked('192.0.2.1', undefined), true);
  });

  it('unlock ends an account or address lockout early and says how many failures it forgot', () => {
    const { t } = throttle();
    for (let i = 0; i < LIMIT; i++) t.fail('127.0.0.1', 'juliet@capulet.lit');
    t.fail('::ffff:127.0.0.1', undefined);
    t.fail('2001:DB8::1', 'romeo@montague.lit');
    // A JID in any case the JID rules fold; an IPv4 address also when it came as IPv4-mapped IPv6.
    assert.equal(t.unlock('Juliet@Capulet.LIT'), LIMIT);
    assert.equal(t.blocked('192.0.2.9', 'juliet@capulet.lit'), false);
    assert.equal(t.blocked('127.0.0.1', undefined), true);
    assert.equal(t.unlock('127.0.0.1'), LIMIT);
    assert.equal(t.blocked('::ffff:127.0.0.1', undefined), false);
    assert.equal(t.unlock('2001:db8::1'), 1);
    assert.equal(t.unlock('romeo@montague.lit'), 1);
    assert.equal(t.unlock('nobody@capulet.lit'), 0);
    assert.equal(t.unlock('203.0.113.5'), 0);
    assert.equal(t.size, 0);
  });
});
