import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { deriveKeyEvent, FingerprintCache, type KeyEventInput } from '../../src/transparency/key-events.ts';
import { buildPubkey, createPubkey } from '../../src/keys/pubkey.ts';
import { sha256 } from '../../src/transparency/hash.ts';

const pubkey = () =>
  buildPubkey(createPubkey({ publicKey: generateKeyPairSync('ed25519').publicKey, jid: 'juliet@capulet.lit', begin: new Date('2026-01-01T00:00:00Z'), end: new Date('2027-01-01T00:00:00Z'), version: 1 })).toString();

const publish = (node: string, payload: string, itemId = 'current'): KeyEventInput => ({ type: 'publish', time: 1_764_000_000_000, jid: 'juliet@capulet.lit', node, itemId, payload });

const OX_FPR = 'ABCDEF0123456789ABCDEF0123456789ABCDEF01';
const CASES: [string, string][] = [
  ['a key', 'urn:xmpp:pubkey:2'],
  ['a payload without a fingerprint', 'urn:xmpp:omemo:2:devices'],
  ['a payload that does not parse', 'urn:xmpp:pubkey:2'],
  ['an OX key node (the print is in the node)', `urn:xmpp:openpgp:0:public-keys:${OX_FPR}`],
];

test('deriveKeyEvent: a remembered fingerprint is the one computed anew, for every kind of payload', () => {
  const key = pubkey();
  const payloads = [key, "<devices xmlns='urn:xmpp:omemo:2'><device id='1'/></devices>", '<pubkey xmlns="urn:xmpp:pubkey:2"><key>', key];
  const cache = new FingerprintCache();
  CASES.forEach(([what, node], i) => {
    const fresh = deriveKeyEvent(publish(node, payloads[i]!), null);
    const first = deriveKeyEvent(publish(node, payloads[i]!), cache);
    const again = deriveKeyEvent(publish(node, payloads[i]!, 'other'), cache);
    assert.deepEqual(first, fresh, what);
    assert.deepEqual({ ...again, itemId: 'current' }, fresh, `${what}, from the cache`);
    assert.deepEqual(again.payloadHash, sha256(Buffer.from(payloads[i]!, 'utf8')));
  });
  assert.match(deriveKeyEvent(publish('urn:xmpp:pubkey:2', key), cache).fingerprint ?? '', /^sha-256:[0-9a-f]{64}$/);
  assert.equal(deriveKeyEvent(publish('urn:xmpp:pubkey:2', payloads[2]!), cache).fingerprint, undefined, 'a payload that does not parse has none');
  assert.equal(deriveKeyEvent(publish(CASES[3]![1], key), cache).fingerprint, `openpgp-v4:${OX_FPR.toLowerCase()}`);
});

test('deriveKeyEvent: the same payload on another node is not taken from the cache', () => {
  const cache = new FingerprintCache();
  const key = pubkey();
  // On an OX key node the print is the node's; the same bytes on a pubkey node name the key they hold.
  assert.equal(deriveKeyEvent(publish(`urn:xmpp:openpgp:0:public-keys:${OX_FPR}`, key), cache).fingerprint, `openpgp-v4:${OX_FPR.toLowerCase()}`);
  assert.equal(deriveKeyEvent(publish('urn:xmpp:pubkey:2', key), cache).fingerprint, deriveKeyEvent(publish('urn:xmpp:pubkey:2', key), null).fingerprint);
  assert.match(deriveKeyEvent(publish('urn:xmpp:pubkey:2', key), cache).fingerprint ?? '', /^sha-256:/);
});

test('FingerprintCache: holds at most its size, the least recently used going first', () => {
  const cache = new FingerprintCache(2);
  const [a, b, c] = [pubkey(), pubkey(), pubkey()];
  const hash = (p: string) => sha256(Buffer.from(p, 'utf8'));
  const node = 'urn:xmpp:pubkey:2';
  cache.set(node, hash(a), 'sha-256:aa');
  cache.set(node, hash(b), undefined);
  assert.deepEqual(cache.get(node, hash(a)), { fingerprint: 'sha-256:aa' });
  cache.set(node, hash(c), 'sha-256:cc');
  assert.equal(cache.size, 2);
  assert.equal(cache.get(node, hash(b)), undefined, 'b was the least recently used');
  assert.deepEqual(cache.get(node, hash(a)), { fingerprint: 'sha-256:aa' });
  assert.deepEqual(cache.get(node, hash(c)), { fingerprint: 'sha-256:cc' });
});
