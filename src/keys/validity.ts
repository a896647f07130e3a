// Validity windows (XEP-0189 0.13/0.14 §3 <begin/> and <end/>), enforced whenever a key is used.
import { parseDateTime, Xep0082Error } from '../protocol/xep0082.ts';
import { KeyError } from './errors.ts';

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

export function parseValidity(begin: string, end: string): Validity {
  try {
    const v = { notBefore: parseDateTime(begin), notAfter: parseDateTime(end) };
    if (v.notAfter.getTime() < v.notBefore.getTime()) throw new KeyError('bad-payload', `key validity ends (${end}) before it begins (${begin})`);
    return v;
  } catch (e) {
    if (e instanceof Xep0082Error) throw new KeyError('bad-payload', e.message);
    throw e;
  }
}

export type ValidityState = 'valid' | 'not-yet-valid' | 'expired';

export function validityState(v: Validity, at: Date): ValidityState {
  const t = at.getTime();
  // XEP-0189 §3: "before which the key shall not be considered valid" / "after which ... not ... valid".
  if (t < v.notBefore.getTime()) return 'not-yet-valid';
  if (t > v.notAfter.getTime()) return 'expired';
  return 'valid';
}

/** Throws key-not-yet-valid / key-expired unless `at` lies within the window (bounds inclusive). */
export function assertValidAt(v: Validity, at: Date, what = 'key'): void {
  const s = validityState(v, at);
  if (s === 'not-yet-valid') throw new KeyError('key-not-yet-valid', `${what} is not valid before ${v.notBefore.toISOString()}`);
  if (s === 'expired') throw new KeyError('key-expired', `${what} expired at ${v.notAfter.toISOString()}`);
}
