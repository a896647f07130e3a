// A contact's OMEMO devices (legacy and 0.8+) and OX keys read by our client from a live server, published with
// the stanzas profanity and the XEP-0384 / XEP-0373 examples use: the fingerprints come out in the form the
// contact's client shows, an OX key is accepted only under its own fingerprint, and what cannot be read says why.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';
import { startTestServer, rawSessions, type TestServer } from '../helpers/server.ts';
import { XmppClient, fetchPublishedKeys } from '../../src/client/index.ts';

const AXOLOTL = 'eu.siacs.conversations.axolotl';
const OMEMO2 = 'urn:xmpp:omemo:2';
const OX = 'urn:xmpp:openpgp:0';
const OPEN = `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#access_model'><value>open</value></field></x></publish-options>`;
const publish = (node: string, item: string) => `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='${node}'>${item}</publish>${OPEN}</pubsub></iq>`;

describe('fetchPublishedKeys', () => {
  let t: TestServer;
  const sessions = rawSessions(() => t);
  let client: XmppClient;
  const legacyKey = randomBytes(32);
  const omemo2Key = randomBytes(32);
  let oxFingerprint = '';
  let otherFingerprint = '';

  before(async () => {
    t = await startTestServer({ users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' } });
    const juliet = await sessions.login('juliet', 'publisher');
    const ok = async (xml: string) => assert.equal((await juliet.iq(xml)).attrs.type, 'result');
    // Legacy OMEMO as profanity publishes it: libsignal's 0x05 type byte before the Curve25519 key.
    await ok(publish(`${AXOLOTL}.devicelist`, `<item id='current'><list xmlns='${AXOLOTL}'><device id='1706424129'/><device id='77'/></list></item>`));
    await ok(publish(`${AXOLOTL}.bundles:1706424129`,
      `<item id='current'><bundle xmlns='${AXOLOTL}'><signedPreKeyPublic signedPreKeyId='1'>${randomBytes(33).toString('base64')}</signedPreKeyPublic>` +
      `<signedPreKeySignature>${randomBytes(64).toString('base64')}</signedPreKeySignature><identityKey>${Buffer.concat([Buffer.from([5]), legacyKey]).toString('base64')}</identityKey>` +
      `<prekeys><preKeyPublic preKeyId='1'>${randomBytes(33).toString('base64')}</preKeyPublic></prekeys></bundle></item>`));
    // OMEMO 0.8+: one bundles node, item id = device id, bare Ed25519 identity key.
    await ok(publish(`${OMEMO2}:devices`, `<item id='current'><devices xmlns='${OMEMO2}'><device id='31415' label='Dino on laptop'/></devices></item>`));
    await ok(publish(`${OMEMO2}:bundles`,
      `<item id='31415'><bundle xmlns='${OMEMO2}'><spk id='1'>${randomBytes(32).toString('base64')}</spk><spks>${randomBytes(64).toString('base64')}</spks>` +
      `<ik>${omemo2Key.toString('base64')}</ik><prekeys><pk id='1'>${randomBytes(32).toString('base64')}</pk><pk id='2'>${randomBytes(32).toString('base64')}</pk></prekeys></bundle></item>`));
    // OX: one key as profanity sends it (base64 of the armored export), one under a name that is not its own.
    const { publicKey } = await openpgp.generateKey({ userIDs: [{ name: 'xmpp:juliet@localhost' }], type: 'ecc', curve: 'curve25519Legacy', format: 'armored' });
    const key = await openpgp.readKey({ armoredKey: publicKey });
    oxFingerprint = key.getFingerprint().toUpperCase();
    const other = await openpgp.generateKey({ userIDs: [{ name: 'xmpp:mallory@localhost' }], type: 'ecc', curve: 'curve25519Legacy', format: 'binary' });
    otherFingerprint = '0123456789ABCDEF0123456789ABCDEF01234567';
    await ok(publish(`${OX}:public-keys:${oxFingerprint}`, `<item id='2026-12-05T01:00:00Z'><pubkey xmlns='${OX}'><data>${Buffer.from(publicKey).toString('base64')}</data></pubkey></item>`));
    await ok(publish(`${OX}:public-keys:${otherFingerprint}`, `<item id='2026-12-05T01:00:00Z'><pubkey xmlns='${OX}'><data>${Buffer.from(other.publicKey).toString('base64')}</data></pubkey></item>`));
    await ok(publish(`${OX}:public-keys`,
      `<item><public-keys-list xmlns='${OX}'><pubkey-metadata v4-fingerprint='${oxFingerprint}' date='2026-12-05T01:00:00Z'/>` +
      `<pubkey-metadata v4-fingerprint='${otherFingerprint}' date='2026-12-05T01:00:00Z'/></public-keys-list></item>`));
    client = await XmppClient.connect({ jid: 'romeo@localhost', password: 'pw', host: '127.0.0.1', port: t.port, resource: 'reader', tls: { rejectUnauthorized: false } });
  });
  after(async () => {
    await client?.close();
    sessions.destroyAll();
    await t.stop();
  });

  it('lists OMEMO devices of both generations with the fingerprints their clients print', async () => {
    const keys = await fetchPublishedKeys(client, 'juliet@localhost');
    const legacy = keys.omemo.find((d) => d.deviceId === 1706424129)!;
    assert.equal(legacy.version, 'legacy');
    assert.equal(legacy.fingerprint!.replaceAll(' ', ''), legacyKey.toString('hex'));
    assert.match(legacy.fingerprint!, /^([0-9a-f]{8} ){7}[0-9a-f]{8}$/);
    const modern = keys.omemo.find((d) => d.deviceId === 31415)!;
    assert.equal(modern.version, 'omemo2');
    assert.equal(modern.label, 'Dino on laptop');
    assert.equal(modern.fingerprint!.replaceAll(' ', ''), omemo2Key.toString('hex'));
    assert.equal(modern.preKeys, 2);
    // Device 77 is listed but published no bundle: kept, with the reason.
    const missing = keys.omemo.find((d) => d.deviceId === 77)!;
    assert.equal(missing.fingerprint, undefined);
    assert.equal(missing.problem?.code, 'no-key');
  });

  it('reads OX keys, accepting each only under its own fingerprint', async () => {
    const keys = await fetchPublishedKeys(client, 'juliet@localhost');
    const good = keys.ox.find((k) => k.fingerprint === oxFingerprint)!;
    assert.equal(good.problem, undefined);
    assert.deepEqual(good.userIds, ['xmpp:juliet@localhost']);
    assert.match(good.display, /^([0-9A-F]{4} ){4}[0-9A-F]{4} {2}([0-9A-F]{4} ){4}[0-9A-F]{4}$/);
    const forged = keys.ox.find((k) => k.fingerprint === otherFingerprint)!;
    assert.equal(forged.problem?.code, 'malformed-key');
    assert.match(forged.problem!.message, /has fingerprint/);
  });

  it('says why when a contact has published nothing', async () => {
    const keys = await fetchPublishedKeys(client, 'romeo@localhost');
    assert.deepEqual(keys.omemo, []);
    assert.deepEqual(keys.ox, []);
    assert.ok(keys.problems.some((p) => p.node === `${AXOLOTL}.devicelist` && p.problem.code === 'no-key'), JSON.stringify(keys.problems));
  });
});
