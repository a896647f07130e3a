// The IQ correlator shared by the server and the client (RFC 6120 §8.2.3).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { x } from '../../src/xml/index.ts';
import { parseJid } from '../../src/jid/index.ts';
import { IqCorrelator, answers } from '../../src/protocol/iq-correlator.ts';
import { StanzaError } from '../../src/protocol/rfc6120.ts';

const correlator = (self?: string) => {
  let n = 0;
  return new IqCorrelator({
    newId: () => `q${++n}`,
    defaultTimeoutMs: 60_000,
    timeoutError: (to) => new Error(`timeout ${to}`),
    self: self ? () => parseJid(self) : undefined,
  });
};

describe('IQ correlator', () => {
  it('accepts the answer only from the entity asked, with the id it was given', async () => {
    const c = correlator();
    const iq = x('iq', { type: 'get', to: 'juliet@example.com/balcony' });
    const answer = c.track(iq);
    assert.equal(iq.attrs.id, 'q1');
    assert.equal(c.settle(x('iq', { type: 'result', id: 'q1', from: 'mallory@example.com/x' })), false, 'spoofed sender');
    assert.equal(c.settle(x('iq', { type: 'result', id: 'q2', from: 'juliet@example.com/balcony' })), false, 'unknown id');
    // JIDs compare normalised (RFC 7622).
    const reply = x('iq', { type: 'result', id: 'q1', from: 'Juliet@Example.com/balcony' });
    assert.equal(c.settle(reply), true);
    assert.equal(await answer, reply);
    assert.equal(c.settle(reply), false, 'answered once');
  });

  it('lets the server answer for our own account (RFC 6120 §10.3.3)', () => {
    const self = parseJid('romeo@example.net/orchard');
    assert.equal(answers(undefined, undefined, self), true);
    assert.equal(answers('romeo@example.net', 'romeo@example.net', self), true);
    assert.equal(answers('romeo@example.net', 'example.net', self), true);
    assert.equal(answers('romeo@example.net', 'juliet@example.com', self), false);
    assert.equal(answers(undefined, 'example.net', undefined), false, 'no own JID known: only an unaddressed answer');
  });

  it('rejects with the StanzaError an error answer carries, on timeout, and when everything is cancelled', async () => {
    const c = correlator();
    const asked = c.track(x('iq', { type: 'set', to: 'pubsub.example.com' }));
    c.settle(x('iq', { type: 'error', id: 'q1', from: 'pubsub.example.com' },
      x('error', { type: 'auth' }, x('forbidden', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }))));
    await assert.rejects(asked, (e: unknown) => e instanceof StanzaError && e.condition === 'forbidden' && e.type === 'auth');
    await assert.rejects(c.track(x('iq', { type: 'get', to: 'slow.example.com' }), 1), /timeout slow\.example\.com/);
    const pending = c.track(x('iq', { type: 'get', to: 'example.com' }));
    c.rejectAll(new Error('closed'));
    await assert.rejects(pending, /closed/);
  });
});
