// The client's IQ correlation: the shared RFC 6120 §8.2.3 correlator (protocol/iq-correlator.ts) with the
// client's ids, its own JID for answers the server gives on its account's behalf, and the SDK's errors.
import { randomBytes } from 'node:crypto';
import type { Jid } from '../jid/index.ts';
import { IqCorrelator } from '../protocol/iq-correlator.ts';
import { ClientError, IqError } from './errors.ts';

export { parseStanzaError } from '../protocol/rfc6120.ts';

export class IqTracker extends IqCorrelator {
  constructor(self: () => Jid | undefined, defaultTimeoutMs = 15_000) {
    const prefix = randomBytes(3).toString('hex');
    let seq = 0;
    super({
      newId: () => `${prefix}-${++seq}`,
      defaultTimeoutMs,
      self,
      keepAlive: true,
      timeoutError: (to, ms) => new ClientError('timeout', `no answer from ${to ?? 'the server'} within ${ms} ms`),
      answerError: (error, answer) => new IqError(error, answer.attrs.from),
    });
  }
}
