// OMEMO and OX payload parsing on the spec examples' shapes: device lists of both generations, bundle identity
// keys with and without libsignal's type byte, malformed entries left out or refused, OX metadata, and
// fingerprints printed the way the clients print them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from '../../src/xml/index.ts';
import {
  parseOmemoDeviceList, parseOmemoBundle, formatOmemoFingerprint, omemoBundleLocation, omemoDeviceListNode,
  parseOxPublicKeysList, formatOpenPgpFingerprint, KeyError,
} from '../../src/keys/index.ts';

describe('OMEMO payloads', () => {
  it('reads XEP-0384 Example 4 (0.8+ device list with labels) and the legacy list', () => {
    const modern = parseOmemoDeviceList(parseXml(`<devices xmlns='urn:xmpp:omemo:2'><device id='12345' label='Dino on Lenovo Thinkpad T495' labelsig='x'/><device id='4223'/><device id='31415' label='Conversations on Pixel 3' labelsig='x'/></devices>`));
    assert.equal(modern.version, 'omemo2');
    assert.deepEqual(modern.devices.map((d) => d.id), [12345, 4223, 31415]);
    assert.equal(modern.devices[0]!.label, 'Dino on Lenovo Thinkpad T495');
    const legacy = parseOmemoDeviceList(parseXml(`<list xmlns='eu.siacs.conversations.axolotl'><device id='12345'/><device id='4223'/></list>`));
    assert.equal(legacy.version, 'legacy');
    assert.deepEqual(legacy.devices, [{ id: 12345 }, { id: 4223 }]);
  });

  it('leaves out device ids outside 1..2^31-1 and refuses what is not a device list', () => {
    const r = parseOmemoDeviceList(parseXml(`<list xmlns='eu.siacs.conversations.axolotl'><device id='0'/><device id='2147483648'/><device id='-5'/><device id='abc'/><device/><device id='2147483647'/></list>`));
    assert.deepEqual(r.devices, [{ id: 2147483647 }]);
    assert.throws(() => parseOmemoDeviceList(parseXml(`<list xmlns='urn:example'/>`)), KeyError);
  });

  it('takes the identity key without the 0x05 type byte (legacy) and as is (0.8+)', () => {
    const key = Buffer.alloc(32, 0xab);
    const legacy = parseOmemoBundle(parseXml(`<bundle xmlns='eu.siacs.conversations.axolotl'><signedPreKeyPublic signedPreKeyId='7'>AA==</signedPreKeyPublic><identityKey>${Buffer.concat([Buffer.from([5]), key]).toString('base64')}</identityKey><prekeys><preKeyPublic preKeyId='1'>AA==</preKeyPublic><preKeyPublic preKeyId='2'>AA==</preKeyPublic></prekeys></bundle>`));
    assert.deepEqual(legacy.identityKey, key);
    assert.equal(legacy.signedPreKeyId, 7);
    assert.equal(legacy.preKeys, 2);
    const modern = parseOmemoBundle(parseXml(`<bundle xmlns='urn:xmpp:omemo:2'><spk id='1'>AA==</spk><spks>AA==</spks><ik>${key.toString('base64')}</ik><prekeys><pk id='1'>AA==</pk></prekeys></bundle>`));
    assert.deepEqual(modern.identityKey, key);
    assert.throws(() => parseOmemoBundle(parseXml(`<bundle xmlns='urn:xmpp:omemo:2'><ik>${Buffer.alloc(31).toString('base64')}</ik></bundle>`)), /31 bytes/);
    assert.throws(() => parseOmemoBundle(parseXml(`<bundle xmlns='urn:xmpp:omemo:2'/>`)), /without an identity key/);
  });

  it('prints fingerprints in groups of eight hex digits and knows where each generation keeps its nodes', () => {
    assert.equal(formatOmemoFingerprint(Buffer.from('6dd4aa051f8b891e5ae017639d8ff74a1b10698c2ab17fa0cdafe55f8158c545', 'hex')), '6dd4aa05 1f8b891e 5ae01763 9d8ff74a 1b10698c 2ab17fa0 cdafe55f 8158c545');
    assert.equal(omemoDeviceListNode('legacy'), 'eu.siacs.conversations.axolotl.devicelist');
    assert.equal(omemoDeviceListNode('omemo2'), 'urn:xmpp:omemo:2:devices');
    assert.deepEqual(omemoBundleLocation('legacy', 42), { node: 'eu.siacs.conversations.axolotl.bundles:42' });
    assert.deepEqual(omemoBundleLocation('omemo2', 42), { node: 'urn:xmpp:omemo:2:bundles', itemId: '42' });
  });
});

describe('OX payloads', () => {
  it('reads XEP-0373 Example 3, upper-casing fingerprints and dropping repeats and malformed ones', () => {
    const list = parseOxPublicKeysList(parseXml(
      `<public-keys-list xmlns='urn:xmpp:openpgp:0'><pubkey-metadata v4-fingerprint='1357B01865B2503C18453D208CAC2A9678548E35' date='2018-03-01T15:26:12Z'/>` +
      `<pubkey-metadata v4-fingerprint='67819b343b2ab70ded9320872c6464af2a8e4c02' date='1953-05-16T12:00:00Z'/>` +
      `<pubkey-metadata v4-fingerprint='1357B01865B2503C18453D208CAC2A9678548E35' date='2019-01-01T00:00:00Z'/><pubkey-metadata v4-fingerprint='XYZ'/></public-keys-list>`,
    ));
    assert.deepEqual(list, [
      { fingerprint: '1357B01865B2503C18453D208CAC2A9678548E35', date: '2018-03-01T15:26:12Z' },
      { fingerprint: '67819B343B2AB70DED9320872C6464AF2A8E4C02', date: '1953-05-16T12:00:00Z' },
    ]);
  });

  it('prints a v4 fingerprint as gpg does', () => {
    assert.equal(formatOpenPgpFingerprint('1357B01865B2503C18453D208CAC2A9678548E35'), '1357 B018 65B2 503C 1845  3D20 8CAC 2A96 7854 8E35');
  });
});
