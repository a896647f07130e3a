// The SQL adapters' compact leaf body (storage/sql/kt-body.ts): every leaf rebuilds byte for byte from its
// row, the common leaf takes its compact form, and what that form cannot express is kept whole.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeBody, leafFromBody } from '../../src/storage/sql/kt-body.ts';
import { encodeLeaf, type KeyEvent } from '../../src/transparency/leaf.ts';

const base: KeyEvent = {
  type: 'publish', seq: 5, time: 1_764_892_800_000, jid: 'juliet@capulet.lit', node: 'urn:xmpp:pubkey:2', itemId: 'current',
  payloadHash: new Uint8Array(32).fill(0xaf), fingerprint: `sha-256:${'ab'.repeat(32)}`,
};

const roundTrip = (e: KeyEvent) => {
  const body = encodeBody(e, e.seq);
  assert.deepEqual(Buffer.from(leafFromBody(e.seq, e.jid, e.node, body)), Buffer.from(encodeLeaf(e)));
  assert.deepEqual(Buffer.from(leafFromBody(e.seq, Buffer.from(e.jid), Buffer.from(e.node), body)), Buffer.from(encodeLeaf(e)), 'names given as bytes');
  return body;
};

describe('compact transparency leaf body', () => {
  it('stores a key publish in 73 bytes (flags, time, payload hash, binary fingerprint) and rebuilds it exactly', () => {
    const body = roundTrip(base);
    assert.equal(body.length, 1 + 6 + 32 + 1 + 1 + 32);
    assert.equal(encodeLeaf(base).length, 173);
  });

  it('rebuilds every event type, item ids, text fingerprints, and none', () => {
    roundTrip({ ...base, type: 'retract', payloadHash: undefined, itemId: 'ünïcode-☃' });
    roundTrip({ ...base, type: 'purge', payloadHash: undefined, itemId: '', fingerprint: undefined });
    roundTrip({ ...base, type: 'delete', payloadHash: undefined, itemId: '', fingerprint: 'openpgp-v4:0123456789abcdef0123456789abcdef01234567' });
    roundTrip({ ...base, fingerprint: `omemo:${'05'.repeat(33)}` });
    roundTrip({ ...base, fingerprint: `sha-256:${'AB'.repeat(32)}` });
    roundTrip({ ...base, fingerprint: 'sha-256:abc' });
    roundTrip({ ...base, fingerprint: 'x'.repeat(300) });
    roundTrip({ ...base, itemId: 'i'.repeat(200), seq: 2 ** 40 + 3, time: 0 });
  });

  it('keeps a leaf whole when its time needs more than 48 bits', () => {
    const e = { ...base, time: 2 ** 50 };
    const body = roundTrip(e);
    assert.equal(body[0], 0xff);
    assert.deepEqual(Buffer.from(body.subarray(1)), Buffer.from(encodeLeaf(e)));
  });
});
