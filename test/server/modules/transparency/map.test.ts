// The verifiable map over real sockets (issue 14 Stage 2): key events published on PEP go into the domain's
// map after the next tree head, under VRF labels; lookups, histories and append-only proofs verify with the
// client's code; and a server patched here to lie (hide the latest version, leave an entry out of an
// append-only proof, answer with another JID's entry) is caught.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../../../helpers/server.ts';
import { RawClient } from '../../../helpers/raw-client.ts';
import { defaultModules } from '../../../../src/server/modules/index.ts';
import { transparencyModule } from '../../../../src/server/modules/transparency/index.ts';
import type { Element } from '../../../../src/xml/index.ts';
import { NS_KT } from '../../../../src/transparency/protocol.ts';
import { mapCatchesUp as waitForMap } from '../../../helpers/kt-map.ts';
import { parseVrfKey } from '../../../../src/transparency/vrf-key.ts';
import { decodeLeaf } from '../../../../src/transparency/leaf.ts';
import type { KtMapStore } from '../../../../src/storage/kt-map.ts';
import { KtMapVerifyError, verifyMapAppend, verifyMapLookup, type MapTrust } from '../../../../src/client/kt-map.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const DOMAIN = 'localhost';
const NODE = 'urn:xmpp:openpgp:0:public-keys';
const kt = (c: RawClient, inner: string) => c.iq(`<iq type='get' to='${DOMAIN}'>${inner}</iq>`);
const publishKeys = (c: RawClient, n: number) =>
  c.iq(`<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='${NODE}'><item id='current'><public-keys-list xmlns='urn:xmpp:openpgp:0'><pubkey-metadata v4-fingerprint='${String(n).repeat(40).slice(0, 40)}' date='2026-01-01T00:00:00Z'/></public-keys-list></item></publish></pubsub></iq>`);
const result = (iq: Element, name: string): Element => {
  assert.equal(iq.attrs.type, 'result', iq.toString());
  return iq.getChild(name, NS_KT)!;
};
const rejects = (fn: () => unknown, code: string) => assert.throws(fn, (err: unknown) => err instanceof KtMapVerifyError && err.code === code);

describe('verifiable map over TCP', () => {
  let t: TestServer;
  let dataDir: string;
  let romeo: RawClient;
  let trust: MapTrust;
  const clients: RawClient[] = [];
  const login = async (user: string) => {
    const c = await RawClient.connect(t.port);
    clients.push(c);
    await c.login(`${user}@${DOMAIN}`, 'pw', 'r');
    return c;
  };
  const lookup = async (jid: string, history = false) => result(await kt(romeo, `<map-lookup xmlns='${NS_KT}' jid='${jid}' node='${NODE}' history='${history}'/>`), 'map-lookup');
  const mapCatchesUp = () => waitForMap((xml) => romeo.iq(xml));

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-map-'));
    t = await startTestServer({
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw', 'nurse@localhost': 'pw' },
      modules: [...defaultModules(), transparencyModule({ dataDir, epochMs: 50 })],
    });
    const juliet = await login('juliet');
    romeo = await login('romeo');
    assert.equal((await publishKeys(juliet, 1)).attrs.type, 'result');
    // Juliet's second key in a later epoch: the map keeps one version of a (JID, node) per epoch (epoch-leaves.ts).
    await mapCatchesUp();
    assert.equal((await publishKeys(juliet, 2)).attrs.type, 'result');
    assert.equal((await publishKeys(romeo, 3)).attrs.type, 'result');
    trust = { domain: DOMAIN, vrfKey: parseVrfKey(result(await kt(romeo, `<vrf-key xmlns='${NS_KT}'/>`), 'vrf-key')) };
    await mapCatchesUp();
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a lookup proves the latest version of (JID, node), its log leaf, and that no newer one exists', async () => {
    const v = verifyMapLookup(await lookup('juliet@localhost'), trust, 'juliet@localhost', NODE, false);
    assert.equal(v.latest, 2);
    assert.deepEqual(v.versions.map((x) => x.version), [2]);
    const ev = decodeLeaf(v.versions[0]!.leaf);
    assert.equal(ev.jid, 'juliet@localhost');
    assert.equal(ev.type, 'publish');
  });

  it('a history shows every version; a JID without keys is proven to have none', async () => {
    const h = verifyMapLookup(await lookup('juliet@localhost', true), trust, 'juliet@localhost', NODE, true);
    assert.deepEqual(h.versions.map((x) => x.version), [1, 2]);
    assert.ok(h.versions[0]!.seq < h.versions[1]!.seq);
    const none = verifyMapLookup(await lookup('nurse@localhost'), trust, 'nurse@localhost', NODE, false);
    assert.equal(none.latest, 0);
    assert.deepEqual(none.versions, []);
  });

  it('the map only grows: append-only proofs from the empty map and between epochs verify', async () => {
    const latest = await mapCatchesUp();
    const all = verifyMapAppend(result(await kt(romeo, `<map-append xmlns='${NS_KT}' from='0'/>`), 'map-append'), trust);
    assert.equal(all.to.epoch, latest.epoch);
    assert.equal(all.inserted, latest.logSize);
    if (latest.epoch > 1) verifyMapAppend(result(await kt(romeo, `<map-append xmlns='${NS_KT}' from='1' to='${latest.epoch}'/>`), 'map-append'), trust);
    // A later key event shows in a later epoch, which extends the earlier one.
    assert.equal((await publishKeys(romeo, 4)).attrs.type, 'result');
    const next = await mapCatchesUp();
    assert.ok(next.epoch > latest.epoch);
    verifyMapAppend(result(await kt(romeo, `<map-append xmlns='${NS_KT}' from='${latest.epoch}' to='${next.epoch}'/>`), 'map-append'), trust);
    assert.equal(verifyMapLookup(await lookup('romeo@localhost'), trust, 'romeo@localhost', NODE, false).latest, 2);
  });

  it('a malformed answer (no label encoding for the version, bad base64) is a bad answer, not a crash', async () => {
    const zero = await lookup('juliet@localhost');
    zero.getChild('absent', NS_KT)!.attrs.n = '0';
    rejects(() => verifyMapLookup(zero, trust, 'juliet@localhost', NODE, false), 'bad-answer');
    const garbled = await lookup('juliet@localhost');
    garbled.getChild('version', NS_KT)!.attrs.commitment = '!!';
    rejects(() => verifyMapLookup(garbled, trust, 'juliet@localhost', NODE, false), 'bad-answer');
  });

  describe('a server patched to lie', () => {
    let store: KtMapStore;
    let original: Pick<KtMapStore, 'versions' | 'inserted'>;
    before(() => {
      store = t.storage.ktMap!;
      original = { versions: store.versions, inserted: store.inserted };
    });
    /** The answer of the server with `patch` applied to its map store. */
    const patched = async (patch: Partial<KtMapStore>, ask: () => Promise<Element>): Promise<Element> => {
      Object.assign(store, patch);
      try {
        return await ask();
      } finally {
        Object.assign(store, original);
      }
    };

    it('hiding the latest version: the proof that it is absent fails against the root', async () => {
      const answer = await patched({ versions: async (...args) => (await original.versions(...args)).slice(0, -1) }, () => lookup('juliet@localhost'));
      rejects(() => verifyMapLookup(answer, trust, 'juliet@localhost', NODE, false), 'non-membership');
    });

    it('leaving an entry out of an append-only proof: the new root is not rebuilt', async () => {
      const answer = await patched({ inserted: async (...args) => (await original.inserted(...args)).slice(1) }, async () =>
        result(await kt(romeo, `<map-append xmlns='${NS_KT}' from='0'/>`), 'map-append'));
      rejects(() => verifyMapAppend(answer, trust), 'not-append-only');
    });

    it("answering with another JID's entry: the VRF check fails", async () => {
      const answer = await patched({ versions: (domain, _jid, _node, from, limit) => original.versions(domain, 'romeo@localhost', NODE, from, limit) }, () => lookup('juliet@localhost'));
      rejects(() => verifyMapLookup(answer, trust, 'juliet@localhost', NODE, false), 'vrf');
    });
  });
});
