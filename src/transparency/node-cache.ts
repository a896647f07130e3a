// Upper perfect subtrees of a log, kept in memory for proofs. A perfect subtree never changes once its
// last leaf is committed, so a hash read from committed storage stays right for the log's life; only the
// upper levels are kept (one hash per 2^(minLevel-1) leaves: 2 MB at 10^6 leaves with the default, in one
// buffer per level), the lower ones a proof needs are read in one call. Each stored read costs several
// microseconds; this leaves a proof one read: a level-3 subtree and 8 leaves. Fill it only from reads of
// committed data: a hash computed inside a write transaction may still roll back.
import type { NodeRef } from './tree.ts';

/** The hashes of one level: 32 bytes per index, and which indices are filled. */
class Level {
  data = Buffer.alloc(0);
  filled = new Uint8Array(0);

  get(index: number): Uint8Array | undefined {
    if (!((this.filled[index >> 3] ?? 0) & (1 << (index & 7)))) return undefined;
    return new Uint8Array(this.data.buffer, this.data.byteOffset + index * 32, 32);
  }

  set(index: number, h: Uint8Array): void {
    if ((index + 1) * 32 > this.data.length) {
      // Doubling: earlier views keep the old buffer, whose bytes never change.
      const data = Buffer.alloc(Math.max(1024, (index + 1) * 64));
      this.data.copy(data);
      this.data = data;
      const filled = new Uint8Array(data.length / 256 + 1);
      filled.set(this.filled);
      this.filled = filled;
    }
    this.data.set(h, index * 32);
    this.filled[index >> 3]! |= 1 << (index & 7);
  }
}

export class CommittedNodes {
  private readonly levels: Level[] = [];

  constructor(readonly minLevel = 4) {}

  /** Keeps a committed subtree's hash (levels below minLevel are not kept). */
  put(ref: NodeRef, hash: Uint8Array): void {
    if (ref.level >= this.minLevel) (this.levels[ref.level] ??= new Level()).set(ref.index, hash);
  }

  /** The hashes of `refs`: cached ones from memory, the rest from `fetch` (one call, in order), then kept. */
  read(refs: NodeRef[], fetch: (missing: NodeRef[]) => Uint8Array[]): Uint8Array[] {
    const { out, missing } = this.lookup(refs);
    return missing.length ? this.keep(refs, out, missing, fetch(missing.map((i) => refs[i]!))) : (out as Uint8Array[]);
  }

  /** Same, for an asynchronous store. */
  async readAsync(refs: NodeRef[], fetch: (missing: NodeRef[]) => Promise<Uint8Array[]>): Promise<Uint8Array[]> {
    const { out, missing } = this.lookup(refs);
    return missing.length ? this.keep(refs, out, missing, await fetch(missing.map((i) => refs[i]!))) : (out as Uint8Array[]);
  }

  private lookup(refs: NodeRef[]): { out: (Uint8Array | undefined)[]; missing: number[] } {
    const out = refs.map((r) => (r.level >= this.minLevel ? this.levels[r.level]?.get(r.index) : undefined));
    const missing: number[] = [];
    out.forEach((h, i) => h === undefined && missing.push(i));
    return { out, missing };
  }

  private keep(refs: NodeRef[], out: (Uint8Array | undefined)[], missing: number[], fetched: Uint8Array[]): Uint8Array[] {
    missing.forEach((i, k) => {
      const ref = refs[i]!;
      out[i] = fetched[k]!;
      this.put(ref, fetched[k]!);
    });
    return out as Uint8Array[];
  }
}
