// Map head gossip across a log-key rotation (issue 14 Stage 2): localhost's log key was rotated (`rotateLogKey`,
// as `kt rotate-key` does, before the server starts), so map heads signed by the old key may still circulate.
// Romeo looked Juliet up (his home keeps the map head of the current epoch, signed by the new key). Map heads
// the Nurse gossips are judged with the domain's verified rotation statements, as tree heads are: one of the
// same epoch signed by the rotated-away key is a head of the same domain, so the same content is no split view
// and other content is proof of one (`rotated`); one signed by a key no statement links is reported apart
// (`unlinked-key`), not compared as if it were the domain's.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawSessions, type TestServer } from '../helpers/server.ts';
import { mapCatchesUp } from '../helpers/kt-map.ts';
import { buildGossip } from '../../src/client/kt-gossip.ts';
import { FileKtHeadStore } from '../../src/client/kt-head-store.ts';
import { signMapHead, type SignedMapHead } from '../../src/transparency/map-head.ts';
import { logKeyId, rawEd25519PublicKey } from '../../src/transparency/tree-head.ts';
import { ktAs, nursePublishes, romeoGossipsWithNurse, rotatedDomain } from './kt-rotation-helpers.ts';

const NODE = 'urn:xmpp:pubkey:2';
const publish = (id: string) => `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='${NODE}'><item id='${id}'><pubkey xmlns='urn:xmpp:pubkey:2'/></item></publish></pubsub></iq>`;

describe('kt gossip of map heads across a log key rotation', () => {
  let dir: string;
  let t: TestServer;
  let oldKey: KeyObject;
  /** The map head Romeo verified (signed by the current key). */
  let current: SignedMapHead;
  const sessions = rawSessions(() => t);
  let kt: ReturnType<typeof ktAs>;
  let logins = 0;
  /** The Nurse gossips `heads` (no tree head). */
  const nurseGossips = (...heads: SignedMapHead[]) => nursePublishes(sessions, `g${++logins}`, buildGossip([], heads));
  /** The current epoch's head as `key` signs it, with `change` applied. */
  const resigned = (key: KeyObject, change: Partial<SignedMapHead> = {}) => {
    const { domain, epoch, logSize, time, logRoot, root } = { ...current, ...change };
    return signMapHead({ domain, epoch, logSize, time, logRoot, root }, key);
  };
  const romeoGossip = () => romeoGossipsWithNurse(kt);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-kt-gossip-map-rot-'));
    ({ t, oldKey } = await rotatedDomain(dir, 50));
    kt = ktAs(dir, t);
    const juliet = await sessions.login('juliet', 'r');
    assert.equal((await juliet.iq(publish('k1'))).attrs.type, 'result');
    await mapCatchesUp((xml) => juliet.iq(xml));
    const l = await kt('romeo', ['lookup', 'juliet@localhost', NODE, '--json']);
    assert.equal(l.code, 0, l.stdout + l.stderr);
    const romeoMaps = await new FileKtHeadStore(join(dir, 'romeo', 'kt-heads.json')).listMapHeads();
    assert.equal(romeoMaps.length, 1);
    current = romeoMaps[0]!;
    assert.notEqual(logKeyId(current.key), logKeyId(rawEd25519PublicKey(oldKey)), 'the map head Romeo kept is signed by the new key');
  });
  after(async () => {
    sessions.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a map head of the same epoch and content signed by the rotated-away key is no split view', async () => {
    await nurseGossips(resigned(oldKey));
    const r = await romeoGossip();
    assert.equal(r.code, 0, r.text);
    assert.deepEqual([r.out.mapSplitViews, r.out.unlinkedMapHeads], [[], []]);
  });

  it('a map head of the same epoch with another root signed by the rotated-away key is a split view, the keys linked by the rotation', async () => {
    await nurseGossips(resigned(oldKey, { root: new Uint8Array(randomBytes(32)) }));
    const r = await romeoGossip();
    assert.equal(r.code, 5, r.text);
    assert.equal(r.out.mapSplitViews.length, 1, r.text);
    const [p] = r.out.mapSplitViews;
    assert.deepEqual([p.kind, p.sameKey, p.rotated], ['same-epoch', false, true]);
    assert.deepEqual(p.mapHeads.map((h: { by: string[] }) => h.by), [['you'], ['nurse@localhost']]);
    assert.deepEqual(r.out.unlinkedMapHeads, []);
    const text = await kt('romeo', ['gossip', '--with', 'nurse@localhost']);
    assert.match(text.stdout, /SPLIT VIEW of localhost's map: two map heads of epoch \d+ with different content\./);
    assert.match(text.stdout, /which localhost's signed rotation statements link: proof that localhost showed different maps to different people\./);
  });

  it('a map head signed by a key no rotation links is reported as unlinked-key, even with the same content', async () => {
    const { privateKey: stranger } = generateKeyPairSync('ed25519');
    await nurseGossips(resigned(stranger));
    const r = await romeoGossip();
    assert.equal(r.code, 5, r.text);
    assert.deepEqual(r.out.mapSplitViews, []);
    assert.equal(r.out.unlinkedMapHeads.length, 1, r.text);
    const [u] = r.out.unlinkedMapHeads;
    assert.equal(u.code, 'unlinked-key');
    assert.equal(u.domain, 'localhost');
    assert.equal(u.reference, logKeyId(current.key));
    assert.equal(u.mapHead.logKey, logKeyId(rawEd25519PublicKey(stranger)));
    assert.deepEqual(u.mapHead.by, ['nurse@localhost']);
    const text = await kt('romeo', ['gossip', '--with', 'nurse@localhost']);
    assert.match(text.stdout, new RegExp(`UNLINKED KEY for localhost's map \\[unlinked-key\\]: a map head of epoch ${current.epoch} signed by log key [0-9a-f]{64}, which no rotation statement of localhost links to its key ${logKeyId(current.key)}`));
  });

  it('a map head signed by an unlinked key is not compared as the domain\'s: other content is no split view of the domain', async () => {
    const { privateKey: stranger } = generateKeyPairSync('ed25519');
    await nurseGossips(resigned(stranger, { root: new Uint8Array(randomBytes(32)), logRoot: new Uint8Array(randomBytes(32)) }));
    const r = await romeoGossip();
    assert.equal(r.code, 5, r.text);
    assert.deepEqual(r.out.mapSplitViews, [], 'neither same-epoch against Romeo\'s head nor log-root against his tree head');
    assert.equal(r.out.unlinkedMapHeads.length, 1);
  });

  it('a map head signed by the rotated-away key whose log root is not the tree head\'s at its size is a split view against the log, keys linked', async () => {
    await nurseGossips(resigned(oldKey, { logRoot: new Uint8Array(randomBytes(32)) }));
    const r = await romeoGossip();
    assert.equal(r.code, 5, r.text);
    const kinds = r.out.mapSplitViews.map((p: { kind: string; sameKey: boolean; rotated: boolean }) => [p.kind, p.sameKey, p.rotated]);
    assert.deepEqual(kinds, [['same-epoch', false, true], ['log-root', false, true]]);
    assert.deepEqual(r.out.unlinkedMapHeads, []);
  });

  it('without the means to check a domain\'s keys, its map heads of different keys are compared all the same, with a warning', async () => {
    // A domain this server cannot reach: no head to take the reference key from.
    const domain = 'nowhere.invalid';
    const { privateKey: a } = generateKeyPairSync('ed25519');
    const { privateKey: b } = generateKeyPairSync('ed25519');
    const head = (key: KeyObject, root: number) => signMapHead({ domain, epoch: 3, logSize: 5, time: 1_764_892_800_000, logRoot: new Uint8Array(32).fill(1), root: new Uint8Array(32).fill(root) }, key);
    await nurseGossips(head(a, 2), head(b, 3));
    const r = await romeoGossip();
    assert.equal(r.code, 5, r.text);
    const views = r.out.mapSplitViews.filter((p: { domain: string }) => p.domain === domain);
    assert.deepEqual(views.map((p: { kind: string; sameKey: boolean; rotated: boolean }) => [p.kind, p.sameKey, p.rotated]), [['same-epoch', false, false]]);
    assert.deepEqual(r.out.unlinkedMapHeads, []);
    assert.ok(r.out.warnings.some((w: string) => w.startsWith(`could not check which log keys of ${domain} are its own (`) && w.endsWith('its map heads signed by different keys are compared without its rotation statements')), r.text);
  });
});
