// Every stable error code the client reports, in one place. Codes never change meaning once released; callers
// (the CLI maps them onto exit codes in src/cli/key/exit-codes.ts) switch on them, never on message text.

/** Connection-level failures (ClientError). */
export type ClientErrorCode =
  | 'connect-failed'   // TCP connection refused / DNS / reset before the stream was up
  | 'tls-failed'       // STARTTLS refused or certificate not accepted
  | 'tls-required'     // the server offers no TLS and the caller did not allow a plaintext stream
  | 'auth-failed'      // SASL failure, or the server could not prove it knows the password (SCRAM v=)
  | 'no-mechanism'     // no acceptable SASL mechanism offered
  | 'stream-error'     // the server closed the stream with an error
  | 'timeout'          // no answer in time
  | 'closed'           // the connection is gone
  | 'protocol';        // the peer sent something we cannot use

/** The kind of a key operation failure: what a caller can do about it. */
export type KeyOpErrorKind = 'unsupported' | 'refused' | 'not-found' | 'conflict';

/** Key operation failures (KeyOpError), each with its kind. */
export const KEY_OP_ERROR_KINDS = {
  'discovery-failed': 'unsupported',          // disco#info on our own account failed
  'no-pep': 'unsupported',                    // our account has no PEP service (XEP-0163)
  'no-publish-options': 'unsupported',        // its PEP service lacks publish-options (XEP-0222 §5)
  'node-conflict': 'conflict',                // the node exists with other options (XEP-0060 §7.1.5 precondition-not-met)
  'access-model-unsupported': 'refused',      // the service refused the requested access model
  'options-not-acceptable': 'refused',        // the service refused the requested node options
  'pubsub-feature-unsupported': 'refused',    // the service lacks a pubsub feature the operation needs
  'publish-forbidden': 'refused',             // this account may not publish to the node
  'whitelist-not-set': 'refused',             // published, but the whitelist members could not be set
  'access-denied': 'refused',                 // the contact does not share the node with us
  'no-key': 'not-found',                      // nothing published, or nobody to ask directly
  'retrieval-unsupported': 'not-found',       // the contact's server offers no PEP retrieval
  'retrieval-failed': 'not-found',            // reading the contact's node failed for another reason
  'malformed-key': 'not-found',               // the node holds something that is not a readable key
} as const satisfies Record<string, KeyOpErrorKind>;

export type KeyOpErrorCode = keyof typeof KEY_OP_ERROR_KINDS;

/** A failure already put into words, before it becomes an error (or a reason kept for later). */
export interface KeyProblem {
  code: KeyOpErrorCode;
  message: string;
}
