// RFC 8032 §5.1.3 point decoding for edwards25519, strict (y ≥ p and x = 0 with the sign bit set are refused),
// the same points as @noble/curves' Point.fromBytes. Why our own: the VRF decodes about three points per
// verification (two tries of encode_to_curve on average, and Gamma), and the square root is an
// exponentiation of 250 squarings: with the reduction mod 2^255 − 19 done by folding (2^255 ≡ 19) instead of
// BigInt division, and a null instead of a thrown error for the half of encode_to_curve's tries that are not
// points, a decoding costs about a third less. The root follows RFC 8032 §5.1.3 step 3 as noble does.
import { ed25519 } from '@noble/curves/ed25519.js';

const Point = ed25519.Point;
type Pt = InstanceType<typeof Point>;
const P = Point.Fp.ORDER;
const D = Point.CURVE().d;
const MASK = (1n << 255n) - 1n;
// sqrt(−1) mod p, 2^((p − 1)/4).
const SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752n;

/** x mod p, up to a small multiple of p: 2^255 ≡ 19, folded twice (x < 2^512 in, < 2^255 + 2^10 out). */
function fold(x: bigint): bigint {
  x = (x & MASK) + 19n * (x >> 255n);
  return (x & MASK) + 19n * (x >> 255n);
}

const mul = (a: bigint, b: bigint): bigint => fold(a * b);

function sqrN(x: bigint, n: number): bigint {
  for (let i = 0; i < n; i++) x = fold(x * x);
  return x;
}

/** x^((p − 5)/8) = x^(2^252 − 3), by noble's addition chain (ed25519_pow_2_252_3). */
function powP58(x: bigint): bigint {
  const b2 = mul(fold(x * x), x); // x^3
  const b4 = mul(sqrN(b2, 2), b2); // x^15
  const b5 = mul(sqrN(b4, 1), x); // x^31
  const b10 = mul(sqrN(b5, 5), b5);
  const b20 = mul(sqrN(b10, 10), b10);
  const b40 = mul(sqrN(b20, 20), b20);
  const b80 = mul(sqrN(b40, 40), b40);
  const b160 = mul(sqrN(b80, 80), b80);
  const b240 = mul(sqrN(b160, 80), b80);
  const b250 = mul(sqrN(b240, 10), b10);
  return mul(sqrN(b250, 2), x);
}

/** The point a 32-byte string encodes, or null when it encodes none (RFC 8032 §5.1.3, strict). */
export function decodeEd25519Point(bytes: Uint8Array): Pt | null {
  if (bytes.length !== 32) return null;
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? bytes[i]! & 0x7f : bytes[i]!);
  if (y >= P) return null;
  const sign = (bytes[31]! & 0x80) !== 0;
  // x² = u/v with u = y² − 1, v = d·y² + 1; x = u·v³·(u·v⁷)^((p − 5)/8), then checked.
  const y2 = fold(y * y);
  const u = (y2 + P - 1n) % P;
  const v = (D * y2 + 1n) % P;
  const v3 = mul(fold(v * v), v);
  let x = mul(mul(u, v3), powP58(mul(u, mul(fold(v3 * v3), v)))) % P;
  const vx2 = mul(v, fold(x * x)) % P;
  if (vx2 !== u) {
    if (vx2 !== (P - u) % P) return null; // u/v is not a square: no point
    x = mul(x, SQRT_M1) % P;
  }
  if (x === 0n && sign) return null;
  if (((x & 1n) === 1n) !== sign) x = P - x;
  return Point.fromAffine({ x, y });
}
