// Logs as older migrations stored them and the checks an upgraded store must pass (migrations 6 and 7):
// every leaf byte for byte, proofs against heads signed before the upgrade, the log growing on from them.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { Storage } from '../../src/storage/types.ts';
import { encodeLeaf, type KeyEvent } from '../../src/transparency/leaf.ts';
import { leafHash } from '../../src/transparency/hash.ts';
import { MemoryTree, rootHash } from '../../src/transparency/tree.ts';
import { inclusionProof, verifyInclusion } from '../../src/transparency/inclusion.ts';
import { consistencyProof, verifyConsistency } from '../../src/transparency/consistency.ts';
import { signTreeHead, verifyTreeHead, type SignedTreeHead } from '../../src/transparency/tree-head.ts';
import { item } from '../contract/fixtures.ts';

export const DOMAINS = ['capulet.lit', 'montague.lit'];
const SIZES = [300, 45];
const { privateKey } = generateKeyPairSync('ed25519');

/** Leaves of every shape the compact body has a form for, and some it keeps whole. */
export function event(seq: number, domain: string): KeyEvent {
  const jid = seq % 7 === 0 ? `jüliet${seq % 5}@${domain}` : `user${seq % 11}@${domain}`;
  const hex = Buffer.alloc(32, seq % 256).toString('hex');
  const shapes: Omit<KeyEvent, 'seq' | 'jid'>[] = [
    { type: 'publish', time: 1_764_892_800_000 + seq, node: 'urn:xmpp:pubkey:2', itemId: 'current', payloadHash: new Uint8Array(32).fill(seq % 256), fingerprint: `sha-256:${hex}` },
    { type: 'publish', time: 1_764_892_800_000 + seq, node: 'eu.siacs.conversations.axolotl.bundles:42', itemId: `i${seq}`, payloadHash: new Uint8Array(32).fill(1), fingerprint: `omemo:${hex}` },
    { type: 'retract', time: 1_764_892_800_000 + seq, node: 'urn:xmpp:openpgp:0:public-keys:0123456789abcdef0123456789abcdef01234567', itemId: '2026-01-01T00:00:00Z', fingerprint: 'openpgp-v4:0123456789abcdef0123456789abcdef01234567' },
    { type: 'purge', time: 1_764_892_800_000 + seq, node: 'urn:xmpp:omemo:2:devices', itemId: '' },
    { type: 'delete', time: seq, node: 'urn:xmpp:pubkey:2', itemId: '' },
    // Upper-case hex and an unknown algorithm stay text; a time beyond 48 bits keeps the leaf whole.
    { type: 'publish', time: 1_764_892_800_000, node: 'urn:xmpp:pubkey:1', itemId: 'current', payloadHash: new Uint8Array(32).fill(2), fingerprint: `SHA-256:${hex.toUpperCase()}` },
    { type: 'publish', time: 2 ** 50 + seq, node: 'urn:xmpp:attest:1', itemId: '☃', payloadHash: new Uint8Array(32).fill(3), fingerprint: 'blake3:abc' },
  ];
  return { seq, jid, ...shapes[seq % shapes.length]! };
}

export interface OldLog {
  domain: string;
  leaves: Uint8Array[];
  tree: MemoryTree;
  heads: SignedTreeHead[];
}

/** The logs as migration 5's adapters stored them, and heads signed over them then. */
export async function oldLogs(): Promise<OldLog[]> {
  return Promise.all(DOMAINS.map(async (domain, d) => {
    const tree = new MemoryTree();
    const leaves: Uint8Array[] = [];
    for (let seq = 0; seq < SIZES[d]!; seq++) {
      const leaf = encodeLeaf(event(seq, domain));
      leaves.push(leaf);
      tree.appendLeafInput(leaf);
    }
    const heads = [];
    for (const size of [SIZES[d]!, Math.floor(SIZES[d]! / 2) + 3, 1]) {
      heads.push(signTreeHead({ domain, size, time: 1_764_892_900_000, root: await rootHash(size, tree.read) }, privateKey));
    }
    return { domain, leaves, tree, heads };
  }));
}

/** The rows of migration 5 for a log: [log row id, leaves, perfect subtrees of level >= 1]. */
export function oldRows(log: OldLog) {
  const leafRows = log.leaves.map((leaf, seq) => ({ seq, jid: event(seq, log.domain).jid, hash: log.tree.node({ level: 0, index: seq }), leaf }));
  const nodeRows = log.tree.levels.slice(1).flatMap((l, i) => l.map((hash, idx) => ({ level: i + 1, idx, hash })));
  return { leafRows, nodeRows };
}

export async function checkUpgraded(storage: Storage, logs: OldLog[]): Promise<void> {
  const kt = storage.transparency;
  for (const log of logs) {
    const n = log.leaves.length;
    assert.equal(await kt.size(log.domain), n);
    const entries = [];
    for (let s = 0; s < n; s += 100) entries.push(...(await kt.entries(log.domain, s, s + 100)));
    assert.deepEqual(entries.map((e) => Buffer.from(e.leaf).toString('hex')), log.leaves.map((l) => Buffer.from(l).toString('hex')), `${log.domain}: every leaf as it was`);
    const read = (refs: Parameters<typeof kt.nodes>[1]) => kt.nodes(log.domain, refs);
    for (const head of log.heads) {
      assert.ok(verifyTreeHead(head));
      assert.deepEqual(await rootHash(head.size, read), head.root, `${log.domain}: root of the old head of size ${head.size}`);
      for (const seq of [0, 1, head.size - 1, Math.floor(head.size / 3)].filter((s) => s < head.size)) {
        assert.ok(verifyInclusion(seq, head.size, leafHash(log.leaves[seq]!), await inclusionProof(seq, head.size, read), head.root), `${log.domain}: leaf ${seq} in the old head of size ${head.size}`);
      }
    }
    const [latest, middle] = log.heads;
    assert.ok(verifyConsistency(middle!.size, latest!.size, await consistencyProof(middle!.size, latest!.size, read), middle!.root, latest!.root));
    const jid = event(3, log.domain).jid;
    const of = await kt.entriesOf(log.domain, jid, 0, 1000);
    assert.deepEqual(of.map((e) => e.seq), log.leaves.map((_, seq) => seq).filter((seq) => event(seq, log.domain).jid === jid));
  }
  // The log grows on from the converted one, consistently with the head signed before the upgrade.
  const [log] = logs;
  const owner = event(3, log!.domain).jid;
  await storage.pubsub.createNode({ service: owner, node: 'urn:xmpp:pubkey:2', config: {}, createdAt: 1 });
  for (let i = 0; i < 20; i++) {
    await storage.pubsub.publishItem(item(owner, 'urn:xmpp:pubkey:2', `new${i}`), undefined, {
      domain: log!.domain,
      event: { type: 'publish', time: 1_764_893_000_000 + i, jid: owner, node: 'urn:xmpp:pubkey:2', itemId: `new${i}`, payloadHash: new Uint8Array(32).fill(9), fingerprint: 'sha-256:00' },
    });
  }
  const read = (refs: Parameters<typeof kt.nodes>[1]) => kt.nodes(log!.domain, refs);
  const n = log!.leaves.length + 20;
  assert.equal(await kt.size(log!.domain), n);
  const root = await rootHash(n, read);
  for (const old of log!.heads) assert.ok(verifyConsistency(old.size, n, await consistencyProof(old.size, n, read), old.root, root), `grown log consistent with the old head of size ${old.size}`);
  const reference = new MemoryTree();
  for (const e of await kt.entries(log!.domain, 0, n)) reference.appendLeafInput(e.leaf);
  assert.deepEqual(await rootHash(n, reference.read), root);
}

