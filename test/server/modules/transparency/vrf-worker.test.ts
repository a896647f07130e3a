import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VrfWorker } from '../../../../src/server/modules/transparency/vrf-worker.ts';
import { mapLabel, verifyMapLabel } from '../../../../src/transparency/map-label.ts';
import { vrfGenerateKeyPair } from '../../../../src/transparency/vrf.ts';

describe('VRF worker', () => {
  it('gives the labels and proofs mapLabel gives, in the order asked, across concurrent requests', async () => {
    const key = vrfGenerateKeyPair();
    const other = vrfGenerateKeyPair();
    const w = new VrfWorker();
    try {
      const items: [string, string, number][] = [['juliet@capulet.lit', 'urn:xmpp:pubkey:2', 1], ['romeo@montague.lit', 'urn:xmpp:pubkey:2', 3], ['juliet@capulet.lit', 'urn:xmpp:pubkey:2', 2]];
      const [batch, one, another] = await Promise.all([
        w.labels(key.secretKey, items),
        w.label(key.secretKey, 'nurse@capulet.lit', 'eu.siacs.conversations.axolotl.devicelist', 1),
        w.label(other.secretKey, 'juliet@capulet.lit', 'urn:xmpp:pubkey:2', 1),
      ]);
      items.forEach(([jid, node, version], i) => {
        const expected = mapLabel(key.secretKey, jid, node, version);
        assert.deepEqual(Buffer.from(batch[i]!.label), Buffer.from(expected.label));
        assert.deepEqual(Buffer.from(batch[i]!.proof), Buffer.from(expected.proof));
      });
      assert.deepEqual(verifyMapLabel(key.publicKey, 'nurse@capulet.lit', 'eu.siacs.conversations.axolotl.devicelist', 1, one.proof), one.label);
      // Another domain's key gives another label for the same triple.
      assert.notDeepEqual(Buffer.from(another.label), Buffer.from(batch[0]!.label));
      assert.deepEqual(verifyMapLabel(other.publicKey, 'juliet@capulet.lit', 'urn:xmpp:pubkey:2', 1, another.proof), another.label);
    } finally {
      await w.close();
    }
  });

  it('reports a triple without an encoding as an error, and goes on answering', async () => {
    const key = vrfGenerateKeyPair();
    const w = new VrfWorker();
    try {
      await assert.rejects(w.label(key.secretKey, 'juliet@capulet.lit/balcony', 'urn:xmpp:pubkey:2', 1), /bare JID/);
      const ok = await w.label(key.secretKey, 'juliet@capulet.lit', 'urn:xmpp:pubkey:2', 1);
      assert.equal(ok.label.length, 32);
    } finally {
      await w.close();
    }
  });

  it('fails what a dead worker owed and starts a new one for the next request', async () => {
    const key = vrfGenerateKeyPair();
    const w = new VrfWorker();
    try {
      await w.label(key.secretKey, 'juliet@capulet.lit', 'urn:xmpp:pubkey:2', 1);
      const owed = w.labels(key.secretKey, Array.from({ length: 50 }, (_, i): [string, string, number] => ['juliet@capulet.lit', 'urn:xmpp:pubkey:2', i + 1]));
      await w['worker']!.terminate();
      await assert.rejects(owed, /exited/);
      const again = await w.label(key.secretKey, 'juliet@capulet.lit', 'urn:xmpp:pubkey:2', 2);
      assert.deepEqual(Buffer.from(again.label), Buffer.from(mapLabel(key.secretKey, 'juliet@capulet.lit', 'urn:xmpp:pubkey:2', 2).label));
    } finally {
      await w.close();
    }
    await assert.rejects(w.label(key.secretKey, 'juliet@capulet.lit', 'urn:xmpp:pubkey:2', 1), /closed/);
  });
});
