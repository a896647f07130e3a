// Map head gossip (issue 14 Stage 2), over real sockets: `kt gossip` publishes the last map head each home
// verified beside its tree heads. Juliet and Romeo looked localhost up on the same server: no split view.
// The Nurse was shown another map of localhost (a second real server of `localhost` on the same data dir: the
// same log key, its own storage, so the same epoch with another root); once she gossips, Romeo's `kt gossip`
// shows the two map heads of epoch 1, both validly signed by localhost's log key, as the proof. Once Romeo's
// map has moved on to epoch 2, the domain cannot prove his epoch 2 extends the Nurse's epoch 1, nor the Nurse's
// map consistent with Romeo's newer log: both are shown as split views too.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestServer } from '../helpers/server.ts';
import { befriend } from '../helpers/roster-setup.ts';
import { KEY_NODE as NODE, twoMapsOfOneDomain, type TwoMaps } from '../helpers/kt-two-maps.ts';
import { parseXml } from '../../src/xml/index.ts';
import { parseMapHead } from '../../src/transparency/map-protocol.ts';
import { verifyMapHead } from '../../src/transparency/map-head.ts';
import { runCli } from './run-cli.ts';

describe('kt gossip of map heads', () => {
  let dir: string;
  let domain: TwoMaps;
  let a: TestServer;
  let b: TestServer;
  const kt = (t: TestServer, who: string, ...args: string[]) =>
    runCli(['kt', ...args, '--jid', `${who}@localhost`, '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, who)], { timeoutMs: 60_000 });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-gossip-map-'));
    domain = await twoMapsOfOneDomain(dir, ['juliet', 'romeo', 'nurse']);
    ({ a, b } = domain);
    const conn = { host: '127.0.0.1', port: a.port, tls: { rejectUnauthorized: false } };
    await befriend(conn, { jid: 'romeo@localhost', password: 'pw' }, { jid: 'juliet@localhost', password: 'pw' }, [], []);
    await befriend(conn, { jid: 'romeo@localhost', password: 'pw' }, { jid: 'nurse@localhost', password: 'pw' }, [], []);
  });
  after(async () => {
    await domain?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes the map heads and finds nothing when everyone saw the same map', async () => {
    for (const who of ['juliet', 'romeo']) assert.equal((await kt(a, who, 'lookup', 'juliet@localhost', NODE)).code, 0);
    const j = await kt(a, 'juliet', 'gossip', '--with', 'romeo@localhost');
    assert.equal(j.code, 0, j.stdout + j.stderr);
    assert.match(j.stdout, /Published 1 tree head and 1 map head to your gossip node\./);
    const r = await kt(a, 'romeo', 'gossip', '--json', '--with', 'juliet@localhost');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.ok, true);
    assert.equal(out.publishedMapHeads, 1);
    assert.deepEqual(out.contacts.map((c: { jid: string; heads: number; mapHeads: number }) => [c.jid, c.heads, c.mapHeads]), [['juliet@localhost', 1, 1]]);
    assert.deepEqual(out.mapSplitViews, []);
  });

  it('shows two map heads of one epoch with different roots as the proof of a split view', async () => {
    const n = await kt(b, 'nurse', 'lookup', 'juliet@localhost', NODE, '--json');
    assert.equal(n.code, 0, n.stderr);
    assert.equal(JSON.parse(n.stdout).epoch, 1);
    assert.equal((await kt(a, 'nurse', 'gossip', '--with', 'romeo@localhost')).code, 5, 'the Nurse sees the split view too');

    const r = await kt(a, 'romeo', 'gossip', '--json');
    assert.equal(r.code, 5, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.ok, false);
    const same = out.mapSplitViews.filter((p: { kind: string }) => p.kind === 'same-epoch');
    assert.equal(same.length, 1);
    const [p] = same;
    assert.equal(p.domain, 'localhost');
    assert.equal(p.sameKey, true);
    assert.deepEqual(p.mapHeads.map((h: { by: string[] }) => h.by.sort()), [['juliet@localhost', 'you'], ['nurse@localhost']]);
    const heads = p.mapHeads.map((h: { xml: string }) => parseMapHead(parseXml(h.xml)));
    for (const h of heads) assert.ok(verifyMapHead(h), 'each head of the proof verifies on its own');
    assert.deepEqual(heads.map((h: { epoch: number }) => h.epoch), [1, 1]);
    assert.notDeepEqual(heads[0].root, heads[1].root);
    // Each map head names a log whose root at size 1 is not the other side's tree head of size 1.
    assert.equal(out.mapSplitViews.filter((q: { kind: string }) => q.kind === 'log-root').length, 2);

    const text = await kt(a, 'romeo', 'gossip');
    assert.equal(text.code, 5);
    assert.match(text.stdout, /SPLIT VIEW of localhost's map: two map heads of epoch 1 with different content\.\n {2}gossiped by [^\n]*\n {4}<map-head [^\n]*\n {2}gossiped by [^\n]*\n {4}<map-head [^\n]*\n {2}Both are signed by localhost's log key [^\n]*: proof that localhost showed different maps to different people\./);
    assert.match(text.stdout, /SPLIT VIEW of localhost's map: a map head built from a log of 1 entries whose root is not the root of the tree head of that size\./);
  });

  it("shows a later epoch the domain cannot prove extends a contact's earlier one, and a map of another log", async () => {
    assert.equal(await domain.grow('a', 'a2'), 2);
    const l = await kt(a, 'romeo', 'lookup', 'juliet@localhost', NODE, '--json');
    assert.equal(l.code, 0, l.stderr);
    assert.deepEqual([JSON.parse(l.stdout).previousEpoch, JSON.parse(l.stdout).epoch], [1, 2]);
    assert.equal((await kt(a, 'romeo', 'head', 'localhost')).code, 0);
    // Juliet's epoch 1 of the same map: the domain proves epoch 2 extends it, and her map's log a prefix of Romeo's.
    const honest = await kt(a, 'romeo', 'gossip', '--json', '--with', 'juliet@localhost');
    assert.equal(honest.code, 0, honest.stdout + honest.stderr);
    assert.deepEqual(JSON.parse(honest.stdout).mapSplitViews, []);

    const r = await kt(a, 'romeo', 'gossip', '--json', '--with', 'nurse@localhost');
    assert.equal(r.code, 5, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout);
    const kinds = out.mapSplitViews.map((p: { kind: string }) => p.kind).sort();
    assert.deepEqual(kinds, ['log-inconsistent', 'not-append-only']);
    const grew = out.mapSplitViews.find((p: { kind: string }) => p.kind === 'not-append-only');
    assert.deepEqual(grew.mapHeads.map((h: { by: string[]; epoch: number }) => [h.by, h.epoch]), [[['nurse@localhost'], 1], [['you'], 2]]);
    assert.match(grew.detail, /two map heads of epoch 1 with different content, the one gossiped by nurse@localhost .* and the one in the append-only proof/);
    const log = out.mapSplitViews.find((p: { kind: string }) => p.kind === 'log-inconsistent');
    assert.deepEqual([log.mapHeads[0].by, log.mapHeads[0].logSize, log.treeHead.by, log.treeHead.size], [['nurse@localhost'], 1, ['you'], 2]);

    const text = await kt(a, 'romeo', 'gossip', '--with', 'nurse@localhost');
    assert.match(text.stdout, /SPLIT VIEW of localhost's map: a map head of epoch 2 that localhost cannot prove extends the map head of epoch 1\./);
    assert.match(text.stdout, /SPLIT VIEW of localhost's map: a map head built from a log of 1 entries that localhost cannot prove consistent with the tree head of size 2\./);
  });
});
