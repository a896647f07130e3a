// The TransparencyStore contract (issue 14): a key event given to a pubsub write is appended to its
// domain's log in the same transaction, exactly when the write changed something, and the stored perfect
// subtrees give the RFC 9162 root. Part of the storage contract (./storage-contract.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LogAppend, Storage } from '../../src/storage/types.ts';
import { decodeLeaf, encodeLeaf, type KeyEventType } from '../../src/transparency/leaf.ts';
import { leafHash } from '../../src/transparency/hash.ts';
import { MemoryTree, referenceRoot, rootHash } from '../../src/transparency/tree.ts';
import { inclusionProof, verifyInclusion } from '../../src/transparency/inclusion.ts';
import { item } from './fixtures.ts';
import { SubtreeNotFoundError } from '../../src/storage/errors.ts';

const DOMAIN = 'capulet.lit';
const JULIET = 'juliet@capulet.lit';
const NODE = 'urn:xmpp:pubkey:2';
const now = 1_700_000_000_000;

function log(type: KeyEventType, jid = JULIET, itemId = 'current', domain = DOMAIN): LogAppend {
  return { domain, event: { type, time: now, jid, node: NODE, itemId, ...(type === 'publish' ? { payloadHash: new Uint8Array(32).fill(7), fingerprint: 'sha-256:ab' } : {}) } };
}

export function transparencyContract(storage: () => Storage): void {
  describe('transparency log', () => {
    const pubsub = () => storage().pubsub;
    const kt = () => storage().transparency;
    const node = (service: string) => pubsub().createNode({ service, node: NODE, config: {}, createdAt: now });

    it('starts empty', async () => {
      assert.equal(await kt().size(DOMAIN), 0);
      assert.deepEqual(await kt().entries(DOMAIN, 0, 10), []);
      await assert.rejects(kt().nodes(DOMAIN, [{ level: 0, index: 0 }]), SubtreeNotFoundError);
    });

    it('appends a leaf with each publish, numbered from 0, whose bytes decode to the event', async () => {
      await node(JULIET);
      await pubsub().publishItem(item(JULIET, NODE, 'current'), 1, log('publish'));
      await pubsub().publishItem(item(JULIET, NODE, 'current'), 1, log('publish'));
      assert.equal(await kt().size(DOMAIN), 2);
      const entries = await kt().entries(DOMAIN, 0, 10);
      assert.deepEqual(entries.map((e) => e.seq), [0, 1]);
      const e1 = decodeLeaf(entries[1]!.leaf);
      assert.equal(e1.seq, 1);
      assert.equal(e1.type, 'publish');
      assert.equal(e1.fingerprint, 'sha-256:ab');
      assert.deepEqual(entries[1]!.leaf, encodeLeaf({ ...log('publish').event, seq: 1 }));
      // A write without a log argument appends nothing.
      await pubsub().publishItem(item(JULIET, NODE, 'other'), undefined);
      assert.equal(await kt().size(DOMAIN), 2);
    });

    it('appends nothing for a write that changed nothing, and nothing when the write fails', async () => {
      await assert.rejects(pubsub().publishItem(item(JULIET, NODE, 'current'), undefined, log('publish')));
      assert.equal(await pubsub().retractItem(JULIET, NODE, 'current', log('retract')), false);
      assert.equal(await pubsub().purgeNode(JULIET, NODE, log('purge')), 0);
      assert.equal(await pubsub().deleteNode(JULIET, NODE, log('delete')), false);
      assert.equal(await kt().size(DOMAIN), 0);
      await node(JULIET);
      assert.equal(await pubsub().retractItem(JULIET, NODE, 'nope', log('retract', JULIET, 'nope')), false);
      assert.equal(await kt().size(DOMAIN), 0);
    });

    it('logs retract, purge (even of an empty node) and node deletion', async () => {
      await node(JULIET);
      await pubsub().publishItem(item(JULIET, NODE, 'current'), undefined, log('publish'));
      assert.equal(await pubsub().retractItem(JULIET, NODE, 'current', log('retract')), true);
      assert.equal(await pubsub().purgeNode(JULIET, NODE, log('purge', JULIET, '')), 0);
      assert.equal(await pubsub().deleteNode(JULIET, NODE, log('delete', JULIET, '')), true);
      const types = (await kt().entries(DOMAIN, 0, 10)).map((e) => decodeLeaf(e.leaf).type);
      assert.deepEqual(types, ['publish', 'retract', 'purge', 'delete']);
    });

    it('a failing write issued alongside others leaves no leaf and no gap', async () => {
      await node(JULIET);
      const results = await Promise.allSettled([
        pubsub().publishItem(item(JULIET, NODE, 'a'), undefined, log('publish', JULIET, 'a')),
        pubsub().publishItem(item(JULIET, 'missing', 'b'), undefined, log('publish', JULIET, 'b')),
        pubsub().publishItem(item(JULIET, NODE, 'c'), undefined, log('publish', JULIET, 'c')),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
      const entries = await kt().entries(DOMAIN, 0, 10);
      assert.deepEqual(entries.map((e) => [e.seq, decodeLeaf(e.leaf).itemId]), [[0, 'a'], [1, 'c']]);
    });

    it('stores every perfect subtree, so roots and proofs match the RFC 9162 definition', async () => {
      await node(JULIET);
      const writes = [];
      for (let i = 0; i < 37; i++) writes.push(pubsub().publishItem(item(JULIET, NODE, `i${i}`), undefined, log('publish', JULIET, `i${i}`)));
      await Promise.all(writes);
      const entries = await kt().entries(DOMAIN, 0, 100);
      assert.equal(entries.length, 37);
      const hashes = entries.map((e) => leafHash(e.leaf));
      const read = (refs: Parameters<Storage['transparency']['nodes']>[1]) => kt().nodes(DOMAIN, refs);
      const reference = new MemoryTree();
      for (const h of hashes) reference.append(h);
      for (const n of [1, 2, 3, 8, 16, 31, 32, 37]) assert.deepEqual(await rootHash(n, read), referenceRoot(hashes.slice(0, n)), `root of ${n}`);
      for (let level = 0; level < reference.levels.length; level++) {
        const want = reference.levels[level]!;
        assert.deepEqual(await kt().nodes(DOMAIN, want.map((_, index) => ({ level, index }))), want, `level ${level}`);
      }
      // Not complete yet: leaves 32..39 need 40 leaves.
      await assert.rejects(kt().nodes(DOMAIN, [{ level: 3, index: 4 }]), SubtreeNotFoundError);
      const root = referenceRoot(hashes);
      const proof = await inclusionProof(20, 37, read);
      assert.ok(verifyInclusion(20, 37, hashes[20]!, proof, root));
    });

    it('keeps one log per domain, and finds the entries of one JID', async () => {
      await node(JULIET);
      await node('romeo@montague.lit');
      await pubsub().publishItem(item(JULIET, NODE, 'a'), undefined, log('publish', JULIET, 'a'));
      await pubsub().publishItem(item('romeo@montague.lit', NODE, 'r'), undefined, log('publish', 'romeo@montague.lit', 'r', 'montague.lit'));
      await pubsub().publishItem(item(JULIET, NODE, 'b'), undefined, log('publish', JULIET, 'b'));
      await pubsub().createNode({ service: 'nurse@capulet.lit', node: NODE, config: {}, createdAt: now });
      await pubsub().publishItem(item('nurse@capulet.lit', NODE, 'n'), undefined, log('publish', 'nurse@capulet.lit', 'n'));
      await pubsub().publishItem(item(JULIET, NODE, 'c'), undefined, log('publish', JULIET, 'c'));
      assert.equal(await kt().size(DOMAIN), 4);
      assert.equal(await kt().size('montague.lit'), 1);
      const mine = await kt().entriesOf(DOMAIN, JULIET, 0, 10);
      assert.deepEqual(mine.map((e) => e.seq), [0, 1, 3]);
      assert.deepEqual((await kt().entriesOf(DOMAIN, JULIET, 1, 1)).map((e) => e.seq), [1]);
      assert.deepEqual((await kt().entries(DOMAIN, 1, 3)).map((e) => e.seq), [1, 2]);
      assert.deepEqual(await kt().entriesOf('montague.lit', JULIET, 0, 10), []);
    });

    it('keeps the log when the account and its nodes are deleted (it is append-only)', async () => {
      await node(JULIET);
      await pubsub().publishItem(item(JULIET, NODE, 'a'), undefined, log('publish', JULIET, 'a'));
      await pubsub().deleteService(JULIET);
      assert.equal(await kt().size(DOMAIN), 1);
    });
  });
}
