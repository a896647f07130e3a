// The re-check of an item that was "not yet in the map" (src/cli/key/map-pending.ts) against a real server: at
// the epoch that first covers it, with the client's kept map head already newer (another lookup kept it
// since): the domain must prove that the kept head extends the re-check's (<map-append/>), so an honest
// domain passes (proven, or superseded once a newer key event is in that epoch) and one whose append-only
// proof leaves an entry out is refused (not-append-only), like a rollback to a map that was never extended.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from '../helpers/server.ts';
import { mapCatchesUp } from '../helpers/kt-map.ts';
import { defaultModules } from '../../src/server/modules/index.ts';
import { transparencyModule } from '../../src/server/modules/transparency/index.ts';
import { XmppClient, FileKtHeadStore } from '../../src/client/index.ts';
import { getItems } from '../../src/client/pubsub.ts';
import { KtMapVerifyError } from '../../src/client/kt-map.ts';
import { NS_KT } from '../../src/transparency/protocol.ts';
import { parseMapHead } from '../../src/transparency/map-protocol.ts';
import { x } from '../../src/xml/index.ts';
import { recheckPending, type PendingContext } from '../../src/cli/key/map-pending.ts';
import { KT_HEADS_FILE } from '../../src/cli/kt-paths.ts';
import { runCli } from './run-cli.ts';

const NODE = 'urn:xmpp:openpgp:0:public-keys';
const publishKeys = (id: string, n: number) =>
  `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='${NODE}'><item id='${id}'><public-keys-list xmlns='urn:xmpp:openpgp:0'><pubkey-metadata v4-fingerprint='${String(n).repeat(40).slice(0, 40)}' date='2026-01-01T00:00:00Z'/></public-keys-list></item></publish></pubsub></iq>`;

describe('re-checking an item once the map covers it', () => {
  let dir: string;
  let t: TestServer;
  let client: XmppClient;
  const sessions = rawSessions(() => t);
  const at = (): PendingContext => ({ client, homeDir: join(dir, 'romeo'), timeoutMs: 15_000 });
  const headAt = async (epoch: number) => parseMapHead((await client.iq(x('iq', { type: 'get', to: 'localhost' }, x('map-head', { xmlns: NS_KT, epoch: String(epoch) })))).getChild('map-head', NS_KT)!);
  let first: { item: Awaited<ReturnType<typeof getItems>>[number]; epoch: number };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-map-recheck-'));
    t = await startTestServer({
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' },
      modules: [...defaultModules(), transparencyModule({ dataDir: join(dir, 'data'), epochMs: 50 })],
    });
    const juliet = await sessions.login('juliet', 'r');
    assert.equal((await juliet.iq(publishKeys('a', 1))).attrs.type, 'result');
    const e1 = await mapCatchesUp((xml) => juliet.iq(xml));
    client = await XmppClient.connect({ host: '127.0.0.1', port: t.port, jid: 'juliet@localhost', password: 'pw', resource: 'recheck', tls: { rejectUnauthorized: false }, requireTls: false, allowPlainWithoutTls: true });
    first = { item: (await getItems(client, 'juliet@localhost', NODE))[0]!, epoch: e1.epoch };
    assert.equal((await juliet.iq(publishKeys('a', 2))).attrs.type, 'result');
    await mapCatchesUp((xml) => juliet.iq(xml));
    // (The client reads Juliet's own node, so that the test needs no access settings.) Romeo's home keeps the latest map head (a later lookup), newer than the epoch that first covered 'a'.
    const l = await runCli(['kt', 'lookup', 'juliet@localhost', NODE, '--jid', 'romeo@localhost', '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, 'romeo')]);
    assert.equal(l.code, 0, l.stderr);
  });
  after(async () => {
    await client?.close();
    sessions.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('at the first epoch covering it, behind the kept head: proven (the kept head is proven to extend it)', async () => {
    const kept = (await new FileKtHeadStore(join(dir, 'romeo', KT_HEADS_FILE)).getMapHead('localhost'))!;
    assert.ok(kept.epoch > first.epoch);
    const o = await recheckPending(at(), { jid: 'juliet@localhost', domain: 'localhost', node: NODE, item: first.item, seq: 0 }, await headAt(first.epoch));
    assert.deepEqual({ state: o.state, epoch: o.epoch, version: o.version }, { state: 'proven', epoch: first.epoch, version: 1 });
    // The kept head stays the newer one.
    assert.equal((await new FileKtHeadStore(join(dir, 'romeo', KT_HEADS_FILE)).getMapHead('localhost'))!.epoch, kept.epoch);
  });

  it('at an epoch where a newer key event is in: superseded', async () => {
    const kept = (await new FileKtHeadStore(join(dir, 'romeo', KT_HEADS_FILE)).getMapHead('localhost'))!;
    const o = await recheckPending(at(), { jid: 'juliet@localhost', domain: 'localhost', node: NODE, item: first.item, seq: 0 }, kept);
    assert.equal(o.state, 'superseded');
    assert.equal(o.version, 2);
  });

  it('a domain that cannot prove the kept head extends the older one is refused', async () => {
    const store = t.storage.ktMap!;
    const honest = store.inserted;
    // The first read serves the lookup at the older epoch (its map, read through the latest one) honestly; the
    // next, the <map-append/> answer, leaves an inserted entry out.
    let reads = 0;
    store.inserted = async (...args) => {
      const got = await honest.apply(store, args);
      return ++reads === 1 ? got : got.slice(1);
    };
    try {
      await assert.rejects(recheckPending(at(), { jid: 'juliet@localhost', domain: 'localhost', node: NODE, item: first.item, seq: 0 }, await headAt(first.epoch)),
        (err: unknown) => err instanceof KtMapVerifyError && err.code === 'not-append-only');
    } finally {
      store.inserted = honest;
    }
  });
});
