// `key fetch JID --verify-map` (issue 14 Stage 2) over real sockets: an honest domain's key item is proven the
// latest version of its node in the verifiable map; a server patched here to serve an older item as current
// (hiding the newer one) is refused with 'not-latest' and exit code 5, before the trust store; a key published
// after the map's latest epoch is reported "not yet in the map" (exit 0), and refused with --strict.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from '../helpers/server.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { transparencyModule } from '../../src/server/modules/transparency/index.ts';
import { buildPubkey, createPubkey } from '../../src/keys/pubkey.ts';
import { mapCatchesUp } from '../helpers/kt-map.ts';
import { KT_VRF_KEYS_FILE } from '../../src/cli/kt-map.ts';
import { runCli } from './run-cli.ts';

const NODE = 'urn:xmpp:pubkey:1';
const OPEN = `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#access_model'><value>open</value></field></x></publish-options>`;

// One key, so that two items of it are not a key change (which would make the exit code 5 on its own).
const { publicKey } = generateKeyPairSync('ed25519');
const KEY = buildPubkey(createPubkey({ publicKey, jid: 'juliet@localhost', begin: new Date('2026-01-01T00:00:00Z'), end: new Date('2036-01-01T00:00:00Z'), version: 1 })).toString();
const publishKey = (id: string, jid = 'juliet@localhost') =>
  `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='${NODE}'><item id='${id}'>${KEY.replaceAll('juliet@localhost', jid)}</item></publish>${OPEN}</pubsub></iq>`;

async function startKt(dir: string, epochMs: number): Promise<TestServer> {
  return startTestServer({
    users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' },
    modules: [...defaultModules(), transparencyModule({ dataDir: join(dir, 'data'), epochMs })],
  });
}

/** `key fetch juliet@localhost` as romeo, with its own home. */
const fetchAs = (t: TestServer, home: string, ...extra: string[]) =>
  runCli(['key', 'fetch', 'juliet@localhost', '--jid', 'romeo@localhost', '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', home, ...extra]);

describe('key fetch --verify-map', () => {
  let dir: string;
  let t: TestServer;
  const sessions = rawSessions(() => t);
  const fetch = (home: string, ...extra: string[]) => fetchAs(t, join(dir, home), '--verify-map', ...extra);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-fetch-map-'));
    t = await startKt(dir, 50);
    const juliet = await sessions.login('juliet', 'r');
    // Each key in an epoch of its own: the map keeps one version of a (JID, node) per epoch.
    for (const id of ['a', 'b']) {
      assert.equal((await juliet.iq(publishKey(id))).attrs.type, 'result');
      await mapCatchesUp((xml) => juliet.iq(xml));
    }
  });
  after(async () => {
    sessions.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('proves the fetched items against the latest version in the map', async () => {
    const r = await fetch('honest', '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.keys.length, 2);
    assert.deepEqual(out.map.map((m: { item: string; state: string; version: number }) => [m.item, m.state, m.version]).sort(), [['a', 'proven', 2], ['b', 'proven', 2]]);
    // --verify-map implies the log check.
    assert.equal(out.log.verified.length, 2);
    const text = await fetch('honest');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /map: item b on urn:xmpp:pubkey:1: version 2 is the latest in the map \(epoch \d+, log size 2\) and is served: proven/);
  });

  it("refuses the keys with 'vrf-key-changed' when the domain serves another VRF key than the pinned one", async () => {
    mkdirSync(join(dir, 'repinned'), { recursive: true });
    writeFileSync(join(dir, 'repinned', KT_VRF_KEYS_FILE), JSON.stringify({ localhost: '11'.repeat(32) }), { mode: 0o600 });
    const r = await fetch('repinned');
    assert.equal(r.code, 5, r.stdout + r.stderr);
    assert.match(r.stderr, /verifiable map check of juliet@localhost failed \(vrf-key-changed\): localhost now serves another VRF key than the one pinned/);
  });

  it("refuses an older item served as current, with 'not-latest' and exit code 5, before the trust store", async () => {
    const store = t.storage.pubsub;
    const honest = store.getItems;
    // The log still backs item a (it was published and never retracted): only the map shows b is newer.
    store.getItems = async (...args) => (await honest.apply(store, args)).filter((i) => i.id !== 'b');
    try {
      const withLog = await fetchAs(t, join(dir, 'log-only'), '--verify-log');
      assert.equal(withLog.code, 0, withLog.stderr);
      const r = await fetch('stale');
      assert.equal(r.code, 5, r.stdout + r.stderr);
      assert.match(r.stderr, /verifiable map check of juliet@localhost failed \(not-latest\): juliet@localhost's item a on urn:xmpp:pubkey:1 \(log entry 0\) is served as current, but the map of localhost \(epoch \d+\) proves its latest version 2 is the publish of item b \(log entry 1\), which is not served/);
      assert.deepEqual(JSON.parse((await runCli(['key', 'list', 'juliet@localhost', '--json', '--home', join(dir, 'stale')])).stdout), []);
    } finally {
      store.getItems = honest;
    }
  });
});

describe('key fetch --verify-map, a key newer than the map', () => {
  let dir: string;
  let t: TestServer;
  const sessions = rawSessions(() => t);
  const fetch = (home: string, ...extra: string[]) => fetchAs(t, join(dir, home), '--verify-map', ...extra);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-fetch-map-lag-'));
    t = await startKt(dir, 50);
    // A first epoch (of romeo's key), then the map stops taking new epochs: juliet's key stays newer than it.
    const romeo = await sessions.login('romeo', 'r');
    assert.equal((await romeo.iq(publishKey('r', 'romeo@localhost'))).attrs.type, 'result');
    const first = await mapCatchesUp((xml) => romeo.iq(xml));
    assert.equal(first.logSize, 1);
    const store = t.storage.ktMap!;
    honestAdd = store.addEpoch;
    store.addEpoch = async () => {
      throw new Error('the test holds the map back');
    };
    const juliet = await sessions.login('juliet', 'r');
    assert.equal((await juliet.iq(publishKey('k'))).attrs.type, 'result');
  });
  let honestAdd: NonNullable<TestServer['storage']['ktMap']>['addEpoch'];
  after(async () => {
    t.storage.ktMap!.addEpoch = honestAdd;
    sessions.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the key as not yet in the map (exit 0), and refuses it with --strict', async () => {
    const r = await fetch('lag');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /map: item k on urn:xmpp:pubkey:1 \(log entry 1\) is not yet in the map: epoch 1 covers log size 1/);
    const strict = await fetch('strict', '--strict');
    assert.equal(strict.code, 5, strict.stdout + strict.stderr);
    assert.match(strict.stderr, /failed \(not-in-map\): juliet@localhost's item k on urn:xmpp:pubkey:1 \(log entry 1\) is not yet in the map of localhost: epoch 1 covers log size 1/);
    assert.deepEqual(JSON.parse((await runCli(['key', 'list', 'juliet@localhost', '--json', '--home', join(dir, 'strict')])).stdout), []);
  });
});
