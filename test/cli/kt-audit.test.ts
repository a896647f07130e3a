// `pepkeys kt audit DOMAIN` over real sockets (issue 14): an honest log passes and its head is stored; a
// server that rewrites or drops a leaf, signs with another key, or later serves a shorter or forked log
// fails the audit with the specific error and exit code 5. The dishonest servers are the real server with
// its transparency store patched here, or restarted on a different log with the same log key.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from '../helpers/server.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { transparencyModule } from '../../src/server/modules/transparency/index.ts';
import { decodeLeaf, encodeLeaf } from '../../src/transparency/leaf.ts';
import type { TransparencyStore } from '../../src/storage/types.ts';
import { KT_HEADS_FILE } from '../../src/cli/kt-paths.ts';
import { runCli } from './run-cli.ts';

const publish = (n: number) => `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:pubkey:2'><item id='k${n}'><pubkey xmlns='urn:xmpp:pubkey:2'/></item></publish></pubsub></iq>`;

function ktServer(dataDir: string): Promise<TestServer> {
  return startTestServer({
    users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' },
    modules: [...defaultModules(), transparencyModule({ dataDir, epochMs: 3_600_000 })],
  });
}

describe('kt audit', () => {
  let dir: string;
  let t: TestServer;
  const sessions = rawSessions(() => t);
  const audit = (home: string, ...extra: string[]) =>
    runCli(['kt', 'audit', 'localhost', '--jid', 'romeo@localhost', '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, home), ...extra]);
  const auditJson = async (home: string, ...extra: string[]) => {
    const r = await audit(home, '--json', ...extra);
    return { code: r.code, out: JSON.parse(r.stdout) as Record<string, unknown>, stderr: r.stderr };
  };
  const publishKeys = async (from: number, count: number) => {
    const juliet = await sessions.login('juliet', `p${from}`);
    for (let i = from; i < from + count; i++) assert.equal((await juliet.iq(publish(i))).attrs.type, 'result');
  };
  /** Replaces the store's `entries` for one audit, then restores it. */
  const tampered = async (rewrite: (entries: Awaited<ReturnType<TransparencyStore['entries']>>) => typeof entries, fn: () => Promise<void>) => {
    const store = t.storage.transparency;
    const honest = store.entries.bind(store);
    store.entries = async (domain, start, end) => rewrite(await honest(domain, start, end));
    try {
      await fn();
    } finally {
      store.entries = honest;
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-audit-'));
    t = await ktServer(join(dir, 'data-a'));
    await publishKeys(0, 3);
  });
  after(async () => {
    sessions.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes on an honest server, pins the log key, stores the head 0600, and checks the next audit extends it', async () => {
    const r = await audit('h1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /The log of localhost checks out: 3 entries, root [0-9a-f]{64}/);
    assert.match(r.stdout, /First audit of localhost: its log key [0-9a-f]{64} is now pinned/);
    assert.match(r.stdout, /Events: 3 publish\./);
    assert.equal(statSync(join(dir, 'h1', KT_HEADS_FILE)).mode & 0o777, 0o600);
    await publishKeys(3, 2);
    const again = await auditJson('h1');
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.out.ok, true);
    assert.equal(again.out.size, 5);
    assert.equal(again.out.previousSize, 3);
    assert.equal(again.out.firstAudit, false);
  });

  it('fails with root-mismatch when the server rewrites one leaf', async () => {
    await tampered((entries) => entries.map((e) => {
      if (e.seq !== 1) return e;
      // A well-formed leaf that says something else: only the root gives it away.
      return { ...e, leaf: encodeLeaf({ ...decodeLeaf(e.leaf), itemId: 'forged' }) };
    }), async () => {
      const r = await auditJson('h1', '--full');
      assert.equal(r.code, 5);
      assert.equal(r.out.ok, false);
      assert.equal(r.out.code, 'root-mismatch');
      assert.match(r.stderr, /audit of localhost failed: the 5 entries localhost served hash to root [0-9a-f]{64}, not to the signed root/);
    });
  });

  it('fails when the server drops one leaf', async () => {
    await tampered((entries) => entries.filter((e) => e.seq !== 2), async () => {
      const r = await auditJson('h1', '--full');
      assert.equal(r.code, 5);
      assert.equal(r.out.code, 'bad-leaf');
      assert.match(String(r.out.error), /served entry 3 where entry 2 belongs/);
    });
    // Failed audits stored nothing: the honest log still extends the head of the last good audit.
    const ok = await auditJson('h1');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.out.previousSize, 5);
  });

  it('refuses a shorter and then a forked log signed with the same key, and a head signed by another key', async () => {
    // The same domain and log key (data-a), but a log that starts over: first 1 entry, then 6 others.
    await t.stop();
    sessions.destroyAll();
    t = await ktServer(join(dir, 'data-a'));
    await publishKeys(100, 1);
    const shorter = await auditJson('h1');
    assert.equal(shorter.code, 5);
    assert.equal(shorter.out.code, 'shrunk');
    assert.match(String(shorter.out.error), /now serves a log of 1 entries, but a head of 5 entries was verified before/);
    await publishKeys(101, 5);
    const forked = await auditJson('h1');
    assert.equal(forked.code, 5);
    assert.equal(forked.out.code, 'inconsistent');
    assert.match(String(forked.out.error), /at 6 entries is not an extension of the one verified at 5 entries/);
    // A fresh home has nothing pinned: the same forked log, seen alone, is self-consistent.
    assert.equal((await auditJson('h2')).code, 0);

    await t.stop();
    sessions.destroyAll();
    t = await ktServer(join(dir, 'data-other'));
    const other = await auditJson('h1');
    assert.equal(other.code, 5);
    assert.equal(other.out.code, 'key-changed');
    assert.match(String(other.out.error), /signed by log key [0-9a-f]{64}, not by [0-9a-f]{64} pinned on first use/);
  });
});
