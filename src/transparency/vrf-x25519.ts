// Multiplication of edwards25519 points by OpenSSL's X25519 (node:crypto), for the VRF (vrf.ts): by the
// secret scalars when proving, by the public ones when verifying (see "Public scalars" below; there noble's
// variable-time products are the alternative, still ~4× costlier). noble's constant-time multiply costs
// about a millisecond of BigInt arithmetic; X25519 is native and constant-time, ~45 µs. Two facts make it
// usable:
// - X25519(s, u(P)) is the Montgomery u-coordinate of s·P, for s clamped (RFC 7748 §5), and RFC 8032's
//   secret scalar is clamped the same way, so the VRF's scalar goes to X25519 as it is;
// - u loses only the sign of x: u = (1 + y)/(1 − y). A second product (s + δ)·P = s·P + δ·P (δ = ±8, so
//   that s + δ is still clamped) gives y(Q + R) for Q = s·P and the known R = δ·P, and Edwards addition,
//   y(Q + R) = (y_Q·y_R + x_Q·x_R)/(1 − d·x_Q·x_R·y_Q·y_R), is linear in x_Q: one division gives x_Q,
//   no square root. Q + R and Q − R have different y unless 2R or 2Q is the identity, so x_Q is unique.
// Only points of prime order q are multiplied (the VRF's H, after clearing the cofactor; B; 8·Gamma and 8·Y
// when verifying), so s·P = (s mod q)·P.
// A scalar k that is not clamped (the proof's nonce) is split into two clamped ones, c1 + c2 ≡ k (mod q):
// k·P = c1·P + c2·P, four X25519 products in all.
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { FpInvertBatch } from '@noble/curves/abstract/modular.js';

const Point = ed25519.Point;
type Pt = InstanceType<typeof Point>;
const P = Point.Fp.ORDER;
const D = Point.CURVE().d;
const Fp = Point.Fp;
const Q = Point.Fn.ORDER;
const INV8 = Point.Fn.inv(8n);
const BASE_TIMES_8 = Point.BASE.double().double().double();
const BASE_TIMES_MINUS_8 = BASE_TIMES_8.negate();

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

/** u as an X25519 public key. */
const publicU = (u: bigint): KeyObject => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: intToLe32(u).toString('base64url') }, format: 'jwk' });

export function x25519Base(point: Pt): X25519Base {
  // u(P) = (Z + Y)/(Z − Y).
  return { point, u: publicU(mod((point.Z + point.Y) * Fp.inv(mod(point.Z - point.Y)))), times8: point.double().double().double() };
}

// y = (u − 1)/(u + 1) = a/b; R = (X : Y : Z). From y(Q + R) = (y_Q·y_R + x_Q·x_R)/(1 − d·x_Q·x_R·y_Q·y_R):
// x_Q = (a2·b1·Z − a1·b2·Y)·Z / ((b1·b2·Z + d·a1·a2·Y)·X), and y_Q = a1/b1; one inversion (of `both`) for both.
interface Recovery {
  a1: bigint;
  b1: bigint;
  num: bigint;
  den: bigint;
  both: bigint;
}

function recovery(u1: bigint, u2: bigint, R: Pt): Recovery {
  const a1 = u1 - 1n, b1 = u1 + 1n, a2 = u2 - 1n, b2 = u2 + 1n;
  const { X, Y, Z } = R;
  const den = mod(mod(b1 * b2 * Z + D * mod(a1 * a2) * Y) * X);
  const num = mod(mod(a2 * b1 * Z - a1 * b2 * Y) * Z);
  return { a1, b1, num, den, both: mod(den * b1) };
}

/** Q from its recovery terms and the inverse of `both` (not zero). */
function recovered({ a1, b1, num, den }: Recovery, inv: bigint): Pt {
  const q = Point.fromAffine({ x: mod(mod(num * b1) * inv), y: mod(mod(a1 * den) * inv) });
  // Cheap guard (a few multiplications): a result off the curve means a bug, never a wrong label.
  q.assertValidity();
  return q;
}

/** Q from its recovery terms, projective (x = X/Z, y = Y/Z, T = X·Y/Z): no inversion. `both` is not zero. */
function recoveredProjective({ a1, b1, num, den, both }: Recovery): Pt {
  const x = mod(num * b1), y = mod(a1 * den);
  const q = new Point(mod(x * both), mod(y * both), mod(both * both), mod(x * y));
  q.assertValidity();
  return q;
}

/**
 * s·base for a base point of prime order q (not the identity). Returns null only if a denominator is zero,
 * which takes inputs found with probability about 2^-250; callers then use another method.
 */
export function mulX25519(k: X25519Scalar, base: Pt | X25519Base): Pt | null {
  const b = 'times8' in base ? base : x25519Base(base);
  const R = k.delta > 0n ? b.times8 : b.times8.negate();
  // u(Q) and u(Q + R), Q = s·base.
  const r = recovery(x25519(k.s, b.u), x25519(k.shifted, b.u), R);
  return r.both === 0n ? null : recovered(r, Fp.inv(r.both));
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

// Public scalars (the verifier's s and c): variable time is fine, and one product takes one clamped scalar
// instead of mulAnyX25519's two. t·P = (t/m)·(m·P) for a small m ≠ 0, and c = 2^254 + 8·r ≡ t/m (mod q) is
// clamped with c + 8 when r < 2^251 − 1: r is uniform below q ≈ 2^252, so about half of the m's do and a few
// tries find one (m and −m are independent tries: −P has P's u, u forgets the sign of x).
// For P = B with m = ±1 no Diffie-Hellman is needed at all: importing an X25519 private key c makes OpenSSL
// derive its public key, u(c·B), and B is the Edwards form of X25519's base point (u = 9).
const MULTIPLIERS = [1n, -1n, 2n, -2n, 3n, -3n, 4n, -4n, 5n, -5n, 6n, -6n, 7n, -7n, 8n, -8n];
const MULTIPLIER_INVERSES = MULTIPLIERS.map((m) => Point.Fn.inv(m > 0n ? m : Q + m));
const R_MAX = (1n << 251n) - 2n;
const C_MIN = 1n << 254n;

/** m·P for |m| < 16, by doublings and additions. */
export function mulSmall(p: Pt, m: bigint): Pt {
  const n = m < 0n ? -m : m;
  if (n === 1n) return m < 0n ? p.negate() : p;
  let acc = Point.ZERO;
  for (let bit = 3n; bit >= 0n; bit--) {
    if (!acc.is0()) acc = acc.double();
    if ((n >> bit) & 1n) acc = acc.add(p);
  }
  return m < 0n ? acc.negate() : acc;
}

interface PublicPlan {
  /** The clamped scalar; c + 8 is clamped too. */
  c: bigint;
  /** m·P. */
  base: Pt;
  /** P is B and m = ±1: u(c·base) is the public key of c. */
  derived: boolean;
  /** m = ±1 and P's X25519 form was given: its u key, and 8·base. */
  known?: { u: KeyObject; times8: Pt };
}

/** The clamped scalar for t·P (0 < t < q), or null when none of the multipliers gives one (probability 2^-16). */
function publicPlan(t: bigint, point: Pt, form?: X25519Base): PublicPlan | null {
  for (let i = 0; i < MULTIPLIERS.length; i++) {
    const tm = (t * MULTIPLIER_INVERSES[i]!) % Q;
    // (t/m + 8)·(m·P) would be the identity, whose u (0) X25519 does not give (OpenSSL refuses it).
    if (tm === Q - 8n) continue;
    const r = (((tm - C_MIN) % Q + Q) * INV8) % Q;
    if (r > R_MAX) continue;
    const m = MULTIPLIERS[i]!;
    const known = form && i < 2 ? { u: form.u, times8: m > 0n ? form.times8 : form.times8.negate() } : undefined;
    return { c: C_MIN + 8n * r, base: mulSmall(point, m), derived: point === Point.BASE && i < 2, known };
  }
  return null;
}

/** u(c·B) of an X25519 private key c, from the public key OpenSSL derived when importing it. */
const derivedU = (scalar: KeyObject): bigint => leToInt(Buffer.from(scalar.export({ format: 'jwk' }).x!, 'base64url'));

/**
 * t·P for public scalars t (any bigint, taken mod q) and points P of prime order q or the identity, several
 * at once so that the u-coordinates of the points take one field inversion in all (the products are left
 * projective: their encodings invert once more, with others). An entry is null where this method has no
 * answer (no multiplier fits, a key cannot be imported, a zero denominator: rare); callers then use another
 * method. Pass Point.BASE itself for B (see above), and an X25519Base for a point multiplied again and again
 * (the domain's key). Variable time: for public values only.
 */
export function mulPublicX25519(jobs: readonly { t: bigint; point: Pt | X25519Base }[]): (Pt | null)[] {
  const out: (Pt | null)[] = jobs.map(() => null);
  const plans: (PublicPlan & { i: number })[] = [];
  jobs.forEach(({ t, point: given }, i) => {
    const r = ((t % Q) + Q) % Q;
    const point = 'times8' in given ? given.point : given;
    if (r === 0n || point.is0()) out[i] = Point.ZERO;
    else {
      const plan = publicPlan(r, point, 'times8' in given ? given : undefined);
      if (plan) plans.push({ i, ...plan });
    }
  });
  // u(base) = (Z + Y)/(Z − Y); Z ≠ Y as the base is not the identity.
  const needU = plans.filter((p) => !p.derived && !p.known);
  const invs = FpInvertBatch(Fp, needU.map(({ base }) => mod(base.Z - base.Y)));
  // The plan depends on t alone, so products by one scalar (the verifier's s·B and s·H) share its keys.
  const keys = new Map<bigint, KeyObject | null>();
  const key = (n: bigint): KeyObject | null => {
    let k = keys.get(n);
    if (k === undefined) keys.set(n, (k = transientScalar(n)));
    return k;
  };
  for (const plan of plans) {
    const s = key(plan.c);
    const shifted = key(plan.c + 8n);
    if (!s || !shifted) continue;
    const { base } = plan;
    let u1: bigint, u2: bigint;
    try {
      if (plan.derived) {
        u1 = derivedU(s);
        u2 = derivedU(shifted);
      } else {
        const uKey = plan.known?.u ?? publicU(mod((base.Z + base.Y) * invs[needU.indexOf(plan)]!));
        u1 = x25519(s, uKey);
        u2 = x25519(shifted, uKey);
      }
    } catch {
      // OpenSSL refuses an all-zero result, which the plan rules out (neither product is the identity): an
      // answer from another method beats an exception for an input nobody foresaw.
      continue;
    }
    const R = plan.derived ? (base === Point.BASE ? BASE_TIMES_8 : BASE_TIMES_MINUS_8) : (plan.known?.times8 ?? base.double().double().double());
    const r = recovery(u1, u2, R);
    if (r.both !== 0n) out[plan.i] = recoveredProjective(r);
  }
  return out;
}
