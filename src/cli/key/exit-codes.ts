// Exit codes of `pepkeys key ...` (documented in docs/cli-keys.md). 0, 1 and 130 mean what they mean for every
// pepkeys command (src/cli/errors.ts); the others say what kind of problem a script is facing.
import type { ClientErrorCode, KeyOpErrorKind } from '../../client/index.ts';
import { EXIT_FAILURE } from '../errors.ts';

export { EXIT_OK, EXIT_FAILURE, EXIT_INTERRUPTED } from '../errors.ts';
/** Could not connect, negotiate TLS, or log in. */
export const EXIT_CONNECT = 2;
/** The server or the contact refused: no PEP / publish-options, access denied, unsupported access model, node conflict. */
export const EXIT_REFUSED = 3;
/** Nothing to work with: no key published, no such fingerprint, no own key yet. */
export const EXIT_NOT_FOUND = 4;
/** Trust: a contact presented a changed key, or `verify` found no verified, usable key. */
export const EXIT_TRUST = 5;

/** The client's key operation failures (catalogue: src/client/error-codes.ts), by kind. */
export const EXIT_BY_KEY_OP_KIND: Record<KeyOpErrorKind, number> = {
  unsupported: EXIT_REFUSED,
  refused: EXIT_REFUSED,
  conflict: EXIT_REFUSED,
  'not-found': EXIT_NOT_FOUND,
};

/** Connection failures: the peer speaking nonsense is a plain failure, everything else a connection problem. */
export function exitCodeOfClientError(code: ClientErrorCode): number {
  return code === 'protocol' ? EXIT_FAILURE : EXIT_CONNECT;
}
