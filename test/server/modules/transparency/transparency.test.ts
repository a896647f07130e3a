// Key transparency over real sockets (issue 14, Stage 1): key events on PEP go into the domain's log, the
// domain signs tree heads and publishes them to its heads node, and the urn:pepkeys:kt:0 IQs give proofs
// that verify with the same code a client uses.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../../../helpers/server.ts';
import { RawClient } from '../../../helpers/raw-client.ts';
import { defaultModules } from '../../../../src/server/modules/index.ts';
import { transparencyModule } from '../../../../src/server/modules/transparency/index.ts';
import { logKeyPath } from '../../../../src/server/modules/transparency/log-key.ts';
import type { Element } from '../../../../src/xml/index.ts';
import { buildPubkey, createPubkey, pubkeyPrintId } from '../../../../src/keys/pubkey.ts';
import { KT_HEADS_NODE, NS_KT, parseHashes, parseTreeHead, unb64 } from '../../../../src/transparency/protocol.ts';
import { verifyTreeHead, type SignedTreeHead } from '../../../../src/transparency/tree-head.ts';
import { decodeLeaf } from '../../../../src/transparency/leaf.ts';
import { leafHash, sha256 } from '../../../../src/transparency/hash.ts';
import { verifyInclusion } from '../../../../src/transparency/inclusion.ts';
import { verifyConsistency } from '../../../../src/transparency/consistency.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const DOMAIN = 'localhost';

const condition = (iq: Element) => iq.getChild('error')?.elements.find((e) => e.ns === STANZAS && e.local !== 'text')?.local;
const kt = (c: RawClient, inner: string) => c.iq(`<iq type='get' to='${DOMAIN}'>${inner}</iq>`);
const publish = (c: RawClient, node: string, item: string) => c.iq(`<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='${node}'>${item}</publish></pubsub></iq>`);

async function head(c: RawClient, fresh = false): Promise<SignedTreeHead> {
  const r = await kt(c, `<head xmlns='${NS_KT}'${fresh ? " fresh='true'" : ''}/>`);
  assert.equal(r.attrs.type, 'result', r.toString());
  return parseTreeHead(r.getChild('tree-head', NS_KT)!);
}

describe('key transparency module over TCP', () => {
  let t: TestServer;
  let dataDir: string;
  const clients: RawClient[] = [];
  const login = async (user: string, resource = 'r') => {
    const c = await RawClient.connect(t.port);
    clients.push(c);
    await c.login(`${user}@${DOMAIN}`, 'pw', resource);
    return c;
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-'));
    t = await startTestServer({
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' },
      // A long epoch: heads in these tests come from the first tick and from explicit requests.
      modules: [...defaultModules(), transparencyModule({ dataDir, epochMs: 3_600_000 })],
    });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps the domain log key in the data dir with mode 0600', () => {
    assert.equal(statSync(logKeyPath(dataDir, DOMAIN)).mode & 0o777, 0o600);
  });

  it('logs an XEP-0189 key publish with its payload hash and fingerprint, and proves its inclusion', async () => {
    const juliet = await login('juliet');
    const romeo = await login('romeo');
    const before = await head(romeo, true);
    const { publicKey } = generateKeyPairSync('ed25519');
    const pk = createPubkey({ publicKey, jid: 'juliet@localhost', begin: new Date('2026-01-01T00:00:00Z'), end: new Date('2027-01-01T00:00:00Z'), version: 1 });
    const payload = buildPubkey(pk);
    assert.equal((await publish(juliet, 'urn:xmpp:pubkey:1', `<item id='current'>${payload.toString()}</item>`)).attrs.type, 'result');
    // Not a key node: not logged.
    assert.equal((await publish(juliet, 'urn:xmpp:avatar:metadata', `<item id='a'><metadata xmlns='urn:xmpp:avatar:metadata'/></item>`)).attrs.type, 'result');

    const h = await head(romeo, true);
    assert.ok(verifyTreeHead(h));
    assert.equal(h.domain, DOMAIN);
    assert.equal(h.size, before.size + 1);

    const of = await kt(romeo, `<entries-of xmlns='${NS_KT}' jid='juliet@localhost' size='${h.size}'/>`);
    const entries = of.getChild('entries-of', NS_KT)!.getChildren('entry');
    assert.equal(entries.length, 1);
    const leaf = unb64(entries[0]!.getChildText('leaf'));
    const e = decodeLeaf(leaf);
    assert.equal(e.type, 'publish');
    assert.equal(e.jid, 'juliet@localhost');
    assert.equal(e.node, 'urn:xmpp:pubkey:1');
    assert.equal(e.itemId, 'current');
    assert.equal(e.fingerprint, pubkeyPrintId(pk));
    // The payload hash is over the payload exactly as the server serves it.
    const items = await juliet.iq(`<iq type='get' to='juliet@localhost'><pubsub xmlns='${PUBSUB}'><items node='urn:xmpp:pubkey:1'/></pubsub></iq>`);
    const served = items.getChild('pubsub', PUBSUB)!.getChild('items')!.getChild('item')!.elements[0]!.toString();
    assert.deepEqual(e.payloadHash, sha256(Buffer.from(served, 'utf8')));
    assert.ok(verifyInclusion(e.seq, h.size, leafHash(leaf), parseHashes(entries[0]!), h.root));

    const inc = await kt(romeo, `<inclusion xmlns='${NS_KT}' seq='${e.seq}' size='${h.size}'/>`);
    const el = inc.getChild('inclusion', NS_KT)!;
    assert.deepEqual(unb64(el.getChildText('leaf')), leaf);
    assert.ok(verifyInclusion(e.seq, h.size, leafHash(leaf), parseHashes(el), h.root));
  });

  it('logs OMEMO, OX, retraction, purge and node deletion, and proves each head consistent with the last', async () => {
    const juliet = await login('juliet', 'omemo');
    const h0 = await head(juliet, true);
    await publish(juliet, 'eu.siacs.conversations.axolotl.devicelist', `<item id='current'><list xmlns='eu.siacs.conversations.axolotl'><device id='12345'/></list></item>`);
    await publish(juliet, 'urn:xmpp:openpgp:0:public-keys', `<item id='current'><public-keys-list xmlns='urn:xmpp:openpgp:0'/></item>`);
    await publish(juliet, 'urn:xmpp:revoke:2', `<item id='r1'><revoke xmlns='urn:xmpp:revoke:2'/></item>`);
    await juliet.iq(`<iq type='set'><pubsub xmlns='${PUBSUB}'><retract node='urn:xmpp:revoke:2'><item id='r1'/></retract></pubsub></iq>`);
    await juliet.iq(`<iq type='set'><pubsub xmlns='${PUBSUB}#owner'><purge node='urn:xmpp:openpgp:0:public-keys'/></pubsub></iq>`);
    await juliet.iq(`<iq type='set'><pubsub xmlns='${PUBSUB}#owner'><delete node='eu.siacs.conversations.axolotl.devicelist'/></pubsub></iq>`);
    const h1 = await head(juliet, true);
    assert.equal(h1.size, h0.size + 6);

    const range = await kt(juliet, `<entries xmlns='${NS_KT}' start='${h0.size}' end='${h1.size}' size='${h1.size}'/>`);
    const events = range.getChild('entries', NS_KT)!.getChildren('entry').map((en) => decodeLeaf(unb64(en.text())));
    assert.deepEqual(events.map((ev) => [ev.type, ev.node]), [
      ['publish', 'eu.siacs.conversations.axolotl.devicelist'],
      ['publish', 'urn:xmpp:openpgp:0:public-keys'],
      ['publish', 'urn:xmpp:revoke:2'],
      ['retract', 'urn:xmpp:revoke:2'],
      ['purge', 'urn:xmpp:openpgp:0:public-keys'],
      ['delete', 'eu.siacs.conversations.axolotl.devicelist'],
    ]);
    assert.deepEqual(events.map((ev) => ev.seq), Array.from({ length: 6 }, (_, i) => h0.size + i));

    const cons = await kt(juliet, `<consistency xmlns='${NS_KT}' first='${h0.size}' second='${h1.size}'/>`);
    const proof = parseHashes(cons.getChild('consistency', NS_KT)!);
    assert.ok(verifyConsistency(h0.size, h1.size, proof, h0.root, h1.root));
    // The proof does not carry over to another old root.
    assert.equal(verifyConsistency(h0.size, h1.size, proof, h1.root, h1.root), false);
  });

  it('publishes each new head to the heads node of the domain, which anyone may read and follow', async () => {
    const romeo = await login('romeo', 'follower');
    const sub = await romeo.iq(`<iq type='set' to='${DOMAIN}'><pubsub xmlns='${PUBSUB}'><subscribe node='${KT_HEADS_NODE}' jid='romeo@localhost/follower'/></pubsub></iq>`);
    assert.equal(sub.attrs.type, 'result', sub.toString());
    const juliet = await login('juliet', 'again');
    await publish(juliet, 'urn:xmpp:pubkey:2', `<item id='current'><pubkey xmlns='urn:xmpp:pubkey:2'/></item>`);
    const h = await head(juliet, true);
    const note = await romeo.waitStanza((el) => el.name === 'message' && el.getChild('event', `${PUBSUB}#event`)?.getChild('items')?.attrs.node === KT_HEADS_NODE
      && el.getChild('event', `${PUBSUB}#event`)!.getChild('items')!.getChild('item')?.attrs.id === String(h.size));
    const published = parseTreeHead(note.getChild('event', `${PUBSUB}#event`)!.getChild('items')!.getChild('item')!.getChild('tree-head', NS_KT)!);
    assert.equal(published.size, h.size);
    assert.ok(verifyTreeHead(published));
    const items = await romeo.iq(`<iq type='get' to='${DOMAIN}'><pubsub xmlns='${PUBSUB}'><items node='${KT_HEADS_NODE}' max_items='1'/></pubsub></iq>`);
    const last = parseTreeHead(items.getChild('pubsub', PUBSUB)!.getChild('items')!.getChild('item')!.getChild('tree-head', NS_KT)!);
    assert.equal(last.size, h.size);
    // Nobody but the server writes there.
    const denied = await romeo.iq(`<iq type='set' to='${DOMAIN}'><pubsub xmlns='${PUBSUB}'><publish node='${KT_HEADS_NODE}'><item id='999999'><tree-head xmlns='${NS_KT}'/></item></publish></pubsub></iq>`);
    assert.equal(denied.attrs.type, 'error');
  });

  it('refuses malformed requests and sizes beyond the latest signed head', async () => {
    const romeo = await login('romeo', 'errors');
    const h = await head(romeo);
    assert.equal(condition(await kt(romeo, `<inclusion xmlns='${NS_KT}' seq='x'/>`)), 'bad-request');
    assert.equal(condition(await kt(romeo, `<inclusion xmlns='${NS_KT}' seq='${h.size}' size='${h.size}'/>`)), 'item-not-found');
    assert.equal(condition(await kt(romeo, `<consistency xmlns='${NS_KT}' first='1' second='${h.size + 5}'/>`)), 'item-not-found');
    assert.equal(condition(await kt(romeo, `<consistency xmlns='${NS_KT}' first='${h.size}' second='1'/>`)), 'bad-request');
    assert.equal(condition(await kt(romeo, `<entries-of xmlns='${NS_KT}' jid='@@'/>`)), 'bad-request');
    assert.equal(condition(await kt(romeo, `<frobnicate xmlns='${NS_KT}'/>`)), 'feature-not-implemented');
  });
});

describe('key transparency off (the default)', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  before(async () => {
    t = await startTestServer({ users: { 'juliet@localhost': 'pw' } });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t.stop();
  });

  it('logs nothing, answers the namespace with service-unavailable, and lets nobody write the domain service', async () => {
    const juliet = await RawClient.connect(t.port);
    clients.push(juliet);
    await juliet.login('juliet@localhost', 'pw', 'r');
    assert.equal((await publish(juliet, 'urn:xmpp:pubkey:2', `<item id='current'><pubkey xmlns='urn:xmpp:pubkey:2'/></item>`)).attrs.type, 'result');
    assert.equal(await t.storage.transparency.size(DOMAIN), 0);
    assert.equal(condition(await kt(juliet, `<head xmlns='${NS_KT}'/>`)), 'service-unavailable');
    const create = await juliet.iq(`<iq type='set' to='${DOMAIN}'><pubsub xmlns='${PUBSUB}'><create node='mine'/></pubsub></iq>`);
    assert.equal(create.attrs.type, 'error');
    const pub = await juliet.iq(`<iq type='set' to='${DOMAIN}'><pubsub xmlns='${PUBSUB}'><publish node='x'><item><x xmlns='urn:x'/></item></publish></pubsub></iq>`);
    assert.equal(pub.attrs.type, 'error');
  });
});
