// `key watch --verify-map` and `key fetch --verify-map --wait-map` (issue 14 Stage 2) over real sockets. The
// server's map is held back here (its store refuses new epochs) so that Juliet's new key is "not yet in the
// map" when it comes; once the map is let go, the watch (following the map heads node) checks the item again
// at the epoch that covers it and reports it proven; a server that then lies in its lookups is a loud failure,
// exit 5. `key fetch --wait-map` holds the key until the map covers it (proven), or until its bound: reported,
// or refused with --strict.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from '../helpers/server.ts';
import { befriend } from '../helpers/roster-setup.ts';
import { until } from '../helpers/until.ts';
import { mapCatchesUp } from '../helpers/kt-map.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { transparencyModule } from '../../src/server/modules/transparency/index.ts';
import { buildPubkey, createPubkey, pubkeyPrintId } from '../../src/keys/index.ts';
import { KT_MAP_HEADS_NODE } from '../../src/transparency/map-protocol.ts';
import type { KtMapStore } from '../../src/storage/kt-map.ts';
import { runCli, startCli, within, type CliRun } from './run-cli.ts';
import { KeyHome } from '../../src/cli/key/home.ts';

const OPEN = `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#access_model'><value>open</value></field></x></publish-options>`;
// One key pair: a new item of the same key is not a key change (which would make the exit code 5 by itself).
const { publicKey } = generateKeyPairSync('ed25519');
const PK = createPubkey({ publicKey, jid: 'juliet@localhost', begin: new Date('2026-01-01T00:00:00Z'), end: new Date('2036-01-01T00:00:00Z') });
const publishKey = (id: string) =>
  `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:pubkey:2'><item id='${id}'>${buildPubkey(PK).toString()}</item></publish>${OPEN}</pubsub></iq>`;

describe('key watch --verify-map, key fetch --wait-map', () => {
  let dir: string;
  let t: TestServer;
  let store: KtMapStore;
  let honest: Pick<KtMapStore, 'addEpoch' | 'versions'>;
  const sessions = rawSessions(() => t);
  const conn = (who: string) => ['--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, who)];
  const hold = () => {
    store.addEpoch = async () => {
      throw new Error('the test holds the map back');
    };
  };
  const release = () => Object.assign(store, honest);
  /** Whether `jid` (full) follows the map heads node: the CLI subscribes once it has an item to check again. */
  const following = async (jid: string) => (await t.storage.pubsub.getSubscriptions('localhost', KT_MAP_HEADS_NODE)).has(jid);
  const events = (r: CliRun) => r.stdout().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-watch-map-'));
    t = await startTestServer({
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' },
      modules: [...defaultModules(), transparencyModule({ dataDir: join(dir, 'data'), epochMs: 50 })],
    });
    store = t.storage.ktMap!;
    honest = { addEpoch: store.addEpoch, versions: store.versions };
    await befriend({ host: '127.0.0.1', port: t.port, tls: { rejectUnauthorized: false } }, { jid: 'juliet@localhost', password: 'pw' }, { jid: 'romeo@localhost', password: 'pw' }, [], []);
    const juliet = await sessions.login('juliet', 'r');
    assert.equal((await juliet.iq(publishKey('first'))).attrs.type, 'result');
    await mapCatchesUp((xml) => juliet.iq(xml));
  });
  after(async () => {
    release();
    sessions.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('watch: a key not yet in the map is checked again once a map head covers it, and proven', async () => {
    const juliet = await sessions.login('juliet', 'w1');
    const w = startCli(['key', 'watch', '--verify-map', '--json', '--jid', 'romeo@localhost/w1', ...conn('romeo')]);
    try {
      await until(() => /watching as /.test(w.stderr()), "romeo's watch to come online", 30_000);
      hold();
      assert.equal((await juliet.iq(publishKey('second'))).attrs.type, 'result');
      await until(() => following('romeo@localhost/w1'), 'the watch to follow the map heads node', 30_000);
      // (On coming online the watch also gets the item published before: it is proven at once.)
      const key = events(w).find((e) => e.event === 'key' && e.map?.item === 'second');
      assert.equal(key.event, 'key');
      assert.equal(key.key.fingerprint, pubkeyPrintId(PK));
      assert.equal(key.map.state, 'pending', w.stdout());
      assert.equal(key.map.seq, key.log.seq);
      release();
      await until(() => events(w).some((e) => e.event === 'map'), 'the watch to report the map check', 60_000);
      w.stop();
      const { code, stderr } = await within(w.exited, 30_000, 'the watch to stop');
      assert.equal(code, 0, stderr);
      const map = events(w).find((e) => e.event === 'map');
      assert.deepEqual({ event: map.event, item: map.item, seq: map.seq, state: map.state }, { event: 'map', item: 'second', seq: key.map.seq, state: 'proven' }, w.stdout());
      assert.ok(map.logSize > map.seq);
    } finally {
      w.stop();
      await w.exited;
    }
  });

  it('watch: a domain whose map then proves otherwise is a loud failure, exit 5', async () => {
    const juliet = await sessions.login('juliet', 'w2');
    const w = startCli(['key', 'watch', '--verify-map', '--jid', 'romeo@localhost/w2', ...conn('romeo')]);
    try {
      await until(() => /watching as /.test(w.stderr()), "romeo's watch to come online", 30_000);
      hold();
      assert.equal((await juliet.iq(publishKey('third'))).attrs.type, 'result');
      await until(() => following('romeo@localhost/w2'), 'the watch to follow the map heads node', 30_000);
      assert.match(w.stdout(), /\[map: not yet in it \(epoch \d+ covers log size \d+\); checked again when a map head covers entry \d+\]/);
      // The map goes on, but the domain's lookups now hide the latest version.
      release();
      store.versions = async (...args) => (await honest.versions.apply(store, args)).slice(0, -1);
      await until(() => /KEY MAP CHECK FAILED/.test(w.stdout()), 'the watch to report the failed map check', 60_000);
      w.stop();
      const { code, stdout } = await within(w.exited, 30_000, 'the watch to stop');
      assert.equal(code, 5, stdout);
      assert.match(stdout, /KEY MAP CHECK FAILED  juliet@localhost item third: verifiable map check failed \[non-membership\]: .*; the key was accepted as not yet in the map: do not rely on it/);
    } finally {
      release();
      w.stop();
      await w.exited;
    }
  });

  it('watch: a new key whose map check then fails is taken out of the trust store again', async () => {
    const juliet = await sessions.login('juliet', 'w3');
    // Another key of Juliet's, new to Romeo's trust store (a key change, which by itself makes the exit code 5).
    const other = createPubkey({ publicKey: generateKeyPairSync('ed25519').publicKey, jid: 'juliet@localhost', begin: new Date('2026-01-01T00:00:00Z'), end: new Date('2036-01-01T00:00:00Z') });
    const print = pubkeyPrintId(other);
    const w = startCli(['key', 'watch', '--verify-map', '--json', '--jid', 'romeo@localhost/w3', ...conn('romeo')]);
    try {
      await until(() => /watching as /.test(w.stderr()), "romeo's watch to come online", 30_000);
      hold();
      const publish = `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:pubkey:2'><item id='fourth'>${buildPubkey(other).toString()}</item></publish>${OPEN}</pubsub></iq>`;
      assert.equal((await juliet.iq(publish)).attrs.type, 'result');
      await until(() => events(w).some((e) => e.event === 'key' && e.map?.item === 'fourth' && e.map.state === 'pending'), 'the new key to be admitted as pending', 30_000);
      const trust = await new KeyHome(join(dir, 'romeo')).openTrust();
      try {
        assert.ok(await trust.status('juliet@localhost', print), 'recorded while pending');
      } finally {
        await trust.close();
      }
      release();
      store.versions = async (...args) => (await honest.versions.apply(store, args)).slice(0, -1);
      await until(() => events(w).some((e) => e.event === 'map-failed' && e.item === 'fourth'), 'the watch to report the failed map check', 60_000);
      w.stop();
      const { code } = await within(w.exited, 30_000, 'the watch to stop');
      assert.equal(code, 5);
      const failed = events(w).find((e) => e.event === 'map-failed' && e.item === 'fourth');
      assert.equal(failed.removed, true, w.stdout());
      const after = await new KeyHome(join(dir, 'romeo')).openTrust();
      try {
        assert.equal(await after.status('juliet@localhost', print), undefined, 'taken out again');
        assert.ok(await after.status('juliet@localhost', pubkeyPrintId(PK)), 'the key known before stays');
      } finally {
        await after.close();
      }
    } finally {
      release();
      w.stop();
      await w.exited;
    }
  });

  it('fetch --wait-map: holds the key until the map covers it, then proves it', async () => {
    const juliet = await sessions.login('juliet', 'f1');
    hold();
    assert.equal((await juliet.iq(publishKey('fourth'))).attrs.type, 'result');
    const f = startCli(['key', 'fetch', 'juliet@localhost', '--verify-map', '--wait-map', '120', '--json', '--jid', 'romeo@localhost/f1', ...conn('fetcher')]);
    try {
      await until(() => following('romeo@localhost/f1'), 'the fetch to wait on the map heads node', 30_000);
      release();
      const { code, stdout, stderr } = await within(f.exited, 60_000, 'the fetch to end');
      assert.equal(code, 0, stderr);
      const out = JSON.parse(stdout);
      const m = out.map.find((m: { item: string }) => m.item === 'fourth');
      assert.equal(m.state, 'pending');
      assert.equal(m.waited.state, 'proven', stdout);
      assert.ok(m.waited.logSize > m.seq);
    } finally {
      release();
      f.stop();
      await f.exited;
    }
  });

  it('fetch --wait-map: still not in the map at the bound: reported, refused with --strict', async () => {
    const juliet = await sessions.login('juliet', 'f2');
    hold();
    try {
      assert.equal((await juliet.iq(publishKey('fifth'))).attrs.type, 'result');
      const lax = await runCli(['key', 'fetch', 'juliet@localhost', '--verify-map', '--wait-map', '1', '--jid', 'romeo@localhost/f2', ...conn('lax')]);
      assert.equal(lax.code, 0, lax.stderr);
      assert.match(lax.stdout, /map: item fifth on urn:xmpp:pubkey:2 \(log entry \d+\) is still not in the map after waiting/);
      const strict = await runCli(['key', 'fetch', 'juliet@localhost', '--verify-map', '--wait-map', '1', '--strict', '--jid', 'romeo@localhost/f3', ...conn('strict')]);
      assert.equal(strict.code, 5, strict.stdout + strict.stderr);
      assert.match(strict.stderr, /failed \(not-in-map\): juliet@localhost's item fifth on urn:xmpp:pubkey:2 \(log entry \d+\) is still not in the map of localhost after waiting 1 s/);
    } finally {
      release();
    }
  });
});
