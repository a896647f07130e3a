// SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677) server side, with and without channel binding
// (-PLUS, RFC 5802 §6), and the XEP-0474 'd' attribute that lets clients detect mechanism or channel
// binding downgrades.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { normalizeLocal } from '../../../jid/index.ts';
import type { ScramCredential, ScramHash } from '../../../storage/types.ts';
import { authzidAllowed } from './authzid.ts';
import { fakeCredential } from './fake-credentials.ts';
import type { SaslContext, SaslExchange, SaslMechanism, SaslStep } from './mechanism.ts';
import { digest, hmac } from './scram-credentials.ts';

const fail = (text: string, condition: 'not-authorized' | 'malformed-request' = 'malformed-request'): SaslStep => ({ kind: 'failure', condition, text });

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
      const data = this.ctx.channelBinding(flag.slice(2));
      if (!data) return fail(`channel binding type ${flag.slice(2)} is not available on this stream`, 'not-authorized');
      this.cbData = data;
    } else if (flag.startsWith('p=')) {
      return fail('channel binding requested with a mechanism without -PLUS', 'not-authorized');
    } else if (flag === 'y' && this.ctx.channelBindingTypes.length > 0) {
      // The client could bind but believes we cannot: someone stripped -PLUS from our offer.
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
      return { kind: 'failure', condition: 'invalid-authzid', username: this.username || undefined };
    }
    if (this.username && this.ctx.lockedOut(this.username)) {
      return { kind: 'failure', condition: 'temporary-auth-failure', text: 'too many failed logins; try again later' };
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
    if (!data) return fail('empty client-final-message');
    const msg = data.toString('utf8');
    const i = msg.lastIndexOf(',p=');
    if (i < 0) return fail('missing proof');
    const withoutProof = msg.slice(0, i);
    const attrs = parseAttrs(withoutProof);
    if (!attrs) return fail('bad client-final-message');
    if (attrs.get('c') !== Buffer.concat([Buffer.from(this.gs2Header), this.cbData]).toString('base64')) return fail('channel binding data mismatch', 'not-authorized');
    if (attrs.get('r') !== this.nonce) return fail('nonce mismatch', 'not-authorized');
    const proof = Buffer.from(msg.slice(i + 3), 'base64');
    const denied: SaslStep = { kind: 'failure', condition: 'not-authorized', username: this.username || undefined };
    if (!this.known || !this.cred) return denied;
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const storedKey = Buffer.from(this.cred.storedKey, 'base64');
    const clientSignature = hmac(this.hash, storedKey, authMessage);
    if (proof.length !== clientSignature.length) return denied;
    const clientKey = Buffer.alloc(proof.length);
    for (let k = 0; k < proof.length; k++) clientKey[k] = proof[k]! ^ clientSignature[k]!;
    if (!timingSafeEqual(digest(this.hash, clientKey), storedKey)) return denied;
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
