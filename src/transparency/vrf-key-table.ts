// n·P by a table of multiples of one public point P, for the VRF verifier's c·Y (vrf.ts): a client checks
// many labels under one domain key Y, and c has only 128 bits, so a table of 2^(W−1) multiples per W-bit
// window turns c·Y into ~bits/W additions (no doublings) for a one-off cost of ~bits/W·2^(W−1) additions.
// Signed digits in [−2^(W−1), 2^(W−1)] (a negative one is a negated entry). Variable time: public values only.
import { ed25519 } from '@noble/curves/ed25519.js';

const Point = ed25519.Point;
type Pt = InstanceType<typeof Point>;

export class PointTable {
  /** windows[i][j] = (j + 1)·2^(W·i)·P. */
  private readonly windows: Pt[][] = [];
  private readonly W: bigint;
  private readonly bits: number;

  constructor(point: Pt, bits: number, W = 6) {
    this.W = BigInt(W);
    this.bits = bits;
    const half = 1 << (W - 1);
    let base = point;
    // One more window than bits/W: the top digit's carry.
    for (let i = 0; i <= Math.ceil(bits / W); i++) {
      const row = [base];
      for (let j = 1; j < half; j++) row.push(row[j - 1]!.add(base));
      this.windows.push(row);
      base = row[half - 1]!.double();
    }
  }

  /** n·P for 0 ≤ n < 2^bits. */
  multiply(n: bigint): Pt {
    if (n < 0n || n >> BigInt(this.bits) !== 0n) throw new RangeError(`scalar out of the table's ${this.bits} bits`);
    const mask = (1n << this.W) - 1n;
    const half = 1 << (Number(this.W) - 1);
    let acc = Point.ZERO;
    let carry = 0;
    for (const row of this.windows) {
      let d = Number(n & mask) + carry;
      n >>= this.W;
      carry = 0;
      if (d > half) {
        d -= 2 * half;
        carry = 1;
      }
      if (d > 0) acc = acc.add(row[d - 1]!);
      else if (d < 0) acc = acc.subtract(row[-d - 1]!);
    }
    return acc;
  }
}
