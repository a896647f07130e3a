// Issue 21: the CLI keeps a contact's OMEMO devices and OX keys in the trust store. `key fetch` records them,
// `key list JID` shows them beside XEP-0189 keys, `key trust` takes the fingerprint as profanity or gpg prints
// it, `key verify` counts them, and a device that comes back with another identity key is a change (exit 5),
// while a device added next to the known ones is only new.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { startTestServer, rawSessions, type TestServer } from '../helpers/server.ts';
import { runCli } from './run-cli.ts';

const AXOLOTL = 'eu.siacs.conversations.axolotl';
const OX = 'urn:xmpp:openpgp:0';
const OPEN = `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#access_model'><value>open</value></field></x></publish-options>`;
const publish = (node: string, item: string) => `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='${node}'>${item}</publish>${OPEN}</pubsub></iq>`;
const deviceList = (...ids: number[]) => publish(`${AXOLOTL}.devicelist`, `<item id='current'><list xmlns='${AXOLOTL}'>${ids.map((i) => `<device id='${i}'/>`).join('')}</list></item>`);
const bundle = (id: number, identity: Buffer) =>
  publish(`${AXOLOTL}.bundles:${id}`, `<item id='current'><bundle xmlns='${AXOLOTL}'><identityKey>${Buffer.concat([Buffer.from([5]), identity]).toString('base64')}</identityKey><prekeys/></bundle></item>`);
const grouped = (b: Buffer) => b.toString('hex').replace(/(.{8})(?!$)/g, '$1 ');
const EXIT_TRUST = 5;

describe('OMEMO and OX keys in the trust store, through the CLI', () => {
  let t: TestServer;
  let dir: string;
  const sessions = rawSessions(() => t);
  const DEVICE = 2104777216;
  const first = randomBytes(32);
  let oxFingerprint = '';
  const conn = () => ['--jid', 'romeo@localhost', '--password', 'pw', '--server', `127.0.0.1:${t.port}`, '--insecure', '--home', join(dir, 'romeo')];
  let juliet: Awaited<ReturnType<typeof sessions.login>>;
  const as = async (xml: string) => assert.equal((await juliet.iq(xml)).attrs.type, 'result');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-trust-published-'));
    t = await startTestServer({ users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' } });
    juliet = await sessions.login('juliet', 'profanity');
    await as(deviceList(DEVICE));
    await as(bundle(DEVICE, first));
    // An OX key made the way a client makes one (v4, curve25519), announced in the metadata node and published
    // in binary as XEP-0373 §4.3 says.
    const { publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'xmpp:juliet@localhost' }], format: 'object' });
    oxFingerprint = publicKey.getFingerprint().toUpperCase();
    const data = Buffer.from(publicKey.write()).toString('base64');
    await as(publish(`${OX}:public-keys:${oxFingerprint}`, `<item id='2026-12-05T00:00:00Z'><pubkey xmlns='${OX}'><data>${data}</data></pubkey></item>`));
    await as(publish(`${OX}:public-keys`, `<item id='current'><public-keys-list xmlns='${OX}'><pubkey-metadata v4-fingerprint='${oxFingerprint}' date='2026-12-05T00:00:00Z'/></public-keys-list></item>`));
  });
  after(async () => {
    sessions.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fetch records them as new and unverified', async () => {
    const r = await runCli(['key', 'fetch', 'juliet@localhost', ...conn()]);
    assert.match(r.stdout, /unverified \(new\)/, r.stdout);
    const json = JSON.parse((await runCli(['key', 'fetch', 'juliet@localhost', '--json', ...conn()])).stdout);
    assert.deepEqual(json.trust.map((o: { seen: string; key: { kind: string } }) => [o.seen, o.key.kind]), [['unchanged', `omemo 0.3 device ${DEVICE}`], ['unchanged', 'openpgp (ox)']]);
  });

  it('list JID shows them beside XEP-0189 keys, with the fingerprints their clients print under --long', async () => {
    const r = await runCli(['key', 'list', 'juliet@localhost', '--long', ...conn().slice(-2)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`omemo 0\\.3 device ${DEVICE}`));
    assert.ok(r.stdout.includes(grouped(first)), r.stdout);
    assert.match(r.stdout, /openpgp \(ox\)/);
    assert.ok(r.stdout.includes(`${oxFingerprint.slice(0, 4)} ${oxFingerprint.slice(4, 8)}`), r.stdout);
  });

  it('verify says no key is verified until trust takes the fingerprint as profanity and gpg print it', async () => {
    const before = await runCli(['key', 'verify', 'juliet@localhost', ...conn()]);
    assert.equal(before.code, EXIT_TRUST, before.stdout + before.stderr);
    assert.doesNotMatch(before.stderr, /could not fetch/);
    const omemo = await runCli(['key', 'trust', 'juliet@localhost', grouped(first), ...conn().slice(-2)]);
    assert.equal(omemo.code, 0, omemo.stderr);
    assert.match(omemo.stdout, new RegExp(`verified juliet@localhost's omemo 0\\.3 device ${DEVICE}`));
    const gpgStyle = oxFingerprint.match(/.{4}/g)!.join(' ');
    const ox = await runCli(['key', 'trust', 'juliet@localhost', gpgStyle, ...conn().slice(-2)]);
    assert.equal(ox.code, 0, ox.stderr);
    assert.match(ox.stdout, /openpgp \(ox\)/);
    const after = await runCli(['key', 'verify', 'juliet@localhost', ...conn()]);
    assert.equal(after.code, 0, after.stdout + after.stderr);
    assert.match(after.stdout, /verified omemo 0\.3 device/);
  });

  it('a new device is only new; the known device with another identity key is a change (exit 5)', async () => {
    const second = randomBytes(32);
    await as(deviceList(DEVICE, 17));
    await as(bundle(17, second));
    const added = await runCli(['key', 'fetch', 'juliet@localhost', ...conn()]);
    assert.notEqual(added.code, EXIT_TRUST, added.stdout + added.stderr);
    assert.match(added.stdout, /unverified \(new\)/);
    assert.doesNotMatch(added.stderr, /instead of/);

    const replaced = randomBytes(32);
    await as(bundle(DEVICE, replaced));
    const changed = await runCli(['key', 'fetch', 'juliet@localhost', ...conn()]);
    assert.equal(changed.code, EXIT_TRUST, changed.stdout + changed.stderr);
    assert.ok(changed.stderr.includes(`now has the key ${grouped(replaced)} instead of ${grouped(first)} (verified)`), changed.stderr);
    const list = JSON.parse((await runCli(['key', 'list', 'juliet@localhost', '--json', ...conn().slice(-2)])).stdout);
    const device = list.filter((k: { device?: number }) => k.device === DEVICE).map((k: { displayed_as: string; state: string }) => [k.displayed_as, k.state]);
    assert.deepEqual(device, [[grouped(first), 'verified'], [grouped(replaced), 'unverified']]);
  });
});
