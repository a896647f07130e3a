// Client VRF verification on the native path (vrf.ts verifyNative: s·B, s·H, c·Gamma and c·Y as OpenSSL
// X25519 products, one inversion for the encodings) against noble's alone, the reference: the same answer
// (beta or null) byte for byte on the RFC 9381 B.3 examples, on random keys and inputs, on tampered proofs
// (flipped bits in Gamma, c and s, wrong alpha, wrong key) that both must reject, and on proofs a prover made
// with a Gamma or a public key that has a torsion part (still valid when c·T = 0: both accept them alike).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { encodeToCurve, vrfGenerateKeyPair, vrfKeyPairFromSeed, vrfProofToHash, vrfProve, vrfVerify, type VrfKeyPair } from '../../src/transparency/vrf.ts';
import { verifyMapLabel, mapLabel } from '../../src/transparency/map-label.ts';

const Point = ed25519.Point;
type Pt = InstanceType<typeof Point>;
const Q = Point.Fn.ORDER;
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array | null) => (b ? Buffer.from(b).toString('hex') : 'null');
const leInt = (b: Uint8Array) => BigInt('0x' + (Buffer.from(b).reverse().toString('hex') || '0'));
const le = (n: bigint, len: number) => Uint8Array.from(Buffer.from(n.toString(16).padStart(len * 2, '0'), 'hex').reverse());
const orderOf = (T: Pt): number => {
  let n = 1;
  for (let p = T; !p.is0(); p = p.add(T)) n++;
  return n;
};
/** A point of the given order (1, 2, 4 or 8) in the torsion subgroup. */
const torsion = (order: number): Pt => ED25519_TORSION_SUBGROUP.map((h) => Point.fromHex(h)).find((T) => orderOf(T) === order)!;

/** Both paths' answers, asserted equal; returns the answer. */
function both(pk: Uint8Array, alpha: Uint8Array, pi: Uint8Array, what: string): Uint8Array | null {
  const native = vrfVerify(pk, alpha, pi);
  const noble = vrfVerify(pk, alpha, pi, 'noble');
  assert.equal(toHex(native), toHex(noble), `${what}: native and noble differ`);
  return native;
}

const flipBit = (b: Uint8Array, bit: number): Uint8Array => {
  const out = Uint8Array.from(b);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
};

// RFC 9381 Appendix B.3 (as in vrf.test.ts): seed, alpha, pi, beta.
const VECTORS = [
  ['9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', '', '8657106690b5526245a92b003bb079ccd1a92130477671f6fc01ad16f26f723f26f8a57ccaed74ee1b190bed1f479d9727d2d0f9b005a6e456a35d4fb0daab1268a1b0db10836d9826a528ca76567805', '90cf1df3b703cce59e2a35b925d411164068269d7b2d29f3301c03dd757876ff66b71dda49d2de59d03450451af026798e8f81cd2e333de5cdf4f3e140fdd8ae'],
  ['4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', '72', 'f3141cd382dc42909d19ec5110469e4feae18300e94f304590abdced48aed5933bf0864a62558b3ed7f2fea45c92a465301b3bbf5e3e54ddf2d935be3b67926da3ef39226bbc355bdc9850112c8f4b02', 'eb4440665d3891d668e7e0fcaf587f1b4bd7fbfe99d0eb2211ccec90496310eb5e33821bc613efb94db5e5b54c70a848a0bef4553a41befc57663b56373a5031'],
  ['c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7', 'af82', '9bc0f79119cc5604bf02d23b4caede71393cedfbb191434dd016d30177ccbf8096bb474e53895c362d8628ee9f9ea3c0e52c7a5c691b6c18c9979866568add7a2d41b00b05081ed0f58ee5e31b3a970e', '645427e5d00c62a23fb703732fa5d892940935942101e456ecca7bb217c61c452118fec1219202a0edcf038bb6373241578be7217ba85a2687f7a0310b2df19f'],
] as const;

/** The VRF's secret scalar of a seed (RFC 8032 §5.1.5), for proofs made by hand below. */
function secretScalar(seed: Uint8Array): bigint {
  const s = Uint8Array.from(createHash('sha512').update(seed).digest().subarray(0, 32));
  s[0]! &= 248;
  s[31]! &= 127;
  s[31]! |= 64;
  return leInt(s) % Q;
}

const challenge = (...points: Uint8Array[]): bigint => {
  const h = createHash('sha512').update(Uint8Array.of(0x03, 0x02));
  for (const p of points) h.update(p);
  return leInt(h.update(Uint8Array.of(0x00)).digest().subarray(0, 16));
};

/**
 * A proof with Gamma = x·H + T, under the public key x·B + keyT, as a prover may make one: it verifies when c
 * annihilates both torsion points (then U = k·B and V = k·H), which holds for a fraction of the nonces k;
 * `accept` says which c to keep. Returns the public key it is for.
 */
function torsionProof(kp: VrfKeyPair, alpha: Uint8Array, T: Pt, keyT: Pt, accept: (c: bigint) => boolean): { publicKey: Uint8Array; pi: Uint8Array } {
  const x = secretScalar(kp.secretKey);
  const publicKey = Point.BASE.multiply(x).add(keyT).toBytes();
  const H = encodeToCurve(publicKey, alpha);
  const gamma = H.multiply(x).add(T).toBytes();
  for (let i = 0; i < 500; i++) {
    const k = (leInt(randomBytes(40)) % (Q - 1n)) + 1n;
    const c = challenge(publicKey, H.toBytes(), gamma, Point.BASE.multiply(k).toBytes(), H.multiply(k).toBytes());
    if (!accept(c)) continue;
    const pi = new Uint8Array(80);
    pi.set(gamma, 0);
    pi.set(le(c, 16), 32);
    pi.set(le((k + c * x) % Q, 32), 48);
    return { publicKey, pi };
  }
  throw new Error('no nonce gave an acceptable challenge in 500 tries');
}

describe('vrfVerify native vs noble', () => {
  it('RFC 9381 B.3 examples 16–18: beta on both paths', () => {
    for (const [seed, alpha, pi, beta] of VECTORS) {
      const { publicKey } = vrfKeyPairFromSeed(hex(seed));
      assert.equal(toHex(both(publicKey, hex(alpha), hex(pi), `B.3 ${alpha}`)), beta);
    }
  });

  it('random keys and inputs (40 keys × 6 inputs): same beta, and every tampering rejected by both', () => {
    for (let k = 0; k < 40; k++) {
      const kp = vrfGenerateKeyPair();
      const other = vrfGenerateKeyPair();
      for (let a = 0; a < 6; a++) {
        const alpha = new Uint8Array(randomBytes(a * 7));
        const pi = vrfProve(kp.secretKey, alpha);
        const what = `key ${toHex(kp.publicKey)} alpha ${toHex(alpha)}`;
        assert.equal(toHex(both(kp.publicKey, alpha, pi, what)), toHex(vrfProofToHash(pi)), what);
        // One random bit in each of Gamma (bits 0–255), c (256–383) and s (384–639).
        for (const [from, to, part] of [[0, 256, 'Gamma'], [256, 384, 'c'], [384, 640, 's']] as const) {
          const bit = from + Math.floor(Math.random() * (to - from));
          assert.equal(both(kp.publicKey, alpha, flipBit(pi, bit), `${what} ${part} bit ${bit}`), null, `${what}: ${part} bit ${bit} flipped`);
        }
        assert.equal(both(kp.publicKey, flipBit(new Uint8Array([...alpha, 0]), a), pi, `${what} wrong alpha`), null);
        assert.equal(both(other.publicKey, alpha, pi, `${what} wrong key`), null);
      }
    }
  });

  it('the top bits of c and s, and c = 0 or s = 0, are rejected by both', () => {
    const kp = vrfGenerateKeyPair();
    const alpha = new Uint8Array(randomBytes(12));
    const pi = vrfProve(kp.secretKey, alpha);
    for (const bit of [383, 382, 256, 635, 639, 384]) assert.equal(both(kp.publicKey, alpha, flipBit(pi, bit), `bit ${bit}`), null);
    const zeroC = Uint8Array.from(pi).fill(0, 32, 48);
    const zeroS = Uint8Array.from(pi).fill(0, 48, 80);
    assert.equal(both(kp.publicKey, alpha, zeroC, 'c = 0'), null);
    assert.equal(both(kp.publicKey, alpha, zeroS, 's = 0'), null);
    const maxS = Uint8Array.from(pi);
    maxS.set(le(Q - 1n, 32), 48);
    assert.equal(both(kp.publicKey, alpha, maxS, 's = q − 1'), null);
  });

  it('Gamma or the key with a torsion part: valid proofs (c·T = 0) accepted by both with the honest beta, others rejected', () => {
    const kp = vrfGenerateKeyPair();
    const O = Point.ZERO;
    const cases = [
      // T of order 8 in Gamma, c ≡ 0 (mod 8): c & 7 = 0.
      { T: torsion(8), keyT: O, accept: (c: bigint) => c % 8n === 0n },
      // T of order 2, c even but not ≡ 0 (mod 8): (c & 7)·Gamma carries T.
      { T: torsion(2), keyT: O, accept: (c: bigint) => c % 2n === 0n && c % 8n !== 0n },
      // T of order 4, c ≡ 4 (mod 8).
      { T: torsion(4), keyT: O, accept: (c: bigint) => c % 8n === 4n },
      // The same in the public key (validate_key lets it through: it is not of small order), and in both.
      { T: O, keyT: torsion(2), accept: (c: bigint) => c % 2n === 0n && c % 8n !== 0n },
      { T: O, keyT: torsion(8), accept: (c: bigint) => c % 8n === 0n },
      { T: torsion(4), keyT: torsion(2), accept: (c: bigint) => c % 8n === 4n },
    ];
    for (const [i, { T, keyT, accept }] of cases.entries()) {
      const alpha = new Uint8Array(randomBytes(9));
      const { publicKey, pi } = torsionProof(kp, alpha, T, keyT, accept);
      // beta hashes 8·Gamma = x·(8·H): T drops out, so beta is the one of a proof with Gamma = x·H.
      const honest = torsionProof(kp, alpha, O, keyT, accept);
      assert.equal(toHex(both(publicKey, alpha, pi, `torsion case ${i}`)), toHex(vrfProofToHash(honest.pi)), `torsion case ${i}`);
      assert.ok(both(publicKey, alpha, honest.pi, `torsion case ${i}, Gamma = x·H`));
      // A challenge that does not annihilate the torsion: rejected.
      const bad = torsionProof(kp, alpha, T, keyT, (c) => c % 2n === 1n);
      if (!T.is0() || !keyT.is0()) assert.equal(both(publicKey, alpha, bad.pi, `torsion case ${i}, odd c`), null);
    }
  });

  it('a proof for the clean key does not verify under that key plus a torsion point, on both paths', () => {
    const kp = vrfGenerateKeyPair();
    const alpha = new Uint8Array(randomBytes(10));
    const pi = vrfProve(kp.secretKey, alpha);
    const dirty = Point.fromBytes(kp.publicKey).add(torsion(8)).toBytes();
    for (let i = 0; i < 3; i++) assert.equal(both(dirty, alpha, pi, `dirty key, use ${i}`), null);
  });

  it('many labels under one key (its decoding cached) and first uses of fresh keys agree', () => {
    const kp = vrfGenerateKeyPair();
    for (let i = 0; i < 30; i++) {
      const jid = `user${i}@capulet.lit`;
      const { label, proof } = mapLabel(kp.secretKey, jid, 'urn:xmpp:pubkey:2', 1 + (i % 3));
      assert.equal(toHex(verifyMapLabel(kp.publicKey, jid, 'urn:xmpp:pubkey:2', 1 + (i % 3), proof)), toHex(label));
      assert.equal(verifyMapLabel(kp.publicKey, jid, 'urn:xmpp:pubkey:2', 2 + (i % 3), proof), null);
    }
    for (let i = 0; i < 10; i++) {
      const fresh = vrfGenerateKeyPair();
      const alpha = new Uint8Array(randomBytes(16));
      assert.ok(both(fresh.publicKey, alpha, vrfProve(fresh.secretKey, alpha), `fresh key ${i}`));
    }
  });
});
