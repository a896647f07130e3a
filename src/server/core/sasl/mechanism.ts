// The shape every SASL mechanism implements (RFC 6120 §6, RFC 4422): a server-side exchange driven by the
// client's responses, ending in success with the authenticated localpart or in failure.
import type { AccountCredentials } from '../../../storage/types.ts';

export type SaslFailureCondition =
  | 'aborted' | 'account-disabled' | 'credentials-expired' | 'encryption-required' | 'incorrect-encoding'
  | 'invalid-authzid' | 'invalid-mechanism' | 'malformed-request' | 'mechanism-too-weak' | 'not-authorized'
  | 'temporary-auth-failure';

export interface SaslFailure {
  kind: 'failure';
  condition: SaslFailureCondition;
  /** Sent to the client: only what it may know (never whether the account exists). */
  text?: string;
  /** The account the client tried, when known (for the log and per-account throttling). */
  username?: string;
  /** Why, for the server's log. */
  reason: string;
  /**
   * True only when a password or proof was checked and was wrong: the one failure the login throttles count.
   * A negotiation error (a mechanism or channel binding we do not offer, a malformed message, an abort, a
   * refusal during a lockout) tests no password, so counting it would only lock out honest clients that
   * try what they support in turn.
   */
  badCredentials?: true;
}

export type SaslStep =
  | { kind: 'challenge'; data: Buffer }
  | { kind: 'success'; username: string; data?: Buffer }
  | SaslFailure;

/** A negotiation error: refused without any password having been checked. */
export function refused(condition: SaslFailureCondition, reason: string, more: { text?: string; username?: string } = {}): SaslFailure {
  const f: SaslFailure = { kind: 'failure', condition, reason };
  if (more.text !== undefined) f.text = more.text;
  if (more.username) f.username = more.username;
  return f;
}

/** Wrong credentials: the same answer whatever the reason (RFC 6120 §6.4.5 not-authorized, no text). */
export function denied(username: string, reason: string): SaslFailure {
  const f: SaslFailure = { kind: 'failure', condition: 'not-authorized', reason, badCredentials: true };
  if (username) f.username = username;
  return f;
}

/** Answer to a login refused because of recent failures on the account or address. */
export const LOCKED_OUT_TEXT = 'too many failed logins; try again later';

export interface SaslExchange {
  /** `data` is the decoded client message (initial response or reply to a challenge). */
  step(data: Buffer | undefined): Promise<SaslStep>;
}

export interface SaslContext {
  /** Channel binding data for a type on this connection (undefined: not available on this stream). */
  channelBinding(type: string): Buffer | undefined;
  /** Channel binding types offered on this stream (XEP-0440); empty without TLS. */
  channelBindingTypes: string[];
  /** Every mechanism offered on this stream: for XEP-0474 downgrade protection and the RFC 5802 'y' flag. */
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
