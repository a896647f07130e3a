export type { SaslMechanism, SaslExchange, SaslStep, SaslContext, SaslFailure, SaslFailureCondition } from './mechanism.ts';
export { LOCKED_OUT_TEXT, denied, refused } from './mechanism.ts';
export { scramMechanism } from './scram.ts';
export { plainMechanism } from './plain.ts';
export { channelBindingData, channelBindingTypes, serverEndPointHash } from './channel-binding.ts';
export { deriveCredentials, deriveCredential, verifyPassword, DEFAULT_SCRAM_ITERATIONS } from './scram-credentials.ts';
import { scramMechanism } from './scram.ts';
import { plainMechanism } from './plain.ts';
import type { SaslMechanism } from './mechanism.ts';

/** Offered in this order: strongest first (RFC 6120 §6.3.3 lets the client pick, most pick the first they know). */
export const DEFAULT_MECHANISMS: SaslMechanism[] = [
  scramMechanism('SHA-256', true), scramMechanism('SHA-1', true), scramMechanism('SHA-256'), scramMechanism('SHA-1'), plainMechanism,
];
