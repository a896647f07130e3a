// What a key client reports: every key, revocation and attestation it received (and what the trust store made
// of it), contacts' <generating/> presence, and payloads it rejected.
import type { Pubkey, Revocation, Attestation, ObserveResult, TrustView, VerifyOutcome } from '../keys/index.ts';

export type KeySource = 'pep' | 'notification' | 'direct' | 'message';

export interface KeyEvent {
  jid: string;
  pubkey: Pubkey;
  source: KeySource;
  result: ObserveResult;
}

export interface RevocationEvent {
  jid: string;
  revocation: Revocation;
  source: KeySource;
  outcome: VerifyOutcome;
  record?: TrustView;
}

export interface AttestationEvent {
  jid: string;
  attestation: Attestation;
  source: KeySource;
  /** Checked when both the attested key and the signer's key are known. */
  outcome?: VerifyOutcome;
}

export interface InvalidEvent {
  jid: string;
  source: KeySource;
  reason: string;
}

/** A key, revocation or attestation the admission check (e.g. transparency, `verifyLog`) refused; it was not recorded. */
export interface RefusedEvent {
  jid: string;
  source: KeySource;
  kind: 'key' | 'revocation' | 'attestation';
  node?: string;
  itemId?: string | undefined;
  error: Error;
}

export interface KeysClientEvents {
  key: [KeyEvent];
  revocation: [RevocationEvent];
  attestation: [AttestationEvent];
  generating: [{ jid: string; generating: boolean }];
  invalid: [InvalidEvent];
  refused: [RefusedEvent];
}

/** Where the parts of the key client report events (the KeysClient itself). */
export interface KeyEventSink {
  emit<K extends keyof KeysClientEvents>(event: K, ...args: KeysClientEvents[K]): boolean;
}
