// `pepkeys kt lookup JID NODE [--history]` over real sockets (issue 14 Stage 2): an honest domain's lookup
// verifies (latest version, every version, a JID without keys) and pins its VRF key; a server patched here to
// hide the latest version fails the lookup with exit code 5.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from '../helpers/server.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { transparencyModule } from '../../src/server/modules/transparency/index.ts';
import { mapCatchesUp } from '../helpers/kt-map.ts';
import { KT_HEADS_FILE } from '../../src/cli/kt-paths.ts';
import { runCli } from './run-cli.ts';

const NODE = 'urn:xmpp:pubkey:2';
const publish = (n: number) => `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='${NODE}'><item id='k${n}'><pubkey xmlns='urn:xmpp:pubkey:2'/></item></publish></pubsub></iq>`;

describe('kt lookup', () => {
  let dir: string;
  let t: TestServer;
  const sessions = rawSessions(() => t);
  const lookup = (...args: string[]) =>
    runCli(['kt', 'lookup', ...args, '--jid', 'romeo@localhost', '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, 'home')]);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-lookup-'));
    t = await startTestServer({
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' },
      modules: [...defaultModules(), transparencyModule({ dataDir: join(dir, 'data'), epochMs: 50 })],
    });
    const juliet = await sessions.login('juliet', 'p');
    // Each key in an epoch of its own: the map keeps one version of a (JID, node) per epoch.
    for (const n of [1, 2]) {
      assert.equal((await juliet.iq(publish(n))).attrs.type, 'result');
      await mapCatchesUp((xml) => juliet.iq(xml));
    }
  });
  after(async () => {
    sessions.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the latest version, pins the VRF key, shows the history and proves a missing key absent', async () => {
    const r = await lookup('juliet@localhost', NODE);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /juliet@localhost urn:xmpp:pubkey:2: version 2 is the latest in the map of localhost \(epoch \d+, log size 2\): proven\./);
    assert.match(r.stdout, /v2: publish of item k2/);
    assert.match(r.stdout, /its VRF key [0-9a-f]{64} is now pinned/);
    // Pinned in the domain's record of kt-heads.json (0600), beside the log key and the heads.
    assert.equal(statSync(join(dir, 'home', KT_HEADS_FILE)).mode & 0o777, 0o600);
    assert.match(JSON.parse(readFileSync(join(dir, 'home', KT_HEADS_FILE), 'utf8')).localhost.vrfKey, /^[0-9a-f]{64}$/);
    const h = await lookup('juliet@localhost', NODE, '--history');
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /v1: publish of item k1[^\n]*\n {2}v2: publish of item k2/);
    assert.doesNotMatch(h.stdout, /now pinned/);
    const none = await lookup('romeo@localhost', NODE);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /romeo@localhost has no key event on urn:xmpp:pubkey:2 in the map of localhost \(epoch \d+\): proven absent\./);
  });

  it('fails with exit code 5 when the server hides the latest version', async () => {
    const store = t.storage.ktMap!;
    const honest = store.versions;
    store.versions = async (...args) => (await honest(...args)).slice(0, -1);
    try {
      const r = await lookup('juliet@localhost', NODE);
      assert.equal(r.code, 5, r.stdout + r.stderr);
      assert.match(r.stderr, /version 2 is not proven absent: the answer may hide a newer key/);
    } finally {
      store.versions = honest;
    }
  });
});
