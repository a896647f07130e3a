// `key fetch --verify-map` keeps and checks the domain's map state like `kt lookup` (issue 14 Stage 2), over
// real sockets: a home that verified epoch 1 takes epoch 2 only with a verified append-only proof from it, and
// stores it; a server patched here to leave an inserted entry out of that proof is refused with
// 'not-append-only' (exit 5) and the stored head stays at epoch 1.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from '../helpers/server.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { transparencyModule } from '../../src/server/modules/transparency/index.ts';
import { buildPubkey, createPubkey } from '../../src/keys/pubkey.ts';
import { mapCatchesUp } from '../helpers/kt-map.ts';
import { KT_HEADS_FILE } from '../../src/cli/kt-paths.ts';
import { runCli } from './run-cli.ts';

const NODE = 'urn:xmpp:pubkey:1';
const OPEN = `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#access_model'><value>open</value></field></x></publish-options>`;
// One key, so that two items of it are not a key change.
const { publicKey } = generateKeyPairSync('ed25519');
const KEY = buildPubkey(createPubkey({ publicKey, jid: 'juliet@localhost', begin: new Date('2026-01-01T00:00:00Z'), end: new Date('2036-01-01T00:00:00Z'), version: 1 })).toString();
const publishKey = (id: string) => `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='${NODE}'><item id='${id}'>${KEY}</item></publish>${OPEN}</pubsub></iq>`;

describe('key fetch --verify-map keeps the last map head', () => {
  let dir: string;
  let t: TestServer;
  const sessions = rawSessions(() => t);
  const fetch = (home: string) =>
    runCli(['key', 'fetch', 'juliet@localhost', '--verify-map', '--jid', 'romeo@localhost', '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, home)], { timeoutMs: 60_000 });
  const mapEpoch = (home: string) => JSON.parse(readFileSync(join(dir, home, KT_HEADS_FILE), 'utf8')).localhost.mapHead.epoch;
  const grow = async (id: string) => {
    const juliet = await sessions.login('juliet', `r-${id}`);
    assert.equal((await juliet.iq(publishKey(id))).attrs.type, 'result');
    return (await mapCatchesUp((xml) => juliet.iq(xml))).epoch;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-fetch-map-state-'));
    t = await startTestServer({
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' },
      modules: [...defaultModules(), transparencyModule({ dataDir: join(dir, 'data'), epochMs: 50 })],
    });
    assert.equal(await grow('a'), 1);
    for (const home of ['honest', 'dropped']) {
      const r = await fetch(home);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(mapEpoch(home), 1);
    }
    assert.equal(await grow('b'), 2);
  });
  after(async () => {
    sessions.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the newer epoch with its append-only proof', async () => {
    const r = await fetch('honest');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(mapEpoch('honest'), 2);
  });

  it("refuses the keys with 'not-append-only' when the proof leaves an entry out", async () => {
    const store = t.storage.ktMap!;
    const honest = store.inserted;
    store.inserted = async (...args) => (await honest.apply(store, args)).slice(1);
    try {
      const r = await fetch('dropped');
      assert.equal(r.code, 5, r.stdout + r.stderr);
      assert.match(r.stderr, /verifiable map check of juliet@localhost failed \(not-append-only\): the map of epoch 2 is not the map of epoch 1 plus new entries/);
      assert.equal(mapEpoch('dropped'), 1);
    } finally {
      store.inserted = honest;
    }
  });
});
