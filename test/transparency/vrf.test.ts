// RFC 9381 ECVRF-EDWARDS25519-SHA512-TAI: the three known answers of RFC 9381 Appendix B.3 (Examples 16, 17
// and 18, https://www.rfc-editor.org/rfc/rfc9381#appendix-B.3), transcribed from a public Go ECVRF
// implementation's test table and checked against the pi/beta that other public implementations citing
// B.3 carry. Beware of pre-RFC drafts' vectors: they have the same beta but a different c and s (the RFC
// added the public key to the challenge). Then properties: tampering, decoding checks, validate_key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { encodeToCurve, vrfGenerateKeyPair, vrfKeyPairFromSeed, vrfProofToHash, vrfProve, vrfVerify } from '../../src/transparency/vrf.ts';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const Q = ed25519.Point.Fn.ORDER;
const P = ed25519.Point.Fp.ORDER;

const VECTORS = [
  {
    name: 'Example 16',
    sk: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    pk: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    alpha: '',
    H: '91bbed02a99461df1ad4c6564a5f5d829d0b90cfc7903e7a5797bd658abf3318',
    pi: '8657106690b5526245a92b003bb079ccd1a92130477671f6fc01ad16f26f723f26f8a57ccaed74ee1b190bed1f479d9727d2d0f9b005a6e456a35d4fb0daab1268a1b0db10836d9826a528ca76567805',
    beta: '90cf1df3b703cce59e2a35b925d411164068269d7b2d29f3301c03dd757876ff66b71dda49d2de59d03450451af026798e8f81cd2e333de5cdf4f3e140fdd8ae',
  },
  {
    name: 'Example 17',
    sk: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pk: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    alpha: '72',
    H: '5b659fc3d4e9263fd9a4ed1d022d75eaacc20df5e09f9ea937502396598dc551',
    pi: 'f3141cd382dc42909d19ec5110469e4feae18300e94f304590abdced48aed5933bf0864a62558b3ed7f2fea45c92a465301b3bbf5e3e54ddf2d935be3b67926da3ef39226bbc355bdc9850112c8f4b02',
    beta: 'eb4440665d3891d668e7e0fcaf587f1b4bd7fbfe99d0eb2211ccec90496310eb5e33821bc613efb94db5e5b54c70a848a0bef4553a41befc57663b56373a5031',
  },
  {
    name: 'Example 18',
    sk: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    pk: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    alpha: 'af82',
    H: 'bf4339376f5542811de615e3313d2b36f6f53c0acfebb482159711201192576a',
    pi: '9bc0f79119cc5604bf02d23b4caede71393cedfbb191434dd016d30177ccbf8096bb474e53895c362d8628ee9f9ea3c0e52c7a5c691b6c18c9979866568add7a2d41b00b05081ed0f58ee5e31b3a970e',
    beta: '645427e5d00c62a23fb703732fa5d892940935942101e456ecca7bb217c61c452118fec1219202a0edcf038bb6373241578be7217ba85a2687f7a0310b2df19f',
  },
];

const le = (n: bigint, len: number) => {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
};
const leInt = (b: Uint8Array) => b.reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n);
const withS = (pi: Uint8Array, s: bigint) => Uint8Array.from([...pi.subarray(0, 48), ...le(s, 32)]);

describe('ECVRF-EDWARDS25519-SHA512-TAI: RFC 9381 Appendix B.3', () => {
  for (const v of VECTORS) {
    it(`${v.name}: public key, H, pi and beta byte for byte`, () => {
      const kp = vrfKeyPairFromSeed(hex(v.sk));
      assert.equal(toHex(kp.publicKey), v.pk);
      assert.equal(toHex(encodeToCurve(hex(v.pk), hex(v.alpha)).toBytes()), v.H);
      const pi = vrfProve(hex(v.sk), hex(v.alpha));
      assert.equal(toHex(pi), v.pi);
      assert.equal(toHex(vrfProofToHash(pi)), v.beta);
      assert.equal(toHex(vrfVerify(hex(v.pk), hex(v.alpha), hex(v.pi))!), v.beta);
    });
  }
});

describe('ECVRF properties', () => {
  const kp = vrfGenerateKeyPair();
  const alpha = new TextEncoder().encode('juliet@capulet.lit');
  const pi = vrfProve(kp.secretKey, alpha);

  it('verify(prove) gives proof_to_hash, and proving is deterministic', () => {
    const beta = vrfVerify(kp.publicKey, alpha, pi);
    assert.ok(beta);
    assert.equal(beta.length, 64);
    assert.deepEqual(beta, vrfProofToHash(pi));
    assert.deepEqual(vrfProve(kp.secretKey, alpha), pi);
  });

  it('a flipped bit anywhere in pi, alpha or the public key gives null', () => {
    for (let bit = 0; bit < pi.length * 8; bit++) {
      const bad = Uint8Array.from(pi);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      assert.equal(vrfVerify(kp.publicKey, alpha, bad), null, `pi bit ${bit}`);
    }
    for (let bit = 0; bit < alpha.length * 8; bit++) {
      const bad = Uint8Array.from(alpha);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      assert.equal(vrfVerify(kp.publicKey, bad, pi), null, `alpha bit ${bit}`);
    }
    for (let bit = 0; bit < 256; bit++) {
      const bad = Uint8Array.from(kp.publicKey);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      assert.equal(vrfVerify(bad, alpha, pi), null, `public key bit ${bit}`);
    }
    assert.equal(vrfVerify(kp.publicKey, alpha, pi.subarray(0, 79)), null);
    assert.equal(vrfVerify(kp.publicKey, new Uint8Array(0), pi), null);
  });

  it('s ≥ q is rejected, even where s mod q would verify', () => {
    const s = leInt(pi.subarray(48));
    for (const big of [s + Q, Q, 2n ** 256n - 1n]) {
      assert.equal(vrfVerify(kp.publicKey, alpha, withS(pi, big)), null);
      assert.throws(() => vrfProofToHash(withS(pi, big)), /malformed/);
    }
  });

  it('a non-canonical Gamma encoding (y ≥ p) is rejected by proof_to_hash', () => {
    // A point with y < 19 has a second, non-canonical encoding y + p that still fits in 255 bits.
    let y = 2n;
    for (; y < 19n; y++) {
      try {
        const p = ed25519.Point.fromBytes(le(y, 32));
        if (!p.isSmallOrder()) break;
      } catch { /* no point with this y */ }
    }
    assert.ok(y < 19n, 'a point with a small y exists');
    const canonical = Uint8Array.from([...le(y, 32), ...pi.subarray(32)]);
    const nonCanonical = Uint8Array.from([...le(y + P, 32), ...pi.subarray(32)]);
    assert.equal(vrfProofToHash(canonical).length, 64);
    assert.throws(() => vrfProofToHash(nonCanonical), /malformed/);
    assert.equal(vrfVerify(kp.publicKey, alpha, nonCanonical), null);
  });

  it('a small-order public key is rejected (validate_key), though its forged proof passes the other checks', () => {
    // With Y = identity and Gamma = identity: U = s·B and V = s·H for s = k, so the challenge matches and
    // the proof would verify, for every alpha, with a beta its "owner" fixed in advance.
    const Y = ed25519.Point.ZERO.toBytes();
    const H = encodeToCurve(Y, alpha);
    const k = leInt(randomBytes(32)) % Q;
    const gamma = ed25519.Point.ZERO.toBytes();
    const U = ed25519.Point.BASE.multiply(k).toBytes();
    const V = H.multiply(k).toBytes();
    const c = createHash('sha512').update(Uint8Array.of(3, 2)).update(Y).update(H.toBytes()).update(gamma).update(U).update(V).update(Uint8Array.of(0)).digest().subarray(0, 16);
    const forged = Uint8Array.from([...gamma, ...c, ...le(k, 32)]);
    assert.equal(vrfVerify(Y, alpha, forged), null);
    for (const t of ED25519_TORSION_SUBGROUP) assert.equal(vrfVerify(hex(t), alpha, pi), null, t);
  });

  it('different alphas give different betas; different keys give different betas', () => {
    const betas = new Set<string>();
    for (let i = 0; i < 32; i++) betas.add(toHex(vrfProofToHash(vrfProve(kp.secretKey, Uint8Array.of(i)))));
    assert.equal(betas.size, 32);
    const other = vrfGenerateKeyPair();
    assert.notDeepEqual(vrfProofToHash(vrfProve(other.secretKey, alpha)), vrfProofToHash(pi));
    assert.equal(vrfVerify(other.publicKey, alpha, pi), null);
  });

  it('a key array whose bytes change is a new key (the per-key cache does not serve the old one)', () => {
    const sk = vrfKeyPairFromSeed(hex(VECTORS[0]!.sk)).secretKey;
    assert.equal(toHex(vrfProve(sk, new Uint8Array(0))), VECTORS[0]!.pi);
    sk.set(hex(VECTORS[1]!.sk));
    assert.equal(toHex(vrfProve(sk, hex('72'))), VECTORS[1]!.pi);
  });

  it('rejects a secret key that is not 32 bytes', () => {
    assert.throws(() => vrfProve(new Uint8Array(31), alpha), /32-byte/);
  });
});
