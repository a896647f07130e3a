// One record per domain in kt-heads.json (issue 14 Stage 2): the tree head, the pinned VRF key and the last map
// head side by side, each written without losing the others; VRF keys pinned in the former kt-vrf-keys.json
// are folded into the records once (the record's own key wins) and that file is removed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileKtHeadStore, LEGACY_VRF_KEYS_FILE } from '../../src/client/kt-head-store.ts';
import { signMapHead } from '../../src/transparency/map-head.ts';
import { signTreeHead } from '../../src/transparency/tree-head.ts';

const { privateKey } = generateKeyPairSync('ed25519');
const bytes = (b: number) => new Uint8Array(32).fill(b);

describe('FileKtHeadStore records', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-record-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the tree head, VRF key and map head of a domain together', async () => {
    const s = new FileKtHeadStore(join(dir, 'a', 'kt-heads.json'));
    const mapHead = signMapHead({ domain: 'capulet.lit', epoch: 3, logSize: 9, time: 5, logRoot: bytes(1), root: bytes(2) }, privateKey);
    await s.putMapHead(mapHead);
    assert.equal(await s.get('capulet.lit'), undefined, 'no tree head yet');
    assert.deepEqual(await s.list(), []);
    await s.putVrfKey('capulet.lit', bytes(7));
    const tree = signTreeHead({ domain: 'capulet.lit', size: 9, time: 4, root: bytes(1) }, privateKey);
    await s.put(tree);
    assert.deepEqual(await s.getMapHead('capulet.lit'), mapHead);
    assert.deepEqual(await s.getVrfKey('capulet.lit'), bytes(7));
    assert.deepEqual(await s.get('capulet.lit'), tree);
    assert.deepEqual(await s.listMapHeads(), [mapHead]);
    assert.equal(statSync(s.path).mode & 0o777, 0o600);
  });

  it('folds kt-vrf-keys.json into the records once, then removes it', async () => {
    const path = join(dir, 'b', 'kt-heads.json');
    const s = new FileKtHeadStore(path);
    const tree = signTreeHead({ domain: 'capulet.lit', size: 2, time: 4, root: bytes(1) }, privateKey);
    await s.put(tree);
    await s.putVrfKey('montague.lit', bytes(9));
    const legacy = join(dir, 'b', LEGACY_VRF_KEYS_FILE);
    writeFileSync(legacy, JSON.stringify({ 'capulet.lit': '11'.repeat(32), 'montague.lit': '22'.repeat(32) }), { mode: 0o600 });
    assert.deepEqual(await s.getVrfKey('capulet.lit'), bytes(0x11));
    assert.deepEqual(await s.getVrfKey('montague.lit'), bytes(9), "the record's own key wins");
    assert.equal(existsSync(legacy), false);
    assert.deepEqual(await s.get('capulet.lit'), tree);
    assert.equal(JSON.parse(readFileSync(path, 'utf8'))['capulet.lit'].vrfKey, '11'.repeat(32));
  });
});
