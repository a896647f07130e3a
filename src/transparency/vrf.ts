// RFC 9381 ECVRF-EDWARDS25519-SHA512-TAI (suite 0x03): the VRF that turns a (JID, node, version) into a map
// label only the server can compute but anyone can check (docs/transparency.md "VRF and labels").
// Section numbers below are RFC 9381's. Point arithmetic is @noble/curves' edwards25519; hashing node:crypto.
// Multiplications by the secret scalars x and k go to OpenSSL's X25519 (vrf-x25519.ts), k·B to OpenSSL's
// Ed25519: native and constant-time, several times cheaper than noble's BigInt ladder. Verification's
// products by the public s and c go to X25519 as well (verifyNative), and points are decoded by
// ed25519-decode.ts. `arithmetic: 'noble'` keeps the plain noble path, the reference the native one is
// tested against.
//
// Parameters of the suite (§5.5): cofactor 8, ptLen = qLen = 32, cLen = 16, Hash = SHA-512, integers
// little-endian, point encoding and decoding per RFC 8032 §5.1.2/§5.1.3 (non-canonical encodings rejected),
// encode_to_curve_salt = PK_string, nonce generation per RFC 8032 §5.1.6 (§5.4.2.2), validate_key on verify.
import { createHash, createPrivateKey, randomBytes, sign, timingSafeEqual, type KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { mulAddUnsafe } from '@noble/curves/abstract/curve.js';
import { FpInvertBatch } from '@noble/curves/abstract/modular.js';
import { mulAnyX25519, mulPublicX25519, mulSmall, mulX25519, x25519Base, x25519Scalar, type X25519Base, type X25519Scalar } from './vrf-x25519.ts';
import { decodeEd25519Point } from './ed25519-decode.ts';

const Point = ed25519.Point;
type Pt = InstanceType<typeof Point>;
const Q = Point.Fn.ORDER;

const SUITE = 0x03;
const ENCODE_FRONT = 0x01;
const CHALLENGE_FRONT = 0x02;
const PROOF_FRONT = 0x03;
const BACK = 0x00;
const C_LEN = 16;
const PT_LEN = 32;
const Q_LEN = 32;
export const VRF_PROOF_LENGTH = PT_LEN + C_LEN + Q_LEN; // 80
export const VRF_OUTPUT_LENGTH = 64;
export const VRF_SUITE = 'ECVRF-EDWARDS25519-SHA512-TAI';

export interface VrfKeyPair {
  /** The 32-byte Ed25519 seed (RFC 8032 §5.1.5 private key). */
  secretKey: Uint8Array;
  /** The 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
}

/** How secret-scalar multiplications are done: OpenSSL (default) or noble's constant-time ladder. Same bytes. */
export type VrfArithmetic = 'native' | 'noble';

export class VrfError extends Error {
  readonly code = 'KT_VRF';
}

const sha512 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
};

function leToInt(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
}

function intToLe(n: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}

/**
 * RFC 8032 §5.1.2 encoding. noble's multiply() returns points already normalised (Z = 1), and toBytes()
 * would invert Z again (about as costly as a tenth of a multiplication); this skips that.
 */
function encodePoint(p: Pt): Uint8Array {
  if (p.Z !== 1n) return p.toBytes();
  const { x, y } = p.toAffine(1n);
  const out = intToLe(y, PT_LEN);
  if (x & 1n) out[PT_LEN - 1]! |= 0x80;
  return out;
}

/** RFC 8032 §5.1.2 encodings of several points, with one field inversion for all. */
function encodePoints(points: Pt[]): Uint8Array[] {
  const invZ = FpInvertBatch(Point.Fp, points.map((p) => p.Z));
  return points.map((p, i) => {
    const out = intToLe(Point.Fp.mul(p.Y, invZ[i]!), PT_LEN);
    if (Point.Fp.mul(p.X, invZ[i]!) & 1n) out[PT_LEN - 1]! |= 0x80;
    return out;
  });
}

/**
 * RFC 8032 §5.1.3 decoding; null for anything not a canonical encoding of a curve point. Natively ours
 * (ed25519-decode.ts: same points, cheaper), otherwise noble's.
 */
function decodePoint(b: Uint8Array, arithmetic: VrfArithmetic = 'noble'): Pt | null {
  if (b.length !== PT_LEN) return null;
  if (arithmetic === 'native') return decodeEd25519Point(b);
  try {
    return Point.fromBytes(b);
  } catch {
    return null;
  }
}

/** cofactor·P, by three doublings (noble's clearCofactor is a generic multiplication, several times slower). */
const timesCofactor = (p: Pt): Pt => p.double().double().double();

interface ExpandedSecret {
  seed: Uint8Array;
  /** The clamped scalar, 32 bytes little-endian (RFC 8032 §5.1.5 s). */
  clamped: Uint8Array;
  x: bigint;
  prefix: Uint8Array;
  /** PK_string, x·B encoded. */
  Y: Uint8Array;
  /** OpenSSL keys, made on first native use (see native()). */
  native?: { scalar: X25519Scalar; signing: KeyObject };
}

// RFC 8410 PKCS#8 prefix of a raw Ed25519 private key (the seed).
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');

function native(e: ExpandedSecret): { scalar: X25519Scalar; signing: KeyObject } {
  e.native ??= {
    scalar: x25519Scalar(e.clamped),
    signing: createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, e.seed]), format: 'der', type: 'pkcs8' }),
  };
  return e.native;
}

// In the functions below, H is of prime order q or the identity (the VRF's H, cofactor cleared), and a null
// from vrf-x25519.ts (inputs found with probability ~2^-127 or less) falls back to noble's ladder: same point.

/** x·H, constant-time in x. */
function mulSecret(e: ExpandedSecret, H: Pt, arithmetic: VrfArithmetic): Pt {
  if (arithmetic === 'native' && !H.is0()) return mulX25519(native(e).scalar, H) ?? H.multiply(e.x);
  return H.multiply(e.x);
}

/** Gamma = x·H and k·H for the nonce k, constant-time in x and k; H's X25519 form is made once for both. */
function proofProducts(e: ExpandedSecret, H: Pt, k: bigint, arithmetic: VrfArithmetic): { gamma: Pt; kH: Pt } {
  if (arithmetic === 'native' && !H.is0()) {
    const base = x25519Base(H);
    return { gamma: mulX25519(native(e).scalar, base) ?? H.multiply(e.x), kH: mulAnyX25519(k, base) ?? H.multiply(k) };
  }
  return { gamma: H.multiply(e.x), kH: H.multiply(k) };
}

/**
 * k·B encoded, for the nonce k of §5.4.2.2: it is RFC 8032's signing nonce for the message h_string under the
 * same key (k = SHA-512(prefix || h_string) mod q), so the R of OpenSSL's Ed25519 signature of h_string is k·B.
 */
function nonceTimesBase(e: ExpandedSecret, k: bigint, hString: Uint8Array, arithmetic: VrfArithmetic): Uint8Array {
  if (arithmetic === 'native') return new Uint8Array(sign(null, hString, native(e).signing).subarray(0, PT_LEN));
  return encodePoint(Point.BASE.multiply(k));
}

// The map builder proves with one key many times: x·B and the OpenSSL keys are kept per key array,
// with a copy of the seed, so an array whose bytes changed is expanded again.
const expanded = new WeakMap<Uint8Array, ExpandedSecret>();

/** RFC 8032 §5.1.5: the secret scalar x (reduced mod q, same point), the nonce prefix (§5.4.2.2), and Y. */
function expandSecret(secretKey: Uint8Array): ExpandedSecret {
  if (secretKey.length !== 32) throw new VrfError('a VRF secret key is a 32-byte Ed25519 seed');
  const known = expanded.get(secretKey);
  if (known && timingSafeEqual(known.seed, secretKey)) return known;
  const h = sha512(secretKey);
  const s = Uint8Array.from(h.subarray(0, 32));
  s[0]! &= 248;
  s[31]! &= 127;
  s[31]! |= 64;
  const x = leToInt(s) % Q;
  const e: ExpandedSecret = { seed: Uint8Array.from(secretKey), clamped: s, x, prefix: Uint8Array.from(h.subarray(32, 64)), Y: encodePoint(Point.BASE.multiply(x)) };
  expanded.set(secretKey, e);
  return e;
}

// Clients verify many labels under one domain key: its decoding, validate_key and 8·Y are kept (public values).
interface ValidatedKey {
  Y: Pt;
  /** cofactor·Y (of prime order) in X25519 form, for c·Y (verifyNative). */
  Y8: X25519Base;
}
const validatedKeys = new Map<string, ValidatedKey | null>();
const VALIDATED_KEYS_MAX = 64;

/** string_to_point and §5.4.5 ECVRF_validate_key: null for a bad encoding or a small-order key. */
function validatedKey(publicKey: Uint8Array): ValidatedKey | null {
  const id = Buffer.from(publicKey).toString('hex');
  let key = validatedKeys.get(id);
  if (key !== undefined) return key;
  const Y = decodePoint(publicKey);
  // A small-order key would let its holder make proofs for many outputs of one alpha.
  key = Y && !Y.isSmallOrder() ? { Y, Y8: x25519Base(timesCofactor(Y)) } : null;
  if (validatedKeys.size >= VALIDATED_KEYS_MAX) validatedKeys.delete(validatedKeys.keys().next().value!);
  validatedKeys.set(id, key);
  return key;
}

/** §5.4.1.1 ECVRF_encode_to_curve_try_and_increment, salt = PK_string; returns H (cofactor cleared). */
export function encodeToCurve(publicKey: Uint8Array, alpha: Uint8Array, arithmetic: VrfArithmetic = 'native'): Pt {
  const front = Uint8Array.of(SUITE, ENCODE_FRONT);
  for (let ctr = 0; ctr <= 255; ctr++) {
    const hash = sha512(front, publicKey, alpha, Uint8Array.of(ctr, BACK));
    const p = decodePoint(hash.subarray(0, PT_LEN), arithmetic);
    if (p) return timesCofactor(p);
  }
  // Probability about 2^-256: §5.4.1.1 says to output "INVALID" and stop.
  throw new VrfError('encode_to_curve found no point');
}

/** §5.4.3 ECVRF_challenge_generation over the five points, truncated to cLen bytes. */
function challenge(points: Uint8Array[]): bigint {
  const c = sha512(Uint8Array.of(SUITE, CHALLENGE_FRONT), ...points, Uint8Array.of(BACK));
  return leToInt(c.subarray(0, C_LEN));
}

interface DecodedProof {
  gamma: Pt;
  c: bigint;
  s: bigint;
}

/** §5.4.4 ECVRF_decode_proof; null when Gamma is not a canonical point or s ≥ q. */
function decodeProof(pi: Uint8Array, arithmetic: VrfArithmetic): DecodedProof | null {
  if (pi.length !== VRF_PROOF_LENGTH) return null;
  const gamma = decodePoint(pi.subarray(0, PT_LEN), arithmetic);
  if (!gamma) return null;
  const c = leToInt(pi.subarray(PT_LEN, PT_LEN + C_LEN));
  const s = leToInt(pi.subarray(PT_LEN + C_LEN));
  if (s >= Q) return null;
  return { gamma, c, s };
}

/** §5.2 proof_to_hash body, on cofactor·Gamma encoded. */
const hashEncoded = (gamma8: Uint8Array): Uint8Array => new Uint8Array(sha512(Uint8Array.of(SUITE, PROOF_FRONT), gamma8, Uint8Array.of(BACK)));

/** §5.2 proof_to_hash body, on cofactor·Gamma. */
const hashCleared = (gamma8: Pt): Uint8Array => hashEncoded(encodePoint(gamma8));

/** §5.2 proof_to_hash body, on an already decoded Gamma. */
const gammaToHash = (gamma: Pt): Uint8Array => hashCleared(timesCofactor(gamma));

export function vrfKeyPairFromSeed(seed: Uint8Array): VrfKeyPair {
  return { secretKey: Uint8Array.from(seed), publicKey: Uint8Array.from(expandSecret(seed).Y) };
}

export function vrfGenerateKeyPair(): VrfKeyPair {
  return vrfKeyPairFromSeed(new Uint8Array(randomBytes(32)));
}

/** §5.1 ECVRF_prove: the 80-byte proof pi = Gamma || c || s, and its output beta (§5.2) without decoding pi. */
export function vrfProveWithOutput(secretKey: Uint8Array, alpha: Uint8Array, arithmetic: VrfArithmetic = 'native'): { proof: Uint8Array; beta: Uint8Array } {
  const e = expandSecret(secretKey);
  const { x, prefix, Y } = e;
  const H = encodeToCurve(Y, alpha, arithmetic);
  const hString = H.toBytes();
  // §5.4.2.2: k = SHA-512(second half of SHA-512(SK) || h_string) mod q, as in RFC 8032 §5.1.6.
  const k = leToInt(sha512(prefix, hString)) % Q;
  // Secret scalars (x, k): constant-time multiplications.
  const { gamma: gammaPoint, kH } = proofProducts(e, H, k, arithmetic);
  const gamma = encodePoint(gammaPoint);
  const c = challenge([Y, hString, gamma, nonceTimesBase(e, k, hString, arithmetic), encodePoint(kH)]);
  const s = (k + c * x) % Q;
  const pi = new Uint8Array(VRF_PROOF_LENGTH);
  pi.set(gamma, 0);
  pi.set(intToLe(c, C_LEN), PT_LEN);
  pi.set(intToLe(s, Q_LEN), PT_LEN + C_LEN);
  return { proof: pi, beta: gammaToHash(gammaPoint) };
}

/** §5.1 ECVRF_prove: the 80-byte proof pi = Gamma || c || s. */
export function vrfProve(secretKey: Uint8Array, alpha: Uint8Array, arithmetic: VrfArithmetic = 'native'): Uint8Array {
  return vrfProveWithOutput(secretKey, alpha, arithmetic).proof;
}

/**
 * The output beta of ECVRF_prove(secretKey, alpha), without the proof: §5.2 hashes cofactor·Gamma =
 * x·(cofactor·H), so the nonce, k·B, k·H and the challenge are skipped: one secret multiplication, not three.
 */
export function vrfHash(secretKey: Uint8Array, alpha: Uint8Array, arithmetic: VrfArithmetic = 'native'): Uint8Array {
  const e = expandSecret(secretKey);
  return hashCleared(mulSecret(e, timesCofactor(encodeToCurve(e.Y, alpha, arithmetic)), arithmetic));
}

/** §5.2 ECVRF_proof_to_hash: the 64-byte output beta. Throws on a malformed proof; it does not verify it. */
export function vrfProofToHash(pi: Uint8Array): Uint8Array {
  const d = decodeProof(pi, 'native');
  if (!d) throw new VrfError('malformed VRF proof');
  return gammaToHash(d.gamma);
}

/**
 * §5.3 ECVRF_verify with validate_key: beta when pi proves alpha under publicKey, else null. Public values
 * only, so variable-time arithmetic; `arithmetic` as for proving: 'noble' is noble's alone, the reference.
 */
export function vrfVerify(publicKey: Uint8Array, alpha: Uint8Array, pi: Uint8Array, arithmetic: VrfArithmetic = 'native'): Uint8Array | null {
  const key = validatedKey(publicKey);
  if (!key) return null;
  const d = decodeProof(pi, arithmetic);
  if (!d) return null;
  const H = encodeToCurve(publicKey, alpha, arithmetic);
  if (arithmetic === 'native') return verifyNative(key, publicKey, pi, H, d);
  // U = s·B − c·Y (B has precomputed tables); V = s·H − c·Gamma in one Strauss–Shamir pass (shared doublings).
  const U = Point.BASE.multiplyUnsafe(d.s).subtract(key.Y.multiplyUnsafe(d.c));
  const V = mulAddUnsafe(Point, [H, d.gamma.negate()], [d.s, d.c]);
  const c = challenge([publicKey, H.toBytes(), pi.subarray(0, PT_LEN), U.toBytes(), V.toBytes()]);
  return c === d.c ? gammaToHash(d.gamma) : null;
}

/**
 * The same check with the products as OpenSSL X25519 ones (vrf-x25519.ts mulPublicX25519; about 4× cheaper
 * than noble's variable-time multiplications here): s·B and s·H share s's keys, c·Gamma and c·Y share c's.
 * X25519 needs points of prime order: B and H are (H may be the identity), but Gamma and Y may have a torsion
 * part (the prover chooses them), so c·P = (c >> 3)·(8·P) + (c & 7)·P, the last by a few additions. The four
 * points of the challenge and the output are encoded with one field inversion.
 */
function verifyNative(key: ValidatedKey, publicKey: Uint8Array, pi: Uint8Array, H: Pt, { gamma, c, s }: DecodedProof): Uint8Array | null {
  const gamma8 = timesCofactor(gamma);
  const c1 = c >> 3n;
  const c0 = c & 7n;
  const [sB, sH, c1Gamma8, c1Y8] = mulPublicX25519([
    { t: s, point: Point.BASE },
    { t: s, point: H },
    { t: c1, point: gamma8 },
    { t: c1, point: key.Y8 },
  ]);
  // A null (rare: see mulPublicX25519) is the same product by noble.
  const cY = (c1Y8 ?? key.Y8.point.multiplyUnsafe(c1)).add(mulSmall(key.Y, c0));
  const U = (sB ?? Point.BASE.multiplyUnsafe(s)).subtract(cY);
  const cGamma = (c1Gamma8 ?? gamma8.multiplyUnsafe(c1)).add(mulSmall(gamma, c0));
  const V = (sH ?? H.multiplyUnsafe(s)).subtract(cGamma);
  const [hString, uString, vString, gamma8String] = encodePoints([H, U, V, gamma8]);
  const cPrime = challenge([publicKey, hString!, pi.subarray(0, PT_LEN), uString!, vString!]);
  return cPrime === c ? hashEncoded(gamma8String!) : null;
}
