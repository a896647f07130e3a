// SASL PLAIN (RFC 4616). Sends the password itself, so it is only offered over TLS unless the operator
// explicitly allows it (RFC 6120 §13.8).
import { normalizeLocal } from '../../../jid/index.ts';
import { authzidAllowed } from './authzid.ts';
import { fakeCredentials } from './fake-credentials.ts';
import type { SaslMechanism, SaslStep } from './mechanism.ts';
import { verifyPassword } from './scram-credentials.ts';

export const plainMechanism: SaslMechanism = {
  name: 'PLAIN',
  requiresTls: true,
  start(ctx) {
    return {
      async step(data): Promise<SaslStep> {
        if (!data || data.length === 0) return { kind: 'challenge', data: Buffer.alloc(0) };
        const parts = data.toString('utf8').split('\0');
        if (parts.length !== 3) return { kind: 'failure', condition: 'malformed-request' };
        const [authzid, authcid, password] = parts as [string, string, string];
        let username: string;
        try {
          username = normalizeLocal(authcid);
        } catch {
          return { kind: 'failure', condition: 'not-authorized' };
        }
        if (!authzidAllowed(authzid, username, ctx.domain)) return { kind: 'failure', condition: 'invalid-authzid', username };
        if (ctx.lockedOut(username)) return { kind: 'failure', condition: 'temporary-auth-failure', text: 'too many failed logins; try again later' };
        const creds = await ctx.lookup(username);
        // A missing account is checked against fake credentials, so it costs the same PBKDF2 as a real one and
        // the answer's timing does not tell which accounts exist.
        const ok = verifyPassword(creds ?? fakeCredentials(ctx.secret, username), password) && creds !== undefined;
        if (!ok) return { kind: 'failure', condition: 'not-authorized', username };
        return { kind: 'success', username };
      },
    };
  },
};
