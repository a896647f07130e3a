// Labels of the verifiable map are 256-bit strings read most significant bit first: bit i of a label is bit
// (7 - i % 8) of byte i / 8. A node of the tree at depth d is named by the first d bits of any label under it.
export const LABEL_BYTES = 32;
export const LABEL_BITS = 256;

export function bit(label: Uint8Array, i: number): 0 | 1 {
  return ((label[i >> 3]! >> (7 - (i & 7))) & 1) as 0 | 1;
}

/** Whether a and b agree on their first `depth` bits. */
export function sharesPrefix(a: Uint8Array, b: Uint8Array, depth: number): boolean {
  const full = depth >> 3;
  for (let i = 0; i < full; i++) if (a[i] !== b[i]) return false;
  const rest = depth & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[full]! & mask) === (b[full]! & mask);
}

/** The smallest and largest labels under a node: its prefix followed by all zeros, or all ones. */
export function prefixBounds(prefix: Uint8Array, depth: number): { lo: Uint8Array; hi: Uint8Array } {
  const lo = new Uint8Array(LABEL_BYTES);
  const hi = new Uint8Array(LABEL_BYTES).fill(0xff);
  const full = depth >> 3;
  lo.set(prefix.subarray(0, full));
  hi.set(prefix.subarray(0, full));
  const rest = depth & 7;
  if (rest !== 0) {
    const mask = (0xff << (8 - rest)) & 0xff;
    lo[full] = prefix[full]! & mask;
    hi[full] = (prefix[full]! & mask) | (~mask & 0xff);
  }
  return { lo, hi };
}

/** The prefix of the child on side `side` of the node (prefix, depth): the prefix with bit `depth` set to side. */
export function childPrefix(prefix: Uint8Array, depth: number, side: 0 | 1): Uint8Array {
  const c = new Uint8Array(LABEL_BYTES);
  c.set(prefix.subarray(0, LABEL_BYTES));
  const m = 1 << (7 - (depth & 7));
  if (side) c[depth >> 3]! |= m;
  else c[depth >> 3]! &= ~m & 0xff;
  return c;
}

/** Unsigned lexicographic order of two labels (the order of the tree's leaves from left to right). */
export function compareLabels(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** A node's key in caches: its depth and prefix bits (the bits past the depth zeroed). */
export function nodeKey(prefix: Uint8Array, depth: number): string {
  return `${depth}:${Buffer.from(prefixBounds(prefix, depth).lo.subarray(0, (depth + 7) >> 3)).toString('hex')}`;
}

/** The first index of `sorted` (by label) whose label is >= `label`. */
export function lowerBound(sorted: readonly { label: Uint8Array }[], label: Uint8Array): number {
  let a = 0;
  let b = sorted.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (compareLabels(sorted[m]!.label, label) < 0) a = m + 1;
    else b = m;
  }
  return a;
}
