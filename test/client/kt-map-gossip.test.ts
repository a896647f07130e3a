// The map heads of a gossip payload (issue 14 Stage 2): parsed beside the tree heads, a badly signed one
// reported and not used; split views between map heads of one epoch and between a map head and a tree head of
// its log size; heads that say the same merged with who saw them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { buildGossip, parseGossip } from '../../src/client/kt-gossip.ts';
import { mapHeadSplits, witnessedMapHeads } from '../../src/client/kt-map-gossip.ts';
import { witnessed } from '../../src/client/kt-gossip.ts';
import { signMapHead, type SignedMapHead } from '../../src/transparency/map-head.ts';
import { signTreeHead } from '../../src/transparency/tree-head.ts';

const { privateKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519').privateKey;
const bytes = (b: number) => new Uint8Array(32).fill(b);
const map = (epoch: number, root: number, logRoot = 1, key = privateKey): SignedMapHead =>
  signMapHead({ domain: 'capulet.lit', epoch, logSize: 4, time: 1000 + epoch, logRoot: bytes(logRoot), root: bytes(root) }, key);
const tree = (root: number) => signTreeHead({ domain: 'capulet.lit', size: 4, time: 999, root: bytes(root) }, privateKey);

describe('map heads in gossip', () => {
  it('parses them beside the tree heads and reports a badly signed one', () => {
    const forged = { ...map(2, 7), root: bytes(8) };
    const g = parseGossip(buildGossip([tree(1)], [map(1, 5), forged]));
    assert.equal(g.heads.length, 1);
    assert.deepEqual(g.mapHeads.map((h) => h.epoch), [1]);
    assert.deepEqual(g.invalid, ['a map head of capulet.lit (epoch 2) whose signature does not verify']);
    assert.deepEqual(parseGossip(buildGossip([tree(1)])).mapHeads, [], 'a payload of tree heads only');
  });

  it('finds same-epoch and log-root split views, and merges heads that say the same', () => {
    const seen = witnessedMapHeads([{ head: map(1, 5), by: 'you' }, { head: map(1, 5), by: 'nurse' }, { head: map(2, 6), by: 'nurse' }]);
    assert.deepEqual(seen.map((w) => w.by), [['you', 'nurse'], ['nurse']]);
    assert.deepEqual(mapHeadSplits(seen, witnessed([{ head: tree(1), by: 'you' }])), [], 'the tree head of size 4 has the map heads\' log root');

    const splits = mapHeadSplits(witnessedMapHeads([{ head: map(1, 5), by: 'you' }, { head: map(1, 9), by: 'nurse' }, { head: map(1, 9, 1, other), by: 'paris' }]), []);
    assert.deepEqual(splits.map((s) => [s.kind, s.sameKey]), [['same-epoch', true], ['same-epoch', false]]);

    const logRoot = mapHeadSplits(witnessedMapHeads([{ head: map(3, 5, 2), by: 'you' }]), witnessed([{ head: tree(1), by: 'nurse' }]));
    assert.equal(logRoot.length, 1);
    assert.equal(logRoot[0]!.kind, 'log-root');
  });
});
