// The shape every SASL mechanism implements (RFC 6120 §6, RFC 4422): a server-side exchange driven by the
// client's responses, ending in success with the authenticated localpart or in failure.
import type { AccountCredentials } from '../../../storage/types.ts';

export type SaslFailureCondition =
  | 'aborted' | 'account-disabled' | 'credentials-expired' | 'encryption-required' | 'incorrect-encoding'
  | 'invalid-authzid' | 'invalid-mechanism' | 'malformed-request' | 'mechanism-too-weak' | 'not-authorized'
  | 'temporary-auth-failure';

export type SaslStep =
  | { kind: 'challenge'; data: Buffer }
  | { kind: 'success'; username: string; data?: Buffer }
  /** `username`: the account the client tried, when known (for per-account throttling). */
  | { kind: 'failure'; condition: SaslFailureCondition; text?: string; username?: string };

export interface SaslExchange {
  /** `data` is the decoded client message (initial response or reply to a challenge). */
  step(data: Buffer | undefined): Promise<SaslStep>;
}

export interface SaslContext {
  /** Channel binding data for a type on this connection (undefined: not available on this stream). */
  channelBinding(type: string): Buffer | undefined;
  /** Channel binding types offered on this stream (XEP-0440); empty without TLS. */
  channelBindingTypes: string[];
  /** Every mechanism offered on this stream, for XEP-0474 downgrade protection. */
  offeredMechanisms: string[];
  /** The stream's domain: an authzid must be exactly `localpart@domain` (RFC 6120 §6.4.6). */
  domain: string;
  /** Credentials of the localpart on the stream's domain, or undefined when there is no such account. */
  lookup(username: string): Promise<AccountCredentials | undefined>;
  /**
   * Secret used to fake credentials for unknown users so that failures do not reveal which accounts exist;
   * kept across restarts, so the fake salts do not change when the server does.
   */
  secret: Buffer;
  /**
   * True when logins to this localpart are refused for now (too many recent failures on it). Asked before
   * any password check, for accounts that exist and accounts that do not alike.
   */
  lockedOut(username: string): boolean;
}

export interface SaslMechanism {
  readonly name: string;
  /** Whether the mechanism may be offered on an unencrypted stream. */
  readonly requiresTls: boolean;
  /** -PLUS mechanisms: offered only when the stream has channel bindings to offer. */
  readonly channelBinding?: boolean;
  start(ctx: SaslContext): SaslExchange;
}
