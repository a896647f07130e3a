// Upper perfect subtrees of a log, kept in memory for proofs. A perfect subtree never changes once its
// last leaf is committed, so a hash read from committed storage stays right for the log's life; only the
// upper levels are kept (2^-minLevel of the leaves: about 4,000 hashes at 10^6 leaves with the default),
// the lower ones a proof needs are read in one call. Fill it only from reads of committed data: a hash
// computed inside a write transaction may still roll back.
import type { NodeRef } from './tree.ts';

export class CommittedNodes {
  private readonly levels: Map<number, Uint8Array>[] = [];

  constructor(readonly minLevel = 8) {}

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
      if (ref.level >= this.minLevel) (this.levels[ref.level] ??= new Map()).set(ref.index, fetched[k]!);
    });
    return out as Uint8Array[];
  }
}
