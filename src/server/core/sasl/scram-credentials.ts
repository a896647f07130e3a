// RFC 5802 §3 server-side credentials: the server keeps StoredKey and ServerKey, never the password, so a
// stolen database cannot be replayed as a password, and logins with SCRAM never need PBKDF2 on the server.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AccountCredentials, ScramCredential, ScramHash } from '../../../storage/types.ts';

export const DEFAULT_SCRAM_ITERATIONS = 4096;

const NODE_HASH: Record<ScramHash, { name: string; len: number }> = {
  'SHA-1': { name: 'sha1', len: 20 },
  'SHA-256': { name: 'sha256', len: 32 },
};

export function hashName(h: ScramHash): string {
  return NODE_HASH[h].name;
}

/** RFC 4013 SASLprep, reduced to what matters for real passwords: NFKC and non-ASCII spaces mapped to space. */
export function saslPrep(s: string): string {
  return s.replace(/[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]/g, ' ').replace(/[\u00ad\u200c\u200d\ufeff]/g, '').normalize('NFKC');
}

export function saltedPassword(hash: ScramHash, password: string, salt: Buffer, iterations: number): Buffer {
  const h = NODE_HASH[hash];
  return pbkdf2Sync(saslPrep(password), salt, iterations, h.len, h.name);
}

export function hmac(hash: ScramHash, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(NODE_HASH[hash].name, key).update(data).digest();
}

export function digest(hash: ScramHash, data: Buffer): Buffer {
  return createHash(NODE_HASH[hash].name).update(data).digest();
}

export function deriveCredential(hash: ScramHash, password: string, iterations = DEFAULT_SCRAM_ITERATIONS, salt = randomBytes(16)): ScramCredential {
  const sp = saltedPassword(hash, password, salt, iterations);
  const clientKey = hmac(hash, sp, 'Client Key');
  return {
    salt: salt.toString('base64'),
    iterations,
    storedKey: digest(hash, clientKey).toString('base64'),
    serverKey: hmac(hash, sp, 'Server Key').toString('base64'),
  };
}

export function deriveCredentials(password: string, iterations = DEFAULT_SCRAM_ITERATIONS): AccountCredentials {
  return { 'SHA-1': deriveCredential('SHA-1', password, iterations), 'SHA-256': deriveCredential('SHA-256', password, iterations) };
}

/** Checks a plaintext password (SASL PLAIN) against stored SCRAM credentials. */
export function verifyPassword(creds: AccountCredentials, password: string): boolean {
  const c = creds['SHA-256'];
  const sp = saltedPassword('SHA-256', password, Buffer.from(c.salt, 'base64'), c.iterations);
  const stored = digest('SHA-256', hmac('SHA-256', sp, 'Client Key'));
  const expected = Buffer.from(c.storedKey, 'base64');
  return stored.length === expected.length && timingSafeEqual(stored, expected);
}
