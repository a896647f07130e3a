// Incremental `kt audit` (issue 14): a second audit downloads only the entries after the first (counted at
// the server's transparency store, wrapped in the test to record each range asked for), proves the new head
// consistent with the audited one, and reports both runs; --full downloads everything again; a server whose
// log no longer extends the audited one (restarted on a log with other old entries, same log key) is caught
// by the consistency proof from the audit checkpoint, even with the head store gone.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from '../helpers/server.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { transparencyModule } from '../../src/server/modules/transparency/index.ts';
import { KT_AUDIT_FILE, KT_HEADS_FILE } from '../../src/cli/kt-paths.ts';
import { runCli } from './run-cli.ts';

const publish = (n: number) => `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:pubkey:2'><item id='k${n}'><pubkey xmlns='urn:xmpp:pubkey:2'/></item></publish></pubsub></iq>`;

describe('kt audit, incremental', () => {
  let dir: string;
  let t: TestServer;
  let asked: { start: number; end: number }[] = [];
  const sessions = rawSessions(() => t);
  const start = async () => {
    t = await startTestServer({
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' },
      modules: [...defaultModules(), transparencyModule({ dataDir: join(dir, 'data'), epochMs: 3_600_000 })],
    });
    const store = t.storage.transparency;
    const entries = store.entries.bind(store);
    store.entries = async (domain, s, e) => (asked.push({ start: s, end: e }), entries(domain, s, e));
  };
  const audit = async (...extra: string[]) => {
    asked = [];
    const r = await runCli(['kt', 'audit', 'localhost', '--json', '--jid', 'romeo@localhost', '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, 'home'), ...extra]);
    return { code: r.code, out: JSON.parse(r.stdout) as Record<string, unknown>, stderr: r.stderr };
  };
  const publishKeys = async (from: number, count: number) => {
    const juliet = await sessions.login('juliet', `p${from}`);
    for (let i = from; i < from + count; i++) assert.equal((await juliet.iq(publish(i))).attrs.type, 'result');
  };
  const lowest = () => Math.min(...asked.map((a) => a.start));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-audit-inc-'));
    await start();
    await publishKeys(0, 3);
  });
  after(async () => {
    sessions.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('downloads only the new entries the second time, and all of them with --full', async () => {
    const first = await audit();
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual([first.out.size, first.out.incremental, first.out.start, first.out.checked], [3, false, 0, 3]);
    assert.equal(lowest(), 0);
    assert.equal(typeof first.out.entriesPerSecond, 'number');
    assert.equal(statSync(join(dir, 'home', KT_AUDIT_FILE)).mode & 0o777, 0o600);

    await publishKeys(3, 4);
    const second = await audit();
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual([second.out.size, second.out.incremental, second.out.start, second.out.checked], [7, true, 3, 4]);
    assert.deepEqual(second.out.types, { publish: 4 });
    assert.ok(asked.length > 0);
    assert.equal(lowest(), 3, 'no entry before the audited size was asked for');
    assert.equal(typeof second.out.entriesPerSecond, 'number');

    // Nothing new: nothing downloaded, the head still proven consistent.
    const same = await audit();
    assert.deepEqual([same.code, same.out.checked, asked.length], [0, 0, 0]);

    const full = await audit('--full');
    assert.equal(full.code, 0, full.stderr);
    assert.deepEqual([full.out.incremental, full.out.start, full.out.checked], [false, 0, 7]);
    assert.equal(lowest(), 0);
  });

  it('catches a log whose old entries changed after the audit, by the consistency proof from the checkpoint', async () => {
    // Same log key (same data dir), but a log with other entries in the audited range, longer than it.
    await t.stop();
    sessions.destroyAll();
    await start();
    await publishKeys(100, 9);
    // Only the audit checkpoint still knows the audited head.
    unlinkSync(join(dir, 'home', KT_HEADS_FILE));
    const before = readFileSync(join(dir, 'home', KT_AUDIT_FILE), 'utf8');
    const r = await audit();
    assert.equal(r.code, 5, r.stderr);
    assert.equal(r.out.code, 'inconsistent');
    assert.match(String(r.out.error), /at 9 entries is not an extension of the one verified at 7 entries/);
    assert.equal(asked.length, 0, 'refused before downloading anything');
    assert.equal(readFileSync(join(dir, 'home', KT_AUDIT_FILE), 'utf8'), before, 'a failed audit keeps the checkpoint');
  });
});
