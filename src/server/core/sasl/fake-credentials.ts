// Credentials for accounts that do not exist, so that a SASL exchange for one looks and costs the same as for
// a real account (no account enumeration). Each mechanism gets its own salt, as real accounts do (a stranger
// comparing the SCRAM-SHA-1 and SCRAM-SHA-256 salts of a name must not learn whether it exists), and each salt
// is derived from the server's persistent secret, so it is stable across connections and restarts.
import type { AccountCredentials, ScramCredential, ScramHash } from '../../../storage/types.ts';
import { DEFAULT_SCRAM_ITERATIONS, hmac } from './scram-credentials.ts';

export function fakeCredential(secret: Buffer, hash: ScramHash, username: string): ScramCredential {
  return {
    salt: hmac('SHA-256', secret, `salt:${hash}:${username}`).subarray(0, 16).toString('base64'),
    iterations: DEFAULT_SCRAM_ITERATIONS,
    // Never matches: a proof is compared with a digest of the right length.
    storedKey: '',
    serverKey: '',
  };
}

export function fakeCredentials(secret: Buffer, username: string): AccountCredentials {
  return { 'SHA-1': fakeCredential(secret, 'SHA-1', username), 'SHA-256': fakeCredential(secret, 'SHA-256', username) };
}
