// The hiding commitment the verifiable map stores for a label (docs/transparency.md "VRF and labels"): the
// map shows that a label has a value without revealing it; the server opens it (nonce + value) only to
// whoever may look the key up. The nonce is derived from a per-domain secret, so the server stores nothing
// per entry and can always re-open; the value is the RFC 9162 leaf hash of the event's Stage 1 log leaf.
//
//   nonce      = HMAC-SHA256(commitSecret, label)
//   commitment = HMAC-SHA256(nonce, "pepkeys-kt-commit-v1" || label || value)
import { createHmac, timingSafeEqual } from 'node:crypto';

export const COMMIT_CONTEXT = 'pepkeys-kt-commit-v1';
const CONTEXT_BYTES = Buffer.from(COMMIT_CONTEXT, 'latin1');

export function commitmentNonce(commitSecret: Uint8Array, label: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', commitSecret).update(label).digest());
}

export function commitValue(nonce: Uint8Array, label: Uint8Array, value: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', nonce).update(CONTEXT_BYTES).update(label).update(value).digest());
}

/** True when (nonce, value) opens the commitment for this label; compared in constant time. */
export function verifyOpening(commitment: Uint8Array, nonce: Uint8Array, label: Uint8Array, value: Uint8Array): boolean {
  const expected = commitValue(nonce, label, value);
  return commitment.length === expected.length && timingSafeEqual(commitment, expected);
}
