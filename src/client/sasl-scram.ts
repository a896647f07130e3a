// SASL SCRAM (RFC 5802) with SHA-1 and SHA-256 (RFC 7677), client side, without channel binding ('n,,').
// The server's final message carries a signature only a holder of the stored credentials can compute; we
// check it, so a server (or a man in the middle) that merely accepts us is not taken for the real one.
// The crypto is WebCrypto (crypto.subtle), present in Node 20 and in browsers, so the CLI and the browser
// console run this one implementation.
import { ClientError } from './errors.ts';
import { base64ToBytes as fromBase64, bytesToBase64 as toBase64, utf8Bytes as utf8 } from '../protocol/base64.ts';

export type ScramHash = 'sha1' | 'sha256';

export const SCRAM_MECHANISMS: Record<string, ScramHash> = { 'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-1': 'sha1' };

const SUBTLE_NAMES: Record<ScramHash, { name: string; bytes: number }> = { sha1: { name: 'SHA-1', bytes: 20 }, sha256: { name: 'SHA-256', bytes: 32 } };

/** RFC 5802 §5.1: ',' and '=' in the username are escaped as =2C and =3D. */
export function escapeUsername(user: string): string {
  return user.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

export class ScramSession {
  private clientFirstBare = '';
  private expectedServerSignature: Uint8Array | undefined;

  constructor(
    private readonly hash: ScramHash,
    private readonly username: string,
    private readonly password: string,
    private readonly nonce: string = toBase64(globalThis.crypto.getRandomValues(new Uint8Array(24))),
  ) {}

  /** client-first-message: gs2 header 'n,,' (no channel binding, no authzid). */
  initial(): string {
    // RFC 4013 SASLprep is approximated by NFKC; passwords with prohibited characters are the caller's problem.
    this.clientFirstBare = `n=${escapeUsername(this.username.normalize('NFKC'))},r=${this.nonce}`;
    return `n,,${this.clientFirstBare}`;
  }

  /** client-final-message for the server-first-message. */
  async respond(serverFirst: string): Promise<string> {
    const attrs = parseAttrs(serverFirst);
    if (attrs.m !== undefined) throw new ClientError('auth-failed', 'server requires a SCRAM extension we do not support');
    const r = attrs.r;
    const s = attrs.s;
    const i = Number(attrs.i);
    if (!r || !s || !Number.isInteger(i) || i < 1) throw new ClientError('protocol', 'malformed SCRAM server-first-message');
    // RFC 5802 §5.1: the server's nonce must start with ours, or this answer belongs to someone else.
    if (!r.startsWith(this.nonce) || r.length === this.nonce.length) throw new ClientError('auth-failed', 'SCRAM server nonce does not extend ours');
    if (i > 1_000_000) throw new ClientError('protocol', `SCRAM iteration count ${i} is unreasonably high`);
    const { name, bytes } = SUBTLE_NAMES[this.hash];
    const subtle = globalThis.crypto.subtle;
    const pw = await subtle.importKey('raw', utf8(this.password.normalize('NFKC')), 'PBKDF2', false, ['deriveBits']);
    const salted = new Uint8Array(await subtle.deriveBits({ name: 'PBKDF2', hash: name, salt: fromBase64(s), iterations: i }, pw, bytes * 8));
    const clientKey = await hmac(name, salted, 'Client Key');
    const storedKey = new Uint8Array(await subtle.digest(name, clientKey));
    const withoutProof = `c=${toBase64(utf8('n,,'))},r=${r}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const clientSignature = await hmac(name, storedKey, authMessage);
    const proof = new Uint8Array(bytes);
    for (let k = 0; k < bytes; k++) proof[k] = clientKey[k]! ^ clientSignature[k]!;
    this.expectedServerSignature = await hmac(name, await hmac(name, salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${toBase64(proof)}`;
  }

  /** Checks server-final-message ('v=...'); throws unless the server proved knowledge of our credentials. */
  verifyFinal(serverFinal: string): void {
    const attrs = parseAttrs(serverFinal);
    if (attrs.e !== undefined) throw new ClientError('auth-failed', `SCRAM authentication failed: ${attrs.e}`);
    const v = attrs.v;
    if (!v || !this.expectedServerSignature) throw new ClientError('auth-failed', 'server did not send its SCRAM signature');
    let got: Uint8Array;
    try {
      got = fromBase64(v);
    } catch {
      got = new Uint8Array(0);
    }
    if (!constantTimeEqual(got, this.expectedServerSignature)) {
      throw new ClientError('auth-failed', 'the server could not prove it knows the password (SCRAM server signature mismatch)');
    }
  }
}

async function hmac(hash: string, key: Uint8Array, data: string): Promise<Uint8Array<ArrayBuffer>> {
  const k = await globalThis.crypto.subtle.importKey('raw', key as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash }, false, ['sign']);
  return new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', k, utf8(data)));
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let k = 0; k < a.length; k++) diff |= a[k]! ^ b[k]!;
  return diff === 0;
}

function parseAttrs(msg: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of msg.split(',')) {
    if (part.length >= 2 && part[1] === '=') out[part[0]!] = part.slice(2);
  }
  return out;
}
