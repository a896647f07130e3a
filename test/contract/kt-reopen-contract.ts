// The SQL adapters keep the leaf hashes of every full block in memory (transparency/node-cache.ts), filled
// by committed appends in one process and from the block rows after a restart: the proofs a storage serves
// must be the same either way, and verify against a tree head signed before the restart.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { LogAppend, Storage } from '../../src/storage/types.ts';
import { leafHash } from '../../src/transparency/hash.ts';
import { rootHash, type NodeRef } from '../../src/transparency/tree.ts';
import { inclusionProof, verifyInclusion } from '../../src/transparency/inclusion.ts';
import { consistencyProof, verifyConsistency } from '../../src/transparency/consistency.ts';
import { signTreeHead, verifyTreeHead } from '../../src/transparency/tree-head.ts';
import { item } from './fixtures.ts';

const DOMAIN = 'capulet.lit';
const OWNER = `juliet@${DOMAIN}`;
const NODE = 'urn:xmpp:pubkey:2';
// 10 full blocks of 8 and 3 leaves of a growing last block.
const LEAVES = 83;

const keyEvent = (itemId: string): LogAppend => ({
  domain: DOMAIN,
  event: { type: 'publish', time: 1_764_892_800_000, jid: OWNER, node: NODE, itemId, payloadHash: new Uint8Array(32).fill(7), fingerprint: 'sha-256:ab' },
});

type Proofs = { root: Uint8Array; inclusion: Uint8Array[][]; consistency: Uint8Array[][] };

async function proofs(storage: Storage, n: number): Promise<Proofs> {
  const read = (refs: NodeRef[]) => storage.transparency.nodes(DOMAIN, refs);
  const inclusion: Uint8Array[][] = [];
  const consistency: Uint8Array[][] = [];
  for (let m = 0; m < n; m++) inclusion.push(await inclusionProof(m, n, read));
  for (let m = 1; m < n; m++) consistency.push(await consistencyProof(m, n, read));
  return { root: await rootHash(n, read), inclusion, consistency };
}

export interface ReopenTarget {
  /** A location for a new, empty database. */
  create(): Promise<string> | string;
  open(location: string): Promise<Storage> | Storage;
  /** Removes what create made, where the test must. */
  remove?(location: string): void;
}

export function ktReopenContract(name: string, target: ReopenTarget): void {
  describe(`${name}: transparency proofs after a restart`, () => {
    it('are identical to those served before it, and verify against the head signed before it', async () => {
      const location = await target.create();
      const { privateKey } = generateKeyPairSync('ed25519');
      try {
        let storage = await target.open(location);
        let before: Proofs;
        try {
          await storage.pubsub.createNode({ service: OWNER, node: NODE, config: {}, createdAt: 1 });
          // A proof before most appends loads the tree early; later committed appends extend it in memory.
          for (let i = 0; i < 20; i++) await storage.pubsub.publishItem(item(OWNER, NODE, `k${i}`), undefined, keyEvent(`k${i}`));
          await proofs(storage, 20);
          for (let i = 20; i < LEAVES; i++) await storage.pubsub.publishItem(item(OWNER, NODE, `k${i}`), undefined, keyEvent(`k${i}`));
          assert.equal(await storage.transparency.size(DOMAIN), LEAVES);
          before = await proofs(storage, LEAVES);
        } finally {
          await storage.close();
        }
        const head = signTreeHead({ domain: DOMAIN, size: LEAVES, time: 1_764_892_800_000, root: before.root }, privateKey);

        storage = await target.open(location);
        try {
          const after = await proofs(storage, LEAVES);
          assert.deepEqual(after, before);
          assert.ok(verifyTreeHead(head));
          const entries = await storage.transparency.entries(DOMAIN, 0, LEAVES);
          assert.equal(entries.length, LEAVES);
          for (const e of entries) assert.ok(verifyInclusion(e.seq, LEAVES, leafHash(e.leaf), after.inclusion[e.seq]!, head.root), `inclusion of leaf ${e.seq}`);
          for (let m = 1; m < LEAVES; m++) {
            const old = await rootHash(m, (refs) => storage.transparency.nodes(DOMAIN, refs));
            assert.ok(verifyConsistency(m, LEAVES, after.consistency[m - 1]!, old, head.root), `consistency ${m} → ${LEAVES}`);
          }
        } finally {
          await storage.close();
        }
      } finally {
        target.remove?.(location);
      }
    });
  });
}
