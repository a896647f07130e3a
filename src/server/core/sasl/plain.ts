// SASL PLAIN (RFC 4616). Sends the password itself, so it is only offered over TLS unless the operator
// explicitly allows it (RFC 6120 §13.8).
import { normalizeLocal } from '../../../jid/index.ts';
import { authzidAllowed } from './authzid.ts';
import { fakeCredentials } from './fake-credentials.ts';
import { LOCKED_OUT_TEXT, denied, refused, type SaslMechanism, type SaslStep } from './mechanism.ts';
import { verifyPassword } from './scram-credentials.ts';

export const plainMechanism: SaslMechanism = {
  name: 'PLAIN',
  requiresTls: true,
  start(ctx) {
    return {
      async step(data): Promise<SaslStep> {
        if (!data || data.length === 0) return { kind: 'challenge', data: Buffer.alloc(0) };
        const parts = data.toString('utf8').split('\0');
        if (parts.length !== 3) return refused('malformed-request', 'PLAIN message is not authzid NUL authcid NUL password');
        const [authzid, authcid, password] = parts as [string, string, string];
        let username: string;
        try {
          username = normalizeLocal(authcid);
        } catch {
          return refused('not-authorized', 'the username is not a valid localpart');
        }
        if (!authzidAllowed(authzid, username, ctx.domain)) return refused('invalid-authzid', `authzid ${JSON.stringify(authzid)} is not the account itself`, { username });
        if (ctx.lockedOut(username)) return refused('temporary-auth-failure', 'locked out: too many failed logins', { text: LOCKED_OUT_TEXT, username });
        const creds = await ctx.lookup(username);
        // A missing account is checked against fake credentials, so it costs the same PBKDF2 as a real one and
        // the answer's timing does not tell which accounts exist.
        const ok = verifyPassword(creds ?? fakeCredentials(ctx.secret, username), password);
        // Counted like a wrong password: were it not, the absence of lockouts would tell which accounts exist.
        if (!creds) return denied(username, 'no such account');
        if (!ok) return denied(username, 'wrong password');
        return { kind: 'success', username };
      },
    };
  },
};
