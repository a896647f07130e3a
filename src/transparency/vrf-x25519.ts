// Secret-scalar multiplication of edwards25519 points by OpenSSL's X25519 (node:crypto), for the VRF
// (vrf.ts). noble's constant-time multiply costs about a millisecond of BigInt arithmetic; X25519 is native
// and constant-time, ~45 µs. Two facts make it usable:
// - X25519(s, u(P)) is the Montgomery u-coordinate of s·P, for s clamped (RFC 7748 §5), and RFC 8032's
//   secret scalar is clamped the same way, so the VRF's scalar goes to X25519 as it is;
// - u loses only the sign of x: u = (1 + y)/(1 − y). A second product (s + δ)·P = s·P + δ·P (δ = ±8, so
//   that s + δ is still clamped) gives y(Q + R) for Q = s·P and the known R = δ·P, and Edwards addition,
//   y(Q + R) = (y_Q·y_R + x_Q·x_R)/(1 − d·x_Q·x_R·y_Q·y_R), is linear in x_Q: one division gives x_Q,
//   no square root. Q + R and Q − R have different y unless 2R or 2Q is the identity, so x_Q is unique.
// Only points of prime order q are multiplied (the VRF's H, after clearing the cofactor), so s·P = (s mod q)·P.
// A scalar k that is not clamped (the proof's nonce) is split into two clamped ones, c1 + c2 ≡ k (mod q):
// k·P = c1·P + c2·P, four X25519 products in all.
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';

const Point = ed25519.Point;
type Pt = InstanceType<typeof Point>;
const P = Point.Fp.ORDER;
const D = Point.CURVE().d;
const Fp = Point.Fp;
const Q = Point.Fn.ORDER;
const INV8 = Point.Fn.inv(8n);

// RFC 8410 PKCS#8 prefix of a raw X25519 private key. The per-key objects are made once, so the slower DER
// import (~0.5 ms: OpenSSL derives the public key) does not matter; it needs no public key beside it.
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** A clamped scalar s as two X25519 private keys: s and s + δ. Holds secret material. */
export interface X25519Scalar {
  s: KeyObject;
  shifted: KeyObject;
  delta: 8n | -8n;
}

const leToInt = (b: Uint8Array): bigint => BigInt('0x' + Buffer.from(b).reverse().toString('hex'));
const intToLe32 = (n: bigint): Buffer => Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse();
const mod = (n: bigint): bigint => {
  const r = n % P;
  return r < 0n ? r + P : r;
};

/** `clamped` is an RFC 8032 §5.1.5 / RFC 7748 §5 clamped scalar, 32 bytes little-endian. */
export function x25519Scalar(clamped: Uint8Array): X25519Scalar {
  if (clamped.length !== 32 || (clamped[0]! & 7) !== 0 || (clamped[31]! & 0xc0) !== 0x40) throw new Error('not a clamped scalar');
  const s = leToInt(clamped);
  // s + 8 leaves the clamped range only for s = 2^255 − 8, then s − 8 is in it. Decided once per key.
  const delta = s + 8n < 1n << 255n ? 8n : -8n;
  const key = (n: bigint) => createPrivateKey({ key: Buffer.concat([X25519_PKCS8, intToLe32(n)]), format: 'der', type: 'pkcs8' });
  return { s: key(s), shifted: key(s + delta), delta };
}

// A JWK private key is imported ~10× faster than PKCS#8 DER (no decoder); Node (20–22) reads only `d` of a
// private OKP JWK and wants `x` to be a string (the public key, derived from d by OpenSSL, is not compared
// with it). Should a Node version refuse this, null: the caller falls back (tests check it does not).
function transientScalar(n: bigint): KeyObject | null {
  try {
    return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: intToLe32(n).toString('base64url'), x: '' }, format: 'jwk' });
  } catch {
    return null;
  }
}

function x25519(scalar: KeyObject, publicKey: KeyObject): bigint {
  return leToInt(diffieHellman({ privateKey: scalar, publicKey }));
}

/** A point to multiply by several scalars: its u as an X25519 public key, and 8·P. */
export interface X25519Base {
  point: Pt;
  u: KeyObject;
  times8: Pt;
}

export function x25519Base(point: Pt): X25519Base {
  // u(P) = (Z + Y)/(Z − Y).
  const u = intToLe32(mod((point.Z + point.Y) * Fp.inv(mod(point.Z - point.Y))));
  return {
    point,
    u: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: u.toString('base64url') }, format: 'jwk' }),
    times8: point.double().double().double(),
  };
}

/**
 * s·base for a base point of prime order q (not the identity). Returns null only if a denominator is zero,
 * which takes inputs found with probability about 2^-250; callers then use another method.
 */
export function mulX25519(k: X25519Scalar, base: Pt | X25519Base): Pt | null {
  const b = 'times8' in base ? base : x25519Base(base);
  const u1 = x25519(k.s, b.u); // u(Q), Q = s·base
  const u2 = x25519(k.shifted, b.u); // u(Q + R)
  const R = k.delta > 0n ? b.times8 : b.times8.negate();
  // y = (u − 1)/(u + 1) = a/b; R = (X : Y : Z). From y(Q + R) = (y_Q·y_R + x_Q·x_R)/(1 − d·x_Q·x_R·y_Q·y_R):
  // x_Q = (a2·b1·Z − a1·b2·Y)·Z / ((b1·b2·Z + d·a1·a2·Y)·X), and y_Q = a1/b1; one inversion for both.
  const a1 = u1 - 1n, b1 = u1 + 1n, a2 = u2 - 1n, b2 = u2 + 1n;
  const { X, Y, Z } = R;
  const den = mod(mod(b1 * b2 * Z + D * mod(a1 * a2) * Y) * X);
  const num = mod(mod(a2 * b1 * Z - a1 * b2 * Y) * Z);
  const both = mod(den * b1);
  if (both === 0n) return null;
  const inv = Fp.inv(both);
  const q = Point.fromAffine({ x: mod(mod(num * b1) * inv), y: mod(mod(a1 * den) * inv) });
  // Cheap guard (a few multiplications): a result off the curve means a bug, never a wrong label.
  q.assertValidity();
  return q;
}

/**
 * k·base for any k (mod q): k ≡ c1 + c2 with c_i = 2^254 + 8·r_i, r1 + r2 = (k − 2^255)/8 mod q, split in
 * halves so both stay below 2^251 − 1 (c_i + 8 clamped too). Null when that sum is too large (probability
 * ~2^-127), when the keys cannot be imported, or when mulX25519 gives null; callers then use another method.
 */
export function mulAnyX25519(k: bigint, base: X25519Base): Pt | null {
  const sum = (((k - (1n << 255n)) % Q + Q) * INV8) % Q;
  if (sum > (1n << 252n) - 4n) return null;
  const r1 = sum >> 1n;
  const part = (r: bigint): Pt | null => {
    const c = (1n << 254n) + 8n * r;
    const s = transientScalar(c);
    const shifted = transientScalar(c + 8n);
    return s && shifted && mulX25519({ s, shifted, delta: 8n }, base);
  };
  const a = part(r1);
  const b = part(sum - r1);
  return a && b ? a.add(b) : null;
}
