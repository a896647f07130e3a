// Gossip across a log-key rotation (issue 14): localhost's log key was rotated (`rotateLogKey`, as `kt
// rotate-key` does, before the server starts), so heads signed by the old key still circulate. Romeo pinned
// the new key. A head of the same log signed by the old key, gossiped by the Nurse, is linked by the
// domain's verified rotation statement and compared like any head: an honest one is no split view, a forked
// one is an inconsistent split view (proof, keys linked). A head signed by a key no statement links is
// reported as unlinked-key.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawSessions, type TestServer } from '../helpers/server.ts';
import { buildGossip } from '../../src/client/kt-gossip.ts';
import { rootHash } from '../../src/transparency/tree.ts';
import { logKeyId, rawEd25519PublicKey, signTreeHead } from '../../src/transparency/tree-head.ts';
import { ktAs, nursePublishes, romeoGossipsWithNurse, rotatedDomain } from './kt-rotation-helpers.ts';

const publish = (n: number) => `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:pubkey:2'><item id='k${n}'><pubkey xmlns='urn:xmpp:pubkey:2'/></item></publish></pubsub></iq>`;

describe('kt gossip across a log key rotation', () => {
  let dir: string;
  let t: TestServer;
  let oldKey: KeyObject;
  const sessions = rawSessions(() => t);
  let kt: ReturnType<typeof ktAs>;
  /** The Nurse gossips one head of localhost of `size` entries signed by `key`, over the real root unless `root` is given. */
  const nurseGossips = async (key: KeyObject, size: number, root?: Uint8Array) => {
    const real = await rootHash(size, (refs) => t.storage.transparency.nodes('localhost', refs));
    const head = signTreeHead({ domain: 'localhost', size, time: Date.now() - 60_000, root: root ?? real }, key);
    await nursePublishes(sessions, `g${size}`, buildGossip([head]));
    return head;
  };
  const romeoGossip = () => romeoGossipsWithNurse(kt);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-gossip-rot-'));
    ({ t, oldKey } = await rotatedDomain(dir, 3_600_000));
    kt = ktAs(dir, t);
    const juliet = await sessions.login('juliet', 'r');
    for (let i = 0; i < 3; i++) assert.equal((await juliet.iq(publish(i))).attrs.type, 'result');
    const h = await kt('romeo', ['head', 'localhost', '--json']);
    assert.equal(h.code, 0, h.stderr);
    const pinned = JSON.parse(h.stdout);
    assert.equal(pinned.size, 3);
    assert.notEqual(pinned.logKey, logKeyId(rawEd25519PublicKey(oldKey)), 'Romeo pinned the new key');
  });
  after(async () => {
    sessions.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an honest head signed by the rotated-away key is consistent with the new one', async () => {
    await nurseGossips(oldKey, 2);
    const r = await romeoGossip();
    assert.equal(r.code, 0, r.text);
    assert.equal(r.out.ok, true);
    assert.deepEqual([r.out.splitViews, r.out.unlinkedHeads], [[], []]);
  });

  it('a forked head signed by the rotated-away key is a split view, the keys linked by the rotation', async () => {
    await nurseGossips(oldKey, 2, new Uint8Array(randomBytes(32)));
    const r = await romeoGossip();
    assert.equal(r.code, 5, r.text);
    assert.equal(r.out.splitViews.length, 1);
    const [p] = r.out.splitViews;
    assert.deepEqual([p.kind, p.sameKey, p.rotated], ['inconsistent', false, true]);
    assert.deepEqual(p.heads.map((h: { size: number; by: string[] }) => [h.size, h.by]), [[2, ['nurse@localhost']], [3, ['you']]]);
    assert.deepEqual(r.out.unlinkedHeads, []);
    const text = await kt('romeo', ['gossip', '--with', 'nurse@localhost']);
    assert.match(text.stdout, /which localhost's signed rotation statements link: proof that localhost showed different logs/);
  });

  it('a head signed by a key no rotation links is reported as unlinked-key', async () => {
    const { privateKey: stranger } = generateKeyPairSync('ed25519');
    await nurseGossips(stranger, 3);
    const r = await romeoGossip();
    assert.equal(r.code, 5, r.text);
    assert.deepEqual(r.out.splitViews, []);
    assert.equal(r.out.unlinkedHeads.length, 1);
    const [u] = r.out.unlinkedHeads;
    assert.equal(u.code, 'unlinked-key');
    assert.equal(u.head.logKey, logKeyId(rawEd25519PublicKey(stranger)));
    assert.deepEqual(u.head.by, ['nurse@localhost']);
    const text = await kt('romeo', ['gossip', '--with', 'nurse@localhost']);
    assert.match(text.stdout, /UNLINKED KEY for localhost \[unlinked-key\]: a head of size 3 signed by log key [0-9a-f]{64}, which no rotation statement of localhost links/);
  });
});
