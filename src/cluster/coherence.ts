// Cache coherence across cluster nodes. A module that caches what another node may change (rosters, access
// decisions, node configurations) tells the others when it changes it, and waits for their acknowledgement
// before the change is acknowledged to the client that made it: once the client has its answer, no node
// still answers from the old state. `data` undefined asks a handler to drop everything (the node lost the
// bus and may have missed invalidations).

export type InvalidationHandler = (data: unknown | undefined) => void | Promise<void>;

export interface ClusterCoherence {
  /** Tells every other node; resolves once they acknowledged (or the bound on waiting passed). */
  invalidate(kind: string, data: unknown): Promise<void>;
  onInvalidate(kind: string, handler: InvalidationHandler): void;
}

/** A single node: nobody else caches anything. */
export const singleNode: ClusterCoherence = {
  invalidate: async () => undefined,
  onInvalidate: () => undefined,
};
