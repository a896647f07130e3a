// Head gossip (issue 14): Juliet and Romeo verify the same head of localhost and gossip it: no split view.
// Then the server (patched in the test: its transparency store hands back a rewritten subtree hash while the
// Nurse asks, so the domain signs a head of the same size over another root) shows the Nurse another log. Her
// head verifies on its own (first use); once she gossips it, Romeo's `kt gossip` finds the two heads, both
// validly signed by the domain's log key, and prints them as the proof, with who gossiped which.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from '../helpers/server.ts';
import { befriend } from '../helpers/roster-setup.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { transparencyModule } from '../../src/server/modules/transparency/index.ts';
import { parseTreeHead } from '../../src/transparency/protocol.ts';
import { verifyTreeHead } from '../../src/transparency/tree-head.ts';
import { parseXml } from '../../src/xml/index.ts';
import { runCli } from './run-cli.ts';

const publish = (n: number) => `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:pubkey:2'><item id='k${n}'><pubkey xmlns='urn:xmpp:pubkey:2'/></item></publish></pubsub></iq>`;

describe('kt gossip', () => {
  let dir: string;
  let t: TestServer;
  const sessions = rawSessions(() => t);
  const kt = (who: string, args: string[]) =>
    runCli(['kt', ...args, '--jid', `${who}@localhost`, '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, who)], { timeoutMs: 60_000 });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-gossip-'));
    t = await startTestServer({
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw', 'nurse@localhost': 'pw' },
      modules: [...defaultModules(), transparencyModule({ dataDir: join(dir, 'data'), epochMs: 3_600_000 })],
    });
    const conn = { host: '127.0.0.1', port: t.port, tls: { rejectUnauthorized: false } };
    await befriend(conn, { jid: 'romeo@localhost', password: 'pw' }, { jid: 'juliet@localhost', password: 'pw' }, [], []);
    await befriend(conn, { jid: 'romeo@localhost', password: 'pw' }, { jid: 'nurse@localhost', password: 'pw' }, [], []);
    const juliet = await sessions.login('juliet', 'r');
    for (let i = 0; i < 3; i++) assert.equal((await juliet.iq(publish(i))).attrs.type, 'result');
  });
  after(async () => {
    sessions.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds nothing when everyone saw the same log', async () => {
    for (const who of ['juliet', 'romeo']) assert.equal((await kt(who, ['head', 'localhost'])).code, 0);
    const j = await kt('juliet', ['gossip', '--with', 'romeo@localhost']);
    assert.equal(j.code, 0, j.stdout + j.stderr);
    const r = await kt('romeo', ['gossip', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.ok, true);
    assert.equal(out.published, 1);
    // The roster decides whom to ask: Juliet gossiped one head, the Nurse has no gossip node yet.
    assert.deepEqual(out.contacts.map((c: { jid: string; heads: number }) => [c.jid, c.heads]).sort(), [['juliet@localhost', 1], ['nurse@localhost', 0]]);
  });

  it('shows the proof of a split view when the domain showed the Nurse another log', async () => {
    const store = t.storage.transparency;
    const honest = store.nodes.bind(store);
    store.nodes = async (d, refs) => (await honest(d, refs)).map((h, i) => (i === 0 ? h.map((b) => b ^ 0xff) : h));
    try {
      const n = await kt('nurse', ['head', 'localhost', '--json']);
      assert.equal(n.code, 0, n.stderr);
      assert.equal(JSON.parse(n.stdout).size, 3);
    } finally {
      store.nodes = honest;
    }
    assert.equal((await kt('nurse', ['gossip', '--with', 'romeo@localhost'])).code, 5, 'the Nurse sees the split view too');

    const r = await kt('romeo', ['gossip', '--json']);
    assert.equal(r.code, 5, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.ok, false);
    assert.equal(out.splitViews.length, 1);
    const [p] = out.splitViews;
    assert.equal(p.domain, 'localhost');
    assert.equal(p.kind, 'same-size');
    assert.equal(p.sameKey, true);
    const [a, b] = p.heads;
    assert.deepEqual([a.by.sort(), b.by], [['juliet@localhost', 'you'], ['nurse@localhost']]);
    assert.equal(a.size, b.size);
    assert.notEqual(a.root, b.root);
    // The proof stands on its own: both heads verify with the key they carry, and it is the same key.
    for (const h of [a, b]) assert.ok(verifyTreeHead(parseTreeHead(parseXml(h.xml))));
    assert.equal(a.logKey, b.logKey);

    const text = await kt('romeo', ['gossip']);
    assert.equal(text.code, 5);
    assert.match(text.stdout, /SPLIT VIEW of localhost: two heads of size 3 with different roots\./);
    assert.match(text.stdout, /gossiped by nurse@localhost: size 3, root [0-9a-f]{64}, time .*, signature [A-Za-z0-9+/=]{88}/);
    assert.match(text.stdout, /proof that localhost showed different logs to different people/);
  });

  it('shows a larger head that is not an extension of the smaller one as an inconsistent split view', async () => {
    const juliet = await sessions.login('juliet', 'later');
    assert.equal((await juliet.iq(publish(3))).attrs.type, 'result');
    // The Nurse starts afresh, and is shown a forked log of 4 entries.
    rmSync(join(dir, 'nurse', 'kt-heads.json'));
    const store = t.storage.transparency;
    const honest = store.nodes.bind(store);
    store.nodes = async (d, refs) => (await honest(d, refs)).map((h, i) => (i === 0 ? h.map((b) => b ^ 0xff) : h));
    try {
      assert.equal((await kt('nurse', ['head', 'localhost'])).code, 0);
    } finally {
      store.nodes = honest;
    }
    await kt('nurse', ['gossip', '--with', 'romeo@localhost']);
    // Romeo still holds the honest head of 3 entries; the domain cannot prove the Nurse's 4 extend it.
    const r = await kt('romeo', ['gossip', '--with', 'nurse@localhost', '--json']);
    assert.equal(r.code, 5, r.stdout + r.stderr);
    const [p] = JSON.parse(r.stdout).splitViews;
    assert.equal(p.kind, 'inconsistent');
    assert.deepEqual(p.heads.map((h: { size: number; by: string[] }) => [h.size, h.by]), [[3, ['you']], [4, ['nurse@localhost']]]);
    assert.match(p.detail, /not an extension of the one verified at 3 entries/);
  });
});
