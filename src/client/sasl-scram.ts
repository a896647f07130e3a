// SASL SCRAM (RFC 5802) with SHA-1 and SHA-256 (RFC 7677), client side, without channel binding ('n,,').
// The server's final message carries a signature only a holder of the stored credentials can compute; we
// check it, so a server (or a man in the middle) that merely accepts us is not taken for the real one.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ClientError } from './errors.ts';

export type ScramHash = 'sha1' | 'sha256';

export const SCRAM_MECHANISMS: Record<string, ScramHash> = { 'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-1': 'sha1' };

/** RFC 5802 §5.1: ',' and '=' in the username are escaped as =2C and =3D. */
export function escapeUsername(user: string): string {
  return user.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

export class ScramSession {
  private clientFirstBare = '';
  private expectedServerSignature: Buffer | undefined;

  constructor(
    private readonly hash: ScramHash,
    private readonly username: string,
    private readonly password: string,
    private readonly nonce: string = randomBytes(24).toString('base64'),
  ) {}

  /** client-first-message: gs2 header 'n,,' (no channel binding, no authzid). */
  initial(): string {
    // RFC 4013 SASLprep is approximated by NFKC; passwords with prohibited characters are the caller's problem.
    this.clientFirstBare = `n=${escapeUsername(this.username.normalize('NFKC'))},r=${this.nonce}`;
    return `n,,${this.clientFirstBare}`;
  }

  /** client-final-message for the server-first-message. */
  respond(serverFirst: string): string {
    const attrs = parseAttrs(serverFirst);
    if (attrs.m !== undefined) throw new ClientError('auth-failed', 'server requires a SCRAM extension we do not support');
    const r = attrs.r;
    const s = attrs.s;
    const i = Number(attrs.i);
    if (!r || !s || !Number.isInteger(i) || i < 1) throw new ClientError('protocol', 'malformed SCRAM server-first-message');
    // RFC 5802 §5.1: the server's nonce must start with ours, or this answer belongs to someone else.
    if (!r.startsWith(this.nonce) || r.length === this.nonce.length) throw new ClientError('auth-failed', 'SCRAM server nonce does not extend ours');
    if (i > 1_000_000) throw new ClientError('protocol', `SCRAM iteration count ${i} is unreasonably high`);
    const len = this.hash === 'sha1' ? 20 : 32;
    const salted = pbkdf2Sync(this.password.normalize('NFKC'), Buffer.from(s, 'base64'), i, len, this.hash);
    const clientKey = hmac(this.hash, salted, 'Client Key');
    const storedKey = createHash(this.hash).update(clientKey).digest();
    const withoutProof = `c=${Buffer.from('n,,').toString('base64')},r=${r}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.hash, storedKey, authMessage);
    const proof = Buffer.alloc(len);
    for (let k = 0; k < len; k++) proof[k] = clientKey[k]! ^ clientSignature[k]!;
    const serverKey = hmac(this.hash, salted, 'Server Key');
    this.expectedServerSignature = hmac(this.hash, serverKey, authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Checks server-final-message ('v=...'); throws unless the server proved knowledge of our credentials. */
  verifyFinal(serverFinal: string): void {
    const attrs = parseAttrs(serverFinal);
    if (attrs.e !== undefined) throw new ClientError('auth-failed', `SCRAM authentication failed: ${attrs.e}`);
    const v = attrs.v;
    if (!v || !this.expectedServerSignature) throw new ClientError('auth-failed', 'server did not send its SCRAM signature');
    const got = Buffer.from(v, 'base64');
    if (got.length !== this.expectedServerSignature.length || !timingSafeEqual(got, this.expectedServerSignature)) {
      throw new ClientError('auth-failed', 'the server could not prove it knows the password (SCRAM server signature mismatch)');
    }
  }
}

function hmac(hash: ScramHash, key: Buffer, data: string): Buffer {
  return createHmac(hash, key).update(data, 'utf8').digest();
}

function parseAttrs(msg: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of msg.split(',')) {
    if (part.length >= 2 && part[1] === '=') out[part[0]!] = part.slice(2);
  }
  return out;
}
