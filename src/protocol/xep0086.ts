// XEP-0086 Error Condition Mappings (1.0, deprecated): the legacy numeric `code` attribute of <error/>.
// Deprecated, yet still read by clients in use: profanity 0.13 treats a missing own OMEMO device list as
// "none yet" only when the item-not-found error carries code='404' (ejabberd sends it, so it works there).
// Adding the attribute costs modern clients nothing (RFC 6120 §8.3.2 lets them ignore unknown attributes).
import type { StanzaErrorCondition } from './rfc6120.ts';

/**
 * XEP-0086 §3's table. `policy-violation` came with RFC 6120, after the table, and has no legacy code: it is
 * sent without one rather than with an invented number.
 */
const LEGACY_CODES: Readonly<Partial<Record<StanzaErrorCondition, number>>> = {
  'bad-request': 400,
  conflict: 409,
  'feature-not-implemented': 501,
  forbidden: 403,
  gone: 302,
  'internal-server-error': 500,
  'item-not-found': 404,
  'jid-malformed': 400,
  'not-acceptable': 406,
  'not-allowed': 405,
  'not-authorized': 401,
  'recipient-unavailable': 404,
  redirect: 302,
  'registration-required': 407,
  'remote-server-not-found': 404,
  'remote-server-timeout': 504,
  'resource-constraint': 500,
  'service-unavailable': 503,
  'subscription-required': 407,
  'undefined-condition': 500,
  'unexpected-request': 400,
};

/** The XEP-0086 code for a condition, as the attribute value, or undefined when the table has none. */
export function legacyErrorCode(condition: StanzaErrorCondition): string | undefined {
  const code = LEGACY_CODES[condition];
  return code === undefined ? undefined : String(code);
}
