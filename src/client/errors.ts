// Client failures with a stable code and one sentence for the user; the CLI maps codes onto exit codes.
import type { StanzaError } from '../protocol/rfc6120.ts';

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
