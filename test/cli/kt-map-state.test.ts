// The client's map state per domain (issue 14 Stage 2), over real sockets: `kt lookup` keeps the last map head
// verified in the domain's record of kt-heads.json and checks every later one against it and against the tree
// head kept there. The misbehaving domain is played by two real servers of `localhost` started on one data
// dir, so they sign with the same log key and VRF key, each with its own storage: a domain keeping two maps
// and showing one or the other. Each check is seen to refuse what an honest domain never serves: a newer
// epoch whose append-only proof fails, the same epoch with another root (split view, both signed heads
// printed), an older epoch (rollback), a map head whose log is not the tree head's.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestServer } from '../helpers/server.ts';
import { KEY_NODE as NODE, twoMapsOfOneDomain, type TwoMaps } from '../helpers/kt-two-maps.ts';
import { KT_HEADS_FILE } from '../../src/cli/kt-paths.ts';
import { parseXml } from '../../src/xml/index.ts';
import { parseMapHead } from '../../src/transparency/map-protocol.ts';
import { verifyMapHead } from '../../src/transparency/map-head.ts';
import { runCli } from './run-cli.ts';

describe('kt lookup keeps the last map head', () => {
  let dir: string;
  let domain: TwoMaps;
  let a: TestServer;
  let b: TestServer;
  const kt = (t: TestServer, home: string, ...args: string[]) =>
    runCli(['kt', ...args, '--jid', 'romeo@localhost', '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, home)], { timeoutMs: 60_000 });
  const lookup = (t: TestServer, home: string, ...extra: string[]) => kt(t, home, 'lookup', 'juliet@localhost', NODE, ...extra);
  const record = (home: string) => JSON.parse(readFileSync(join(dir, home, KT_HEADS_FILE), 'utf8')).localhost;
  /** The signed map heads in the proof printed with a failure, parsed and checked. */
  const printedHeads = (stderr: string) => [...stderr.matchAll(/<map-head [^>]*\/>/g)].map((m) => {
    const h = parseMapHead(parseXml(m[0]));
    assert.ok(verifyMapHead(h), 'each printed head is validly signed');
    return h;
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-map-state-'));
    // One key event on each, not the same one: both maps are at epoch 1, with different roots.
    domain = await twoMapsOfOneDomain(dir, ['juliet', 'romeo']);
    ({ a, b } = domain);
  });
  after(async () => {
    await domain?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the same epoch with another root as a split view, printing both signed heads', async () => {
    const first = await lookup(a, 'split');
    assert.equal(first.code, 0, first.stderr);
    const r = record('split');
    assert.equal(r.mapHead.epoch, 1);
    assert.equal(r.size, 1, 'the first lookup verified and kept a tree head too');
    assert.match(r.vrfKey, /^[0-9a-f]{64}$/);
    const again = await lookup(a, 'split');
    assert.equal(again.code, 0, 'the same head again is fine');

    const other = await lookup(b, 'split', '--json');
    assert.equal(other.code, 5, other.stdout + other.stderr);
    assert.match(other.stderr, /failed verification \(split-view\): SPLIT VIEW of localhost's map: two map heads of epoch 1 with different content[^\n]*both are signed by localhost's log key/);
    const [stored, served] = printedHeads(other.stderr);
    assert.equal(stored!.epoch, 1);
    assert.equal(served!.epoch, 1);
    assert.notDeepEqual(stored!.root, served!.root);
    assert.deepEqual(stored!.key, served!.key);
    const out = JSON.parse(other.stdout);
    assert.equal(out.code, 'split-view');
    assert.equal(out.proof.length, 2);
    assert.equal(record('split').mapHead.root, r.mapHead.root, 'the stored head stays');
  });

  it("refuses a map head whose log is not the tree head's: same size, another root", async () => {
    assert.equal((await kt(b, 'mixed', 'head', 'localhost')).code, 0);
    const r = await lookup(a, 'mixed');
    assert.equal(r.code, 5, r.stdout + r.stderr);
    assert.match(r.stderr, /\(log-mismatch\): the map head of localhost \(epoch 1, log size 1[^\n]*names a log that has another root than the tree head of size 1/);
    assert.match(r.stderr, /<tree-head [^>]*size="1"/);
    assert.equal(printedHeads(r.stderr).length, 1);
    assert.equal(record('mixed').mapHead, undefined, 'nothing stored');
  });

  describe('once the map of A grew', () => {
    before(async () => {
      // Homes that verified epoch 1 of A before it grew, and one that was shown B's epoch 1.
      for (const home of ['honest', 'dropped', 'halves']) assert.equal((await lookup(a, home)).code, 0);
      assert.equal((await lookup(b, 'forked')).code, 0);
      assert.equal(await domain.grow('a', 'a2'), 2);
      assert.equal(await domain.grow('a', 'a3'), 3);
    });

    it('proves a newer epoch append-only from the stored one, then keeps it', async () => {
      const r = await lookup(a, 'honest', '--json');
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.deepEqual([out.previousEpoch, out.epoch, out.inserted, out.latest], [1, 3, 2, 3]);
      assert.equal(record('honest').mapHead.epoch, 3);
      const text = await lookup(a, 'honest');
      assert.equal(text.code, 0, text.stderr);
      assert.doesNotMatch(text.stdout, /grew append-only/, 'same epoch: nothing to prove');
    });

    it('asks for the proof in halves when the domain refuses the span as too long', async () => {
      const store = a.storage.ktMap!;
      const honest = store.inserted;
      const asked: [number, number][] = [];
      // The server refuses an answer with more entries than its bound: make every span of 2+ epochs "too long".
      store.inserted = async (d, after, upTo, limit) => {
        asked.push([after, upTo]);
        const got = await honest.call(store, d, after, upTo, limit);
        return upTo - after > 1 ? Array.from({ length: limit }, () => got[0]!) : got;
      };
      try {
        const r = await lookup(a, 'halves', '--json');
        assert.equal(r.code, 0, r.stderr);
        // The second [2, 3]: answering 1→2, the server reads the entries after epoch 2 to read epoch 1's map
        // through the latest one (epoch-view.ts).
        assert.deepEqual(asked, [[1, 3], [1, 2], [2, 3], [2, 3]]);
        assert.equal(JSON.parse(r.stdout).inserted, 2);
      } finally {
        store.inserted = honest;
      }
    });

    it("refuses a newer epoch whose append-only proof does not hold ('not-append-only')", async () => {
      const store = a.storage.ktMap!;
      const honest = store.inserted;
      // An append-only proof that leaves out one inserted entry: the new root cannot be rebuilt.
      store.inserted = async (...args) => (await honest.apply(store, args)).slice(1);
      try {
        const r = await lookup(a, 'dropped');
        assert.equal(r.code, 5, r.stdout + r.stderr);
        assert.match(r.stderr, /\(not-append-only\): the map of epoch 3 is not the map of epoch 1 plus new entries/);
        assert.equal(record('dropped').mapHead.epoch, 1, 'the stored head stays');
      } finally {
        store.inserted = honest;
      }
    });

    it("refuses an append-only proof from another epoch-1 head than the stored one ('split-view')", async () => {
      const r = await lookup(a, 'forked');
      assert.equal(r.code, 5, r.stdout + r.stderr);
      assert.match(r.stderr, /\(split-view\): SPLIT VIEW of localhost's map: two map heads of epoch 1 with different content, the one verified before [^\n]* and the one in the append-only proof/);
      assert.equal(printedHeads(r.stderr).length, 2);
    });

    it("refuses an older epoch than the stored one ('rollback')", async () => {
      const r = await lookup(b, 'honest');
      assert.equal(r.code, 5, r.stdout + r.stderr);
      assert.match(r.stderr, /\(rollback\): localhost serves map epoch 1, but epoch 3 was verified before/);
      assert.equal(record('honest').mapHead.epoch, 3);
    });

    it("refuses a map head whose log the domain cannot prove consistent with the stored tree head ('log-mismatch')", async () => {
      assert.equal((await kt(b, 'mixed2', 'head', 'localhost')).code, 0);
      const r = await lookup(a, 'mixed2');
      assert.equal(r.code, 5, r.stdout + r.stderr);
      assert.match(r.stderr, /\(log-mismatch\): the map head of localhost \(epoch 3, log size 3[^\n]*names a log that the domain cannot prove consistent with the tree head of size 1/);
    });
  });
});
