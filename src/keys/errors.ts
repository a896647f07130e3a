// One error type for the key SDK: a stable code for programs (and the CLI's exit messages) plus one sentence.

export type KeyErrorCode =
  | 'bad-payload' // XML does not match the XEP-0189 schema for its namespace
  | 'bad-key' // key material cannot be decoded
  | 'unsupported-algorithm' // hash or key algorithm we do not implement
  | 'print-mismatch' // a fingerprint does not match the data it claims to cover
  | 'bad-signature'
  | 'key-not-yet-valid'
  | 'key-expired'
  | 'key-revoked'
  | 'insecure-file' // private key file readable by others
  | 'trust-conflict'
  | 'passphrase-required' // the private key is encrypted and no passphrase was given
  | 'bad-passphrase'; // the passphrase does not decrypt the private key

export class KeyError extends Error {
  constructor(readonly code: KeyErrorCode, message: string) {
    super(message);
    this.name = 'KeyError';
  }
}
