// Map heads published and asked for by epoch, over real sockets (issue 14 Stage 2): every signed map head goes
// to the open map heads node of the domain's own pubsub service (item id = epoch), where anyone may subscribe;
// after a restart the node is continued, not republished, and an epoch stored but not published is published;
// lookups, histories and map heads may name an older epoch and are proven against that epoch's map.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from '../../../helpers/server.ts';
import type { RawClient } from '../../../helpers/raw-client.ts';
import { until } from '../../../helpers/until.ts';
import { mapCatchesUp } from '../../../helpers/kt-map.ts';
import { openSqliteStorage } from '../../../../src/storage/sqlite/index.ts';
import { defaultModules } from '../../../../src/server/modules/index.ts';
import { transparencyModule } from '../../../../src/server/modules/transparency/index.ts';
import type { Element } from '../../../../src/xml/index.ts';
import { NS_KT } from '../../../../src/transparency/protocol.ts';
import { KT_MAP_HEADS_NODE, parseMapHead } from '../../../../src/transparency/map-protocol.ts';
import { verifyMapHead } from '../../../../src/transparency/map-head.ts';
import { parseVrfKey } from '../../../../src/transparency/vrf-key.ts';
import { verifyMapAppend, verifyMapLookup, type MapTrust } from '../../../../src/client/kt-map.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const DOMAIN = 'localhost';
const NODE = 'urn:xmpp:pubkey:2';
const USERS = { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' };

const publishKey = (c: RawClient, n: number) =>
  c.iq(`<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='${NODE}'><item id='current'><pubkey xmlns='urn:xmpp:pubkey:2'><n>${n}</n></pubkey></item></publish></pubsub></iq>`);
const kt = (c: RawClient, inner: string) => c.iq(`<iq type='get' to='${DOMAIN}'>${inner}</iq>`);
const result = (iq: Element, name: string): Element => {
  assert.equal(iq.attrs.type, 'result', iq.toString());
  return iq.getChild(name, NS_KT)!;
};
const condition = (iq: Element) => iq.getChild('error')?.elements[0]?.local;
const eventItems = (m: Element) => m.getChild('event', `${PUBSUB}#event`)?.getChild('items');

describe('map heads: published to a node, asked for by epoch', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-map-heads-'));
  // SQLite, reopened at each start: the node and the map persist as in a real restart.
  const path = join(dataDir, 'pepkeys.db');
  let t: TestServer;
  let started = 0;
  const s = rawSessions(() => t);
  const start = async () => {
    t = await startTestServer({ users: started++ ? {} : USERS, storage: openSqliteStorage({ path }), modules: [...defaultModules(), transparencyModule({ dataDir, epochMs: 50 })] });
  };
  const restart = async () => {
    s.destroyAll();
    await t.stop();
    await start();
  };
  /** The map heads on the node, newest first (read as anyone may). */
  const nodeItems = async (c: RawClient) => {
    const r = await c.iq(`<iq type='get' to='${DOMAIN}'><pubsub xmlns='${PUBSUB}'><items node='${KT_MAP_HEADS_NODE}'/></pubsub></iq>`);
    assert.equal(r.attrs.type, 'result', r.toString());
    return r.getChild('pubsub', PUBSUB)!.getChild('items')!.getChildren('item');
  };
  const storedItem = async (epoch: number) => (await t.storage.pubsub.getItems(DOMAIN, KT_MAP_HEADS_NODE)).find((i) => i.id === String(epoch));

  before(start);
  after(async () => {
    s.destroyAll();
    await t.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('publishes each epoch to the open map heads node; a subscriber is notified with the signed head', async () => {
    const romeo = await s.login('romeo', 'follower');
    const sub = await romeo.iq(`<iq type='set' to='${DOMAIN}'><pubsub xmlns='${PUBSUB}'><subscribe node='${KT_MAP_HEADS_NODE}' jid='romeo@localhost/follower'/></pubsub></iq>`);
    assert.equal(sub.attrs.type, 'result', sub.toString());
    const juliet = await s.login('juliet', 'r');
    assert.equal((await publishKey(juliet, 1)).attrs.type, 'result');
    const latest = await mapCatchesUp((xml) => juliet.iq(xml));
    const note = await romeo.waitStanza((m) => m.name === 'message' && eventItems(m)?.attrs.node === KT_MAP_HEADS_NODE && eventItems(m)!.getChild('item')?.attrs.id === String(latest.epoch), 30_000);
    const head = parseMapHead(eventItems(note)!.getChild('item')!.getChild('map-head', NS_KT)!);
    assert.equal(head.epoch, latest.epoch);
    assert.equal(head.domain, DOMAIN);
    assert.ok(verifyMapHead(head));
    assert.deepEqual(head.root, latest.root);
    const items = await nodeItems(romeo);
    assert.equal(items[0]!.attrs.id, String(latest.epoch));
    // Every epoch is there, once, in order.
    assert.deepEqual(items.map((i) => Number(i.attrs.id)).reverse(), Array.from({ length: latest.epoch }, (_, i) => i + 1));
    // Only the domain writes there.
    const denied = await romeo.iq(`<iq type='set' to='${DOMAIN}'><pubsub xmlns='${PUBSUB}'><publish node='${KT_MAP_HEADS_NODE}'><item id='999'><map-head xmlns='${NS_KT}'/></item></publish></pubsub></iq>`);
    assert.equal(denied.attrs.type, 'error');
  });

  it('lookups, histories and map heads at an older epoch are proven against that epoch', async () => {
    const juliet = await s.login('juliet', 'epochs');
    const trust: MapTrust = { domain: DOMAIN, vrfKey: parseVrfKey(result(await kt(juliet, `<vrf-key xmlns='${NS_KT}'/>`), 'vrf-key')) };
    const before = await mapCatchesUp((xml) => juliet.iq(xml));
    const versionsThen = verifyMapLookup(result(await kt(juliet, `<map-lookup xmlns='${NS_KT}' jid='juliet@localhost' node='${NODE}'/>`), 'map-lookup'), trust, 'juliet@localhost', NODE, false).latest;
    for (const n of [2, 3]) {
      assert.equal((await publishKey(juliet, n)).attrs.type, 'result');
      await mapCatchesUp((xml) => juliet.iq(xml));
    }
    const now = await mapCatchesUp((xml) => juliet.iq(xml));
    assert.ok(now.epoch > before.epoch);
    const at = (inner: string) => kt(juliet, inner);
    const old = verifyMapLookup(result(await at(`<map-lookup xmlns='${NS_KT}' jid='juliet@localhost' node='${NODE}' epoch='${before.epoch}'/>`), 'map-lookup'), trust, 'juliet@localhost', NODE, false);
    assert.equal(old.head.epoch, before.epoch);
    assert.deepEqual(old.head.root, before.root);
    assert.equal(old.latest, versionsThen);
    const latest = verifyMapLookup(result(await at(`<map-lookup xmlns='${NS_KT}' jid='juliet@localhost' node='${NODE}'/>`), 'map-lookup'), trust, 'juliet@localhost', NODE, false);
    assert.equal(latest.latest, versionsThen + 2);
    const history = verifyMapLookup(result(await at(`<map-lookup xmlns='${NS_KT}' jid='juliet@localhost' node='${NODE}' history='true' epoch='${before.epoch}'/>`), 'map-lookup'), trust, 'juliet@localhost', NODE, true);
    assert.deepEqual(history.versions.map((v) => v.version), Array.from({ length: versionsThen }, (_, i) => i + 1));
    // Romeo, who has no key, has none at that epoch either.
    assert.equal(verifyMapLookup(result(await at(`<map-lookup xmlns='${NS_KT}' jid='romeo@localhost' node='${NODE}' epoch='1'/>`), 'map-lookup'), trust, 'romeo@localhost', NODE, false).latest, 0);
    const head = parseMapHead(result(await at(`<map-head xmlns='${NS_KT}' epoch='${before.epoch}'/>`), 'map-head'));
    assert.deepEqual(head, before);
    // From the older epoch to the latest: the proof reads the old map through the latest one, and verifies.
    const append = verifyMapAppend(result(await at(`<map-append xmlns='${NS_KT}' from='${before.epoch}'/>`), 'map-append'), trust);
    assert.equal(append.to.epoch, now.epoch);
    assert.equal(append.from!.epoch, before.epoch);
    verifyMapAppend(result(await at(`<map-append xmlns='${NS_KT}' from='1' to='${before.epoch}'/>`), 'map-append'), trust);
    assert.equal(condition(await at(`<map-lookup xmlns='${NS_KT}' jid='juliet@localhost' node='${NODE}' epoch='${now.epoch + 100}'/>`)), 'item-not-found');
    assert.equal(condition(await at(`<map-head xmlns='${NS_KT}' epoch='0'/>`)), 'item-not-found');
    assert.equal(condition(await at(`<map-lookup xmlns='${NS_KT}' jid='juliet@localhost' node='${NODE}' epoch='x'/>`)), 'bad-request');
  });

  it('after a restart the node is continued: nothing is republished, a new epoch comes next', async () => {
    const c = await s.login('romeo', 'before-restart');
    const latest = await mapCatchesUp((xml) => c.iq(xml));
    const was = await storedItem(latest.epoch);
    assert.ok(was);
    await restart();
    const juliet = await s.login('juliet', 'after-restart');
    assert.equal((await publishKey(juliet, 4)).attrs.type, 'result');
    const next = await mapCatchesUp((xml) => juliet.iq(xml));
    assert.ok(next.epoch > latest.epoch);
    await until(async () => !!(await storedItem(next.epoch)), `epoch ${next.epoch} on the map heads node`, 30_000);
    // The first tick after the restart ran before the new epoch: it left the published head as it was.
    assert.equal((await storedItem(latest.epoch))!.publishedAt, was.publishedAt);
    assert.equal((await nodeItems(juliet)).filter((i) => i.attrs.id === String(latest.epoch)).length, 1);
  });

  it('an epoch stored but not published before a stop is published at the next start', async () => {
    const c = await s.login('romeo', 'crash');
    const latest = await mapCatchesUp((xml) => c.iq(xml));
    await until(async () => !!(await storedItem(latest.epoch)), `epoch ${latest.epoch} on the node`, 30_000);
    s.destroyAll();
    await t.stop();
    // As if the server had died between storing the epoch and publishing its head.
    const offline = openSqliteStorage({ path });
    assert.ok(await offline.pubsub.retractItem(DOMAIN, KT_MAP_HEADS_NODE, String(latest.epoch)));
    await offline.close();
    await start();
    await until(async () => !!(await storedItem(latest.epoch)), `epoch ${latest.epoch} published again after the start`, 30_000);
    const romeo = await s.login('romeo', 'check');
    const head = parseMapHead((await nodeItems(romeo))[0]!.getChild('map-head', NS_KT)!);
    assert.equal(head.epoch, latest.epoch);
    assert.ok(verifyMapHead(head));
  });
});
