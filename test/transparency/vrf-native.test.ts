// The VRF's native path (secret-scalar products by OpenSSL X25519, src/transparency/vrf-x25519.ts; k·B from
// OpenSSL's Ed25519 signature) against noble's constant-time ladder, the reference: same points, same
// proofs and outputs byte for byte, on random keys and inputs, the RFC 9381 B.3 examples on both paths,
// and the scalars at the ends of the clamped range (where s + 8 would leave it).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { mulAnyX25519, mulX25519, x25519Base, x25519Scalar } from '../../src/transparency/vrf-x25519.ts';
import { encodeToCurve, vrfGenerateKeyPair, vrfHash, vrfKeyPairFromSeed, vrfProofToHash, vrfProve, vrfProveWithOutput, vrfVerify } from '../../src/transparency/vrf.ts';
import { mapLabel, mapLabelOnly } from '../../src/transparency/map-label.ts';

const Point = ed25519.Point;
const Q = Point.Fn.ORDER;
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const le32 = (n: bigint) => Uint8Array.from(Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse());
const leInt = (b: Uint8Array) => BigInt('0x' + Buffer.from(b).reverse().toString('hex'));
const clamp = (b: Uint8Array) => {
  const s = Uint8Array.from(b);
  s[0]! &= 248;
  s[31]! &= 127;
  s[31]! |= 64;
  return s;
};
const randomPoint = () => Point.BASE.multiply((leInt(randomBytes(32)) % (Q - 1n)) + 1n);

// RFC 9381 Appendix B.3 (as in vrf.test.ts): seed, alpha, pi, beta.
const VECTORS = [
  ['9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', '', '8657106690b5526245a92b003bb079ccd1a92130477671f6fc01ad16f26f723f26f8a57ccaed74ee1b190bed1f479d9727d2d0f9b005a6e456a35d4fb0daab1268a1b0db10836d9826a528ca76567805', '90cf1df3b703cce59e2a35b925d411164068269d7b2d29f3301c03dd757876ff66b71dda49d2de59d03450451af026798e8f81cd2e333de5cdf4f3e140fdd8ae'],
  ['4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', '72', 'f3141cd382dc42909d19ec5110469e4feae18300e94f304590abdced48aed5933bf0864a62558b3ed7f2fea45c92a465301b3bbf5e3e54ddf2d935be3b67926da3ef39226bbc355bdc9850112c8f4b02', 'eb4440665d3891d668e7e0fcaf587f1b4bd7fbfe99d0eb2211ccec90496310eb5e33821bc613efb94db5e5b54c70a848a0bef4553a41befc57663b56373a5031'],
  ['c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7', 'af82', '9bc0f79119cc5604bf02d23b4caede71393cedfbb191434dd016d30177ccbf8096bb474e53895c362d8628ee9f9ea3c0e52c7a5c691b6c18c9979866568add7a2d41b00b05081ed0f58ee5e31b3a970e', '645427e5d00c62a23fb703732fa5d892940935942101e456ecca7bb217c61c452118fec1219202a0edcf038bb6373241578be7217ba85a2687f7a0310b2df19f'],
] as const;

describe('mulX25519: s·P by OpenSSL X25519 and y-recovery', () => {
  it('equals noble for random clamped scalars and random points of prime order (300 cases)', () => {
    for (let i = 0; i < 300; i++) {
      const s = clamp(createHash('sha512').update(randomBytes(32)).digest().subarray(0, 32));
      const p = randomPoint();
      const got = mulX25519(x25519Scalar(s), p);
      assert.ok(got, `case ${i}`);
      assert.ok(got.equals(p.multiply(leInt(s) % Q)), `case ${i}: s=${toHex(s)} P=${toHex(p.toBytes())}`);
    }
  });

  it('equals noble at the ends of the clamped range: 2^254, 2^255 − 8 (where s − 8 is used) and beside them', () => {
    const ends = [1n << 254n, (1n << 254n) + 8n, (1n << 255n) - 16n, (1n << 255n) - 8n];
    for (const s of ends) {
      const scalar = x25519Scalar(le32(s));
      assert.equal(scalar.delta, s === (1n << 255n) - 8n ? -8n : 8n);
      for (let i = 0; i < 10; i++) {
        const p = randomPoint();
        assert.ok(mulX25519(scalar, p)!.equals(p.multiply(s % Q)), `s = ${s}`);
      }
    }
  });

  it('k·P for any k (the nonce: split into two clamped scalars) equals noble, ends of [0, q) included', () => {
    // sum = (k − 2^255)/8 mod q; the split gives up (null) above 2^252 − 4: k = 2^255 + 8·sum mod q.
    const kAt = (sum: bigint) => (((1n << 255n) + 8n * sum) % Q + Q) % Q;
    const ks = [0n, 1n, 2n, 7n, 8n, Q - 1n, Q - 8n, kAt(0n), kAt(1n), kAt((1n << 252n) - 4n), kAt((1n << 252n) - 5n)];
    for (let i = 0; i < 100; i++) ks.push(leInt(randomBytes(32)) % Q);
    for (const k of ks) {
      const p = randomPoint();
      const got = mulAnyX25519(k, x25519Base(p));
      assert.ok(got, `k = ${k}`);
      assert.ok(got.equals(k === 0n ? Point.ZERO : p.multiply(k)), `k = ${k}`);
    }
    assert.equal(mulAnyX25519(kAt((1n << 252n) - 3n), x25519Base(randomPoint())), null, 'beyond the split: the caller falls back');
  });

  it('refuses a scalar that is not clamped (X25519 would clamp it and multiply by another number)', () => {
    const s = clamp(randomBytes(32));
    for (const bad of [Uint8Array.from(s, (b, i) => (i === 0 ? b | 1 : b)), Uint8Array.from(s, (b, i) => (i === 31 ? b | 0x80 : b)), Uint8Array.from(s, (b, i) => (i === 31 ? b & 0xbf : b)), s.subarray(1)]) {
      assert.throws(() => x25519Scalar(bad), /clamped/);
    }
  });
});

describe('VRF: native and noble arithmetic give the same bytes', () => {
  it('RFC 9381 B.3 examples 16–18 on both paths, and vrfHash gives their beta', () => {
    for (const [sk, alpha, pi, beta] of VECTORS) {
      for (const arithmetic of ['native', 'noble'] as const) {
        const out = vrfProveWithOutput(hex(sk), hex(alpha), arithmetic);
        assert.equal(toHex(out.proof), pi, arithmetic);
        assert.equal(toHex(out.beta), beta, arithmetic);
        assert.equal(toHex(vrfHash(hex(sk), hex(alpha), arithmetic)), beta, arithmetic);
      }
    }
  });

  it('prove, proof_to_hash and vrfHash agree on random keys and inputs (60 keys × 3 inputs), and the proofs verify', () => {
    for (let i = 0; i < 60; i++) {
      const kp = i % 2 ? vrfGenerateKeyPair() : vrfKeyPairFromSeed(new Uint8Array(randomBytes(32)));
      for (let j = 0; j < 3; j++) {
        const alpha = new Uint8Array(randomBytes(j * 37));
        const fast = vrfProveWithOutput(kp.secretKey, alpha);
        const reference = vrfProve(kp.secretKey, alpha, 'noble');
        assert.equal(toHex(fast.proof), toHex(reference), `key ${toHex(kp.secretKey)} alpha ${toHex(alpha)}`);
        const beta = vrfProofToHash(reference);
        assert.deepEqual(fast.beta, beta);
        assert.deepEqual(vrfHash(kp.secretKey, alpha), beta);
        assert.deepEqual(vrfHash(kp.secretKey, alpha, 'noble'), beta);
        assert.deepEqual(vrfVerify(kp.publicKey, alpha, fast.proof), beta);
      }
    }
  });

  it('Gamma is x·H: the proof carries the same point noble computes', () => {
    const kp = vrfGenerateKeyPair();
    const x = leInt(clamp(createHash('sha512').update(kp.secretKey).digest().subarray(0, 32))) % Q;
    for (let i = 0; i < 20; i++) {
      const alpha = new Uint8Array(randomBytes(8));
      const H = encodeToCurve(kp.publicKey, alpha);
      assert.equal(toHex(vrfProve(kp.secretKey, alpha).subarray(0, 32)), toHex(H.multiply(x).toBytes()));
    }
  });

  it('mapLabelOnly is the label mapLabel gives, on random triples', () => {
    const kp = vrfGenerateKeyPair();
    for (let i = 0; i < 50; i++) {
      const jid = `${randomBytes(6).toString('hex')}@capulet.lit`;
      const version = 1 + (i * 7919) % 1000;
      assert.deepEqual(mapLabelOnly(kp.secretKey, jid, 'urn:xmpp:pubkey:2', version), mapLabel(kp.secretKey, jid, 'urn:xmpp:pubkey:2', version).label);
    }
  });
});
