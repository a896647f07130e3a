// The leaf encoding and the tree-head signature input, byte for byte as docs/transparency.md specifies
// them (the worked example there is this test's vector), and their refusals.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { decodeLeaf, encodeLeaf, KEY_EVENT_TYPES, LeafFormatError, type KeyEvent } from '../../src/transparency/leaf.ts';
import { leafHash, sha256 } from '../../src/transparency/hash.ts';
import { signTreeHead, treeHeadSignatureInput, verifyTreeHead } from '../../src/transparency/tree-head.ts';
import { buildTreeHead, parseTreeHead } from '../../src/transparency/protocol.ts';
import { isKeyNode } from '../../src/transparency/key-events.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const EXAMPLE: KeyEvent = {
  type: 'publish', seq: 5, time: 1764892800000, jid: 'juliet@capulet.lit', node: 'urn:xmpp:pubkey:2', itemId: 'current',
  payloadHash: sha256(Buffer.from('<pubkey xmlns="urn:xmpp:pubkey:2"/>')), fingerprint: 'sha-256:00112233',
};
const EXAMPLE_HEX =
  '0001' + '0000000000000005' + '0000019aebcef400' + '0012' + Buffer.from('juliet@capulet.lit').toString('hex') +
  '0011' + Buffer.from('urn:xmpp:pubkey:2').toString('hex') + '0007' + Buffer.from('current').toString('hex') +
  '20' + 'afe456939d66bb0fe99fa4a1a5fbab6cb96c5cb7f18d45d8eacae6d9755c05bf' + '0010' + Buffer.from('sha-256:00112233').toString('hex');

describe('leaf encoding', () => {
  it('encodes the worked example of docs/transparency.md', () => {
    assert.equal(hex(encodeLeaf(EXAMPLE)), EXAMPLE_HEX);
    assert.equal(hex(leafHash(encodeLeaf(EXAMPLE))), 'f4287a29ec446b66011a73b3610580ba3bb8bb015d77f11f6cdf390f87744b77');
    assert.deepEqual(decodeLeaf(encodeLeaf(EXAMPLE)), EXAMPLE);
  });

  it('round-trips any event, and refuses any truncation, extension or unknown version', () => {
    const event = fc.record({
      type: fc.constantFrom(...KEY_EVENT_TYPES),
      seq: fc.nat(),
      time: fc.nat(),
      jid: fc.string({ maxLength: 40 }),
      node: fc.string({ maxLength: 40 }),
      itemId: fc.string({ maxLength: 20 }),
      payloadHash: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: undefined }),
      fingerprint: fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }),
    }).map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as unknown as KeyEvent);
    fc.assert(fc.property(event, fc.nat(), (e, cut) => {
      const bytes = encodeLeaf(e);
      assert.deepEqual(decodeLeaf(bytes), e);
      assert.throws(() => decodeLeaf(bytes.subarray(0, cut % bytes.length)), LeafFormatError);
      assert.throws(() => decodeLeaf(Uint8Array.from([...bytes, 0])), LeafFormatError);
      assert.throws(() => decodeLeaf(Uint8Array.from([1, ...bytes.subarray(1)])), LeafFormatError);
    }));
  });
});

describe('signed tree heads', () => {
  it('signs the documented input, verifies, and fails for any other size, time, root, domain or key', () => {
    const root = leafHash(encodeLeaf(EXAMPLE));
    const input = treeHeadSignatureInput({ domain: 'capulet.lit', size: 6, time: 1764892801000, root });
    assert.equal(hex(input), Buffer.from('urn:pepkeys:kt:0:tree-head\0').toString('hex') + '000b' + Buffer.from('capulet.lit').toString('hex') +
      '0000000000000006' + '0000019aebcef7e8' + hex(root));
    const { privateKey } = generateKeyPairSync('ed25519');
    const head = signTreeHead({ domain: 'capulet.lit', size: 6, time: 1764892801000, root }, privateKey);
    assert.ok(verifyTreeHead(head));
    assert.ok(verifyTreeHead(parseTreeHead(buildTreeHead(head))));
    const other = generateKeyPairSync('ed25519').privateKey;
    assert.equal(verifyTreeHead({ ...head, size: 7 }), false);
    assert.equal(verifyTreeHead({ ...head, time: head.time + 1 }), false);
    assert.equal(verifyTreeHead({ ...head, domain: 'montague.lit' }), false);
    assert.equal(verifyTreeHead({ ...head, root: sha256(root) }), false);
    assert.equal(verifyTreeHead({ ...head, key: signTreeHead(head, other).key }), false);
  });
});

describe('key nodes', () => {
  it('counts XEP-0189 (all versions), OMEMO (legacy and 0.8+) and OX nodes, and nothing else', () => {
    for (const n of ['urn:xmpp:pubkey:1', 'urn:xmpp:pubkey:2', 'urn:xmpp:revoke:2', 'urn:xmpp:attest:1', 'urn:xmpp:tmp:pubkey',
      'http://www.xmpp.org/extensions/xep-0189.html#ns', 'eu.siacs.conversations.axolotl.devicelist', 'eu.siacs.conversations.axolotl.bundles:123',
      'urn:xmpp:omemo:2:devices', 'urn:xmpp:omemo:2:bundles', 'urn:xmpp:openpgp:0:public-keys', 'urn:xmpp:openpgp:0:public-keys:0123456789ABCDEF0123456789ABCDEF01234567']) {
      assert.ok(isKeyNode(n), n);
    }
    for (const n of ['urn:xmpp:avatar:data', 'http://jabber.org/protocol/geoloc', 'urn:pepkeys:kt:0:heads', 'urn:xmpp:bookmarks:1']) assert.equal(isKeyNode(n), false, n);
  });
});
