// Client failures with a stable code (catalogue: error-codes.ts) and one sentence; callers switch on the code.
import type { StanzaError } from '../protocol/rfc6120.ts';
import { KEY_OP_ERROR_KINDS, type ClientErrorCode, type KeyOpErrorCode, type KeyOpErrorKind, type KeyProblem } from './error-codes.ts';

export type { ClientErrorCode, KeyOpErrorCode, KeyOpErrorKind, KeyProblem } from './error-codes.ts';

export class ClientError extends Error {
  constructor(readonly code: ClientErrorCode, message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'ClientError';
  }
}

/** An IQ answered with type='error': the parsed RFC 6120 error, and the stanza for details. */
export class IqError extends Error {
  constructor(readonly error: StanzaError, readonly from: string | undefined) {
    super(`${from ?? 'server'} answered ${error.condition}${error.appCondition ? ` (${error.appCondition.local})` : ''}${error.text ? `: ${error.text}` : ''}`);
    this.name = 'IqError';
  }

  get condition(): string {
    return this.error.condition;
  }

  /** Application-specific condition name, e.g. pubsub#errors `precondition-not-met`. */
  get appCondition(): string | undefined {
    return this.error.appCondition?.local;
  }
}

/** A key operation failed in a way the user can act on: `code` says what, `kind` what sort of problem it is. */
export class KeyOpError extends Error {
  constructor(readonly code: KeyOpErrorCode, message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'KeyOpError';
  }

  static from(problem: KeyProblem, cause?: unknown): KeyOpError {
    return new KeyOpError(problem.code, problem.message, cause);
  }

  get kind(): KeyOpErrorKind {
    return KEY_OP_ERROR_KINDS[this.code];
  }
}
