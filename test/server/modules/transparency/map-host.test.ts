// The verifiable map built beside the log (map-host.ts, storage/log-host.ts): with SQLite storage the epochs
// are made in the key-log process, whose own child labels the leaves; the server's process starts no VRF
// process for the map (only lookups would), the map it serves verifies, its heads are published, and a stop
// leaves no process behind.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { rawSessions, startTestServer, type TestServer } from '../../../helpers/server.ts';
import { RawClient } from '../../../helpers/raw-client.ts';
import { defaultModules } from '../../../../src/server/modules/index.ts';
import { transparencyModule } from '../../../../src/server/modules/transparency/index.ts';
import { openSqliteStorage } from '../../../../src/storage/sqlite/index.ts';
import type { Storage } from '../../../../src/storage/types.ts';
import type { Element } from '../../../../src/xml/index.ts';
import { NS_KT } from '../../../../src/transparency/protocol.ts';
import { KT_MAP_HEADS_NODE, parseMapHead } from '../../../../src/transparency/map-protocol.ts';
import { mapCatchesUp as waitForMap } from '../../../helpers/kt-map.ts';
import { parseVrfKey } from '../../../../src/transparency/vrf-key.ts';
import { verifyMapAppend, verifyMapLookup, type MapTrust } from '../../../../src/client/kt-map.ts';
import { verifyMapHead } from '../../../../src/transparency/map-head.ts';
import { threadPolicy } from '../../../../src/runtime/thread-priority.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const DOMAIN = 'localhost';
const NODE = 'urn:xmpp:openpgp:0:public-keys';
const linux = process.platform === 'linux';

const publishKeys = (c: RawClient, n: number) =>
  c.iq(`<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='${NODE}'><item id='current'><public-keys-list xmlns='urn:xmpp:openpgp:0'><pubkey-metadata v4-fingerprint='${String(n).repeat(40).slice(0, 40)}' date='2026-01-01T00:00:00Z'/></public-keys-list></item></publish></pubsub></iq>`);
const result = (iq: Element, name: string): Element => {
  assert.equal(iq.attrs.type, 'result', iq.toString());
  return iq.getChild(name, NS_KT)!;
};

/** The processes whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    } catch {
      // Ended meanwhile.
    }
  }
  return out;
}

/** The module file a process runs (its command line's last argument that names a file of ours). */
const runs = (pid: number): string => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').find((a) => /(kt|vrf)-process\.(ts|js)$/.test(a)) ?? '';

/** Scheduling policy of every thread of `pid` (0 normal, 5 SCHED_IDLE). */
const policies = (pid: number): (number | undefined)[] => readdirSync(`/proc/${pid}/task`).map((tid) => threadPolicy(pid, Number(tid)));

const hasChrt = (() => {
  try {
    execFileSync('chrt', ['--help'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('verifiable map built beside the log (SQLite)', { skip: !linux && 'process trees are read from Linux /proc' }, () => {
  let t: TestServer;
  let dir: string;
  let storage: Storage;
  let romeo: RawClient;
  let trust: MapTrust;
  const sessions = rawSessions(() => t);
  const mapCatchesUp = () => waitForMap((xml) => romeo.iq(xml));
  let keyLogPid: number;
  let vrfPid: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-map-host-'));
    storage = openSqliteStorage({ path: join(dir, 'pepkeys.sqlite') });
    t = await startTestServer({
      storage,
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' },
      modules: [...defaultModules(), transparencyModule({ dataDir: dir, epochMs: 50 })],
    });
    const juliet = await sessions.login('juliet', 'r');
    romeo = await sessions.login('romeo', 'r');
    assert.equal((await publishKeys(juliet, 1)).attrs.type, 'result');
    // Juliet's second key in a later epoch: the map keeps one version of a (JID, node) per epoch (epoch-leaves.ts).
    await mapCatchesUp();
    assert.equal((await publishKeys(juliet, 2)).attrs.type, 'result');
    assert.equal((await publishKeys(romeo, 3)).attrs.type, 'result');
    await mapCatchesUp();
  });
  after(async () => {
    sessions.destroyAll();
    await t?.stop();
    await storage?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the epochs are labelled by a child of the key-log process; the server\'s process runs no VRF process for them', () => {
    const mine = childrenOf(process.pid);
    const keyLogs = mine.filter((p) => runs(p).includes('kt-process'));
    assert.equal(keyLogs.length, 1, `one key-log process is a child of this one (${mine.map(runs).join(', ')})`);
    assert.deepEqual(mine.filter((p) => runs(p).includes('vrf-process')), [], 'no VRF process is a child of the server\'s process before any lookup');
    keyLogPid = keyLogs[0]!;
    const vrf = childrenOf(keyLogPid).filter((p) => runs(p).includes('vrf-process'));
    assert.equal(vrf.length, 1, 'the key-log process runs the map\'s VRF process');
    vrfPid = vrf[0]!;
  });

  it('the map\'s VRF process runs every thread under SCHED_IDLE', { skip: !hasChrt && 'chrt (util-linux) is not installed' }, () => {
    const p = policies(vrfPid);
    assert.ok(p.length >= 4, `its threads are listed (${p.length})`);
    assert.deepEqual([...new Set(p)], [5], 'SCHED_IDLE (5) for all of its threads');
    assert.ok(policies(process.pid).every((x) => x === 0), 'the server\'s own threads keep the normal policy');
  });

  it('the map served from those epochs verifies: lookups, absence, append-only; its heads are published', async () => {
    trust = { domain: DOMAIN, vrfKey: parseVrfKey(result(await romeo.iq(`<iq type='get' to='${DOMAIN}'><vrf-key xmlns='${NS_KT}'/></iq>`), 'vrf-key')) };
    const lookup = async (jid: string) => result(await romeo.iq(`<iq type='get' to='${DOMAIN}'><map-lookup xmlns='${NS_KT}' jid='${jid}' node='${NODE}' history='true'/></iq>`), 'map-lookup');
    assert.deepEqual(verifyMapLookup(await lookup('juliet@localhost'), trust, 'juliet@localhost', NODE, true).versions.map((v) => v.version), [1, 2]);
    assert.equal(verifyMapLookup(await lookup('romeo@localhost'), trust, 'romeo@localhost', NODE, true).latest, 1);
    assert.equal(verifyMapLookup(await lookup('nurse@localhost'), trust, 'nurse@localhost', NODE, true).latest, 0);
    const first = await mapCatchesUp();
    // A later key event lands in a later epoch that extends the first.
    assert.equal((await publishKeys(romeo, 4)).attrs.type, 'result');
    const next = await mapCatchesUp();
    assert.ok(next.epoch > first.epoch);
    verifyMapAppend(result(await romeo.iq(`<iq type='get' to='${DOMAIN}'><map-append xmlns='${NS_KT}' from='${first.epoch}' to='${next.epoch}'/></iq>`), 'map-append'), trust);
    assert.equal(verifyMapLookup(await lookup('romeo@localhost'), trust, 'romeo@localhost', NODE, true).latest, 2);
    // The head of the latest epoch reaches the map heads node (signed by the log key, in the key-log process).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const items = await romeo.iq(`<iq type='get' to='${DOMAIN}'><pubsub xmlns='${PUBSUB}'><items node='${KT_MAP_HEADS_NODE}' max_items='1'/></pubsub></iq>`);
      const head = items.getChild('pubsub', PUBSUB)?.getChild('items')?.getChild('item')?.children.find((c): c is Element => typeof c !== 'string');
      if (head && parseMapHead(head).epoch >= next.epoch) {
        assert.ok(verifyMapHead(parseMapHead(head)), 'the published head verifies');
        break;
      }
      if (Date.now() > deadline) assert.fail('the latest map head was not published');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  it('a stop ends the key-log process and the VRF process it started', async () => {
    sessions.destroyAll();
    await t.stop();
    await storage.close();
    const deadline = Date.now() + 30_000;
    while (existsSync(`/proc/${keyLogPid}/task`) || existsSync(`/proc/${vrfPid}/task`)) {
      if (Date.now() > deadline) assert.fail('a background process outlived the stop');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
});
