// The parts of the native VRF verification (vrf.ts verifyNative) against @noble/curves: the strict point
// decoding (ed25519-decode.ts), products by public scalars through OpenSSL X25519 (vrf-x25519.ts
// mulPublicX25519, including B through derived public keys and the scalars its plan must step around).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { decodeEd25519Point } from '../../src/transparency/ed25519-decode.ts';
import { mulPublicX25519, mulSmall, x25519Base } from '../../src/transparency/vrf-x25519.ts';

const Point = ed25519.Point;
type Pt = InstanceType<typeof Point>;
const Q = Point.Fn.ORDER;
const P = Point.Fp.ORDER;
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const leInt = (b: Uint8Array) => BigInt('0x' + Buffer.from(b).reverse().toString('hex'));
const le32 = (n: bigint) => Uint8Array.from(Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse());
const randomScalar = () => leInt(randomBytes(40)) % Q;
const randomPoint = () => Point.BASE.multiply(randomScalar() || 1n);
const nobleDecode = (b: Uint8Array): Pt | null => {
  try {
    return Point.fromBytes(b);
  } catch {
    return null;
  }
};
/** t·P by noble, t taken mod q. */
const times = (point: Pt, t: bigint): Pt => {
  const r = ((t % Q) + Q) % Q;
  return r === 0n ? Point.ZERO : point.multiply(r);
};
const same = (a: Pt | null, b: Pt | null) => (a === null || b === null ? a === b : a.equals(b));

describe('decodeEd25519Point (RFC 8032 §5.1.3, strict) equals noble', () => {
  it('on 3,000 random strings (about half are points) and on every torsion point', () => {
    let points = 0;
    for (let i = 0; i < 3000; i++) {
      const b = new Uint8Array(randomBytes(32));
      const want = nobleDecode(b);
      if (want) points++;
      assert.ok(same(decodeEd25519Point(b), want), toHex(b));
    }
    assert.ok(points > 1200 && points < 1800, `${points} points`);
    for (const h of ED25519_TORSION_SUBGROUP) {
      const b = Point.fromHex(h).toBytes();
      assert.ok(same(decodeEd25519Point(b), nobleDecode(b)), h);
    }
  });

  it('at the edges: y = 0, 1, p − 1, p, p + 1, 2^255 − 1 with either sign bit (y ≥ p and x = 0 with the sign set refused)', () => {
    for (const y of [0n, 1n, 2n, P - 1n, P, P + 1n, (1n << 255n) - 1n]) {
      for (const sign of [0, 0x80]) {
        const b = le32(y);
        b[31]! |= sign;
        const got = decodeEd25519Point(b);
        assert.ok(same(got, nobleDecode(b)), `y = ${y}, sign ${sign}`);
        if (y >= P) assert.equal(got, null);
      }
    }
    assert.equal(decodeEd25519Point(le32(1n).map((v, i) => (i === 31 ? v | 0x80 : v))), null, 'x = 0 with the sign bit');
    assert.equal(decodeEd25519Point(new Uint8Array(31)), null);
  });

  it('decodes the encodings of random points to those points', () => {
    for (let i = 0; i < 200; i++) {
      const p = randomPoint();
      assert.ok(decodeEd25519Point(p.toBytes())!.equals(p));
    }
  });
});

describe('mulPublicX25519: t·P for public t equals noble', () => {
  it('random t on random points, on B (through derived public keys, or Diffie-Hellman when |m| ≥ 2) and several at once', () => {
    for (let i = 0; i < 120; i++) {
      const jobs = [
        { t: randomScalar(), point: randomPoint() },
        { t: randomScalar(), point: Point.BASE },
        { t: randomScalar() >> 128n, point: randomPoint() },
      ];
      mulPublicX25519(jobs).forEach((got, j) => {
        assert.ok(got, `case ${i}.${j}: no answer`);
        assert.ok(got.equals(times(jobs[j]!.point, jobs[j]!.t)), `case ${i}.${j}`);
      });
    }
  });

  it('scalars at the edges: 0, 1, 8 and q − 8 (where (t/m + 8)·P would be the identity for m = ∓1), q − 1, q, beyond q and negative; the identity as P', () => {
    const points = [Point.BASE, randomPoint(), randomPoint().negate()];
    const ts = [0n, 1n, 2n, 7n, 8n, 9n, Q - 9n, Q - 8n, Q - 7n, Q - 1n, Q, Q + 1n, 3n * Q + 8n, -1n, -8n, (1n << 128n) - 1n];
    for (const point of points) {
      const got = mulPublicX25519(ts.map((t) => ({ t, point })));
      ts.forEach((t, i) => assert.ok(got[i]?.equals(times(point, t)), `t = ${t} on ${toHex(point.toBytes())}`));
    }
    assert.ok(mulPublicX25519([{ t: 5n, point: Point.ZERO }])[0]!.is0());
  });

  it('a point given in X25519 form (the domain key: its u and 8·P kept) gives the same products', () => {
    const base = x25519Base(randomPoint());
    for (let i = 0; i < 60; i++) {
      const t = randomScalar() >> BigInt(i % 3 === 0 ? 128 : 0);
      const [got] = mulPublicX25519([{ t, point: base }]);
      assert.ok(got!.equals(times(base.point, t)), `t = ${t}`);
    }
  });

  it('a product by one scalar on two points (s·B and s·H) gives both right', () => {
    for (let i = 0; i < 40; i++) {
      const s = randomScalar();
      const H = randomPoint();
      const [sB, sH] = mulPublicX25519([{ t: s, point: Point.BASE }, { t: s, point: H }]);
      assert.ok(sB!.equals(times(Point.BASE, s)));
      assert.ok(sH!.equals(times(H, s)));
    }
  });

  it('mulSmall: m·P for |m| < 16', () => {
    const p = randomPoint();
    for (let m = -15n; m <= 15n; m++) assert.ok(mulSmall(p, m).equals(times(p, m)), `m = ${m}`);
  });
});
