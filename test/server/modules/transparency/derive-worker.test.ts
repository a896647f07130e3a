// Key payloads' hashes and fingerprints derived on the worker thread (derive-worker.ts) are exactly what the
// store derives itself (key-event-input.ts deriveKeyEvent): the leaf is the same whoever derived it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { DeriveWorker } from '../../../../src/server/modules/transparency/derive-worker.ts';
import { deriveKeyEvent, type UnderivedPublish } from '../../../../src/transparency/key-event-input.ts';
import { buildPubkey, createPubkey } from '../../../../src/keys/pubkey.ts';

const jid = 'juliet@capulet.lit';
const validity = { begin: new Date('2026-01-01T00:00:00Z'), end: new Date('2027-01-01T00:00:00Z') };
const pubkey = (type: 'ed25519' | 'rsa') =>
  buildPubkey(createPubkey({ publicKey: type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey : generateKeyPairSync('ed25519').publicKey, jid, ...validity, version: 1 })).toString();

const cases: [node: string, payload: string][] = [
  ['urn:xmpp:pubkey:2', pubkey('ed25519')],
  ['urn:xmpp:pubkey:2', pubkey('rsa')],
  ['urn:xmpp:pubkey:2', pubkey('ed25519')],
  ['eu.siacs.conversations.axolotl.bundles:4223', `<bundle xmlns='eu.siacs.conversations.axolotl'><identityKey>${randomBytes(33).toString('base64')}</identityKey></bundle>`],
  [`urn:xmpp:openpgp:0:public-keys:${randomBytes(20).toString('hex').toUpperCase()}`, `<pubkey xmlns='urn:xmpp:openpgp:0'><data>AAAA</data></pubkey>`],
  ['urn:xmpp:pubkey:2', '<not-xml'],
  ['urn:xmpp:pubkey:2', ''],
];
const event = (node: string, payload: string, i: number): UnderivedPublish => ({ type: 'publish', time: 1_760_000_000_000 + i, jid, node, itemId: `i${i}`, payload });

describe('key events derived on a worker thread', () => {
  const worker = new DeriveWorker();
  after(() => worker.close());

  it('gives every payload the hash and fingerprint the store would derive, for requests made in one turn', async () => {
    const events = cases.map(([node, payload], i) => event(node, payload, i));
    const derivations = events.map((e) => worker.derive(e));
    await Promise.all(derivations.map((d) => d.ready));
    derivations.forEach((d, i) => assert.deepEqual(d.value, deriveKeyEvent(events[i]!), `case ${i}`));
    // The keys do have fingerprints (so the comparison above compares something).
    for (const i of [0, 1, 2]) assert.match(derivations[i]!.value!.fingerprint ?? '', /^sha-256:[0-9a-f]{64}$/);
    assert.match(derivations[4]!.value!.fingerprint ?? '', /^openpgp-v4:[0-9a-f]{40}$/);
  });

  it('answers requests of later turns too, in order', async () => {
    for (let round = 0; round < 3; round++) {
      const e = event(cases[round]![0], cases[round]![1], 100 + round);
      const d = worker.derive(e);
      await d.ready;
      assert.deepEqual(d.value, deriveKeyEvent(e));
    }
  });

  it('once closed, settles every derivation without a value (the store then derives the event itself)', async () => {
    const closing = new DeriveWorker();
    const owed = closing.derive(event(cases[0]![0], cases[0]![1], 200));
    await closing.close();
    await owed.ready;
    const later = closing.derive(event(cases[0]![0], cases[0]![1], 201));
    await later.ready;
    assert.equal(later.value, undefined);
  });
});
