// Exit codes of `pepkeys key ...` (documented in docs/cli-keys.md). 0, 1 and 130 mean what they mean for every
// pepkeys command (src/cli/errors.ts); the others say what kind of problem a script is facing.
export { EXIT_OK, EXIT_FAILURE, EXIT_INTERRUPTED } from '../errors.ts';
/** Could not connect, negotiate TLS, or log in. */
export const EXIT_CONNECT = 2;
/** The server or the contact refused: no PEP / publish-options, access denied, unsupported access model, node conflict. */
export const EXIT_REFUSED = 3;
/** Nothing to work with: no key published, no such fingerprint, no own key yet. */
export const EXIT_NOT_FOUND = 4;
/** Trust: a contact presented a changed key, or `verify` found no verified, usable key. */
export const EXIT_TRUST = 5;
