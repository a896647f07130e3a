// SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677) server side, with and without channel binding
// (-PLUS, RFC 5802 §6), and the XEP-0474 'd' attribute that lets clients detect mechanism or channel
// binding downgrades. Only a wrong proof is a failed password guess (`denied`); everything refused before the
// proof is checked is a negotiation error (`refused`) and tells nothing about the password.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { normalizeLocal } from '../../../jid/index.ts';
import type { ScramCredential, ScramHash } from '../../../storage/types.ts';
import { authzidAllowed } from './authzid.ts';
import { fakeCredential } from './fake-credentials.ts';
import { LOCKED_OUT_TEXT, denied, refused, type SaslContext, type SaslExchange, type SaslMechanism, type SaslStep } from './mechanism.ts';
import { digest, hmac } from './scram-credentials.ts';

/** A refusal whose reason the client is told too (nothing in it depends on the account). */
const fail = (reason: string, condition: 'not-authorized' | 'malformed-request' = 'malformed-request', username = ''): SaslStep =>
  refused(condition, reason, { text: reason, username });

/**
 * RFC 5802 §6: whether a client that sends the 'y' flag ("I support channel binding, but I think the server
 * does not") must be refused: when a -PLUS mechanism was offered on this stream, so that seeing none means
 * someone removed it on the way. When none was offered (no TLS, or an operator's list without -PLUS), 'y'
 * is the truth and the login goes on.
 *
 * Why not also let 'y' through when -PLUS was offered with binding types the client cannot do (a client that
 * knows only tls-unique, on a connection where even the unoffered tls-unique is not accepted)? Nothing in the exchange says which types the
 * client knows: the gs2 header is only 'y'. Guessing it from the stream (say, an earlier p=tls-unique that
 * failed) is guessing from what a man in the middle can send himself: terminating TLS with his own
 * certificate, he strips -PLUS from the client's view, sends a p=tls-unique attempt of his own to us, and
 * relays the client's 'y' exchange, which we would then accept. That is the very downgrade 'y' exists to
 * catch, for the clients that do bind. So 'y' is refused whenever -PLUS was offered; such a client falls
 * back to a mechanism without SCRAM's flag (PLAIN), and the refusal is not counted as a failed password.
 */
export function yFlagIsDowngrade(ctx: SaslContext): boolean {
  return ctx.offeredMechanisms.some((m) => m.endsWith('-PLUS'));
}

function parseAttrs(s: string): Map<string, string> | undefined {
  const m = new Map<string, string>();
  for (const part of s.split(',')) {
    if (part.length < 2 || part[1] !== '=') return undefined;
    m.set(part[0]!, part.slice(2));
  }
  return m;
}

/** RFC 5802 §5.1: '=2C' and '=3D' escape ',' and '='; any other '=' is malformed. */
function unescapeName(s: string): string | undefined {
  if (/=(?!2C|3D)/.test(s)) return undefined;
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

class ScramExchange implements SaslExchange {
  private state: 'first' | 'final' | 'done' = 'first';
  private gs2Header = '';
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private username = '';
  private cred: ScramCredential | undefined;
  private known = false;

  private cbData: Buffer = Buffer.alloc(0);

  constructor(private readonly hash: ScramHash, private readonly plus: boolean, private readonly ctx: SaslContext) {}

  async step(data: Buffer | undefined): Promise<SaslStep> {
    if (this.state === 'first') return this.first(data);
    if (this.state === 'final') return this.final(data);
    return fail('exchange already finished');
  }

  private async first(data: Buffer | undefined): Promise<SaslStep> {
    if (!data || data.length === 0) return { kind: 'challenge', data: Buffer.alloc(0) };
    const msg = data.toString('utf8');
    const m = /^([ny]|p=[^,]*),(a=[^,]*)?,(.*)$/s.exec(msg);
    if (!m) return fail('bad GS2 header');
    const flag = m[1]!;
    // RFC 5802 §6: the cb flag must agree with the mechanism and with what the server offers.
    if (this.plus) {
      if (!flag.startsWith('p=')) return fail('a -PLUS mechanism needs channel binding data', 'not-authorized');
      const type = flag.slice(2);
      const data = this.ctx.channelBinding(type);
      if (!data) {
        const offered = this.ctx.channelBindingTypes.join(', ') || 'none';
        return fail(`channel binding type ${type} is not available on this stream (offered: ${offered})`, 'not-authorized');
      }
      this.cbData = data;
    } else if (flag.startsWith('p=')) {
      return fail('channel binding requested with a mechanism without -PLUS', 'not-authorized');
    } else if (flag === 'y' && yFlagIsDowngrade(this.ctx)) {
      return fail('channel binding downgrade detected', 'not-authorized');
    }
    this.gs2Header = `${flag},${m[2] ?? ''},`;
    this.clientFirstBare = m[3]!;
    const attrs = parseAttrs(this.clientFirstBare);
    if (!attrs || attrs.has('m')) return fail('bad client-first-message');
    const rawUser = attrs.get('n');
    const cnonce = attrs.get('r');
    if (rawUser === undefined || !cnonce || /[^\x21-\x2b\x2d-\x7e]/.test(cnonce)) return fail('missing user or nonce');
    const user = unescapeName(rawUser);
    if (user === undefined) return fail('bad username escaping');
    try {
      this.username = normalizeLocal(user);
    } catch {
      this.username = '';
    }
    // RFC 5802 §5.1: the GS2 authzid is a saslname, escaped like the username.
    const authzid = m[2] === undefined ? '' : unescapeName(m[2].slice(2));
    if (authzid === undefined || !authzidAllowed(authzid, this.username, this.ctx.domain)) {
      return refused('invalid-authzid', 'the authzid is not the account itself', { username: this.username });
    }
    if (this.username && this.ctx.lockedOut(this.username)) {
      return refused('temporary-auth-failure', 'locked out: too many failed logins', { text: LOCKED_OUT_TEXT, username: this.username });
    }
    const creds = this.username ? await this.ctx.lookup(this.username) : undefined;
    this.cred = creds?.[this.hash];
    this.known = this.cred !== undefined;
    // Unknown users get a stable fake salt so the challenge looks like a real one (no account enumeration).
    this.cred ??= fakeCredential(this.ctx.secret, this.hash, this.username);
    this.nonce = cnonce + randomBytes(18).toString('base64');
    // XEP-0474: a hash over what we offered, so the client can compare with what it saw.
    const offered = `${[...this.ctx.offeredMechanisms].sort().join(',')}|${[...this.ctx.channelBindingTypes].sort().join(',')}`;
    this.serverFirst = `r=${this.nonce},s=${this.cred.salt},i=${this.cred.iterations},d=${digest(this.hash, Buffer.from(offered)).toString('base64')}`;
    this.state = 'final';
    return { kind: 'challenge', data: Buffer.from(this.serverFirst) };
  }

  private async final(data: Buffer | undefined): Promise<SaslStep> {
    this.state = 'done';
    const user = this.username;
    if (!data) return fail('empty client-final-message', 'malformed-request', user);
    const msg = data.toString('utf8');
    const i = msg.lastIndexOf(',p=');
    if (i < 0) return fail('missing proof', 'malformed-request', user);
    const withoutProof = msg.slice(0, i);
    const attrs = parseAttrs(withoutProof);
    if (!attrs) return fail('bad client-final-message', 'malformed-request', user);
    // Both checked before the proof, which is then never compared: these refusals test no password.
    if (attrs.get('c') !== Buffer.concat([Buffer.from(this.gs2Header), this.cbData]).toString('base64')) {
      // With a -PLUS mechanism this is what a man in the middle looks like (his TLS channel is not ours).
      return refused('not-authorized', this.plus ? 'channel binding data does not match this TLS connection' : 'gs2 header changed between messages', { text: 'channel binding data mismatch', username: user });
    }
    if (attrs.get('r') !== this.nonce) return fail('nonce mismatch', 'not-authorized', user);
    const proof = Buffer.from(msg.slice(i + 3), 'base64');
    if (!user) return refused('not-authorized', 'the username is not a valid localpart');
    // Counted like a wrong password: were it not, the absence of lockouts would tell which accounts exist.
    if (!this.known || !this.cred) return denied(user, 'no such account');
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const storedKey = Buffer.from(this.cred.storedKey, 'base64');
    const clientSignature = hmac(this.hash, storedKey, authMessage);
    if (proof.length !== clientSignature.length) return denied(user, 'wrong password (proof of the wrong length)');
    const clientKey = Buffer.alloc(proof.length);
    for (let k = 0; k < proof.length; k++) clientKey[k] = proof[k]! ^ clientSignature[k]!;
    if (!timingSafeEqual(digest(this.hash, clientKey), storedKey)) return denied(user, 'wrong password');
    const serverSignature = hmac(this.hash, Buffer.from(this.cred.serverKey, 'base64'), authMessage);
    return { kind: 'success', username: this.username, data: Buffer.from(`v=${serverSignature.toString('base64')}`) };
  }
}

export function scramMechanism(hash: ScramHash, plus = false): SaslMechanism {
  return {
    name: `SCRAM-${hash}${plus ? '-PLUS' : ''}`,
    requiresTls: plus,
    channelBinding: plus,
    start: (ctx) => new ScramExchange(hash, plus, ctx),
  };
}
