// XEP-0198 §4 counting at the edge: 'h' wraps from 2^32-1 to zero, acks across the wrap drop exactly the
// stanzas they cover, and an 'h' beyond what was sent is refused without dropping anything.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UnackedQueue } from '../../../../src/server/core/stream-management/unacked-queue.ts';
import { H_MODULO, hDistance, nextH, parseH } from '../../../../src/protocol/xep0198.ts';

describe('XEP-0198 counters', () => {
  it('wraps h from 2^32-1 back to zero', () => {
    assert.equal(nextH(H_MODULO - 1), 0);
    assert.equal(hDistance(H_MODULO - 2, 1), 3);
    assert.equal(parseH('4294967295'), H_MODULO - 1);
    assert.equal(parseH('4294967296'), undefined);
    assert.equal(parseH('-1'), undefined);
    assert.equal(parseH('1e3'), undefined);
  });

  it('acknowledges across the wrap, and refuses an h beyond what was sent', () => {
    const q = new UnackedQueue();
    q.sent = q.acked = H_MODULO - 2;
    for (const s of ['<a/>', '<bb/>', '<ccc/>', '<dddd/>']) q.push(s, 0);
    assert.equal(q.sent, 2);
    assert.equal(q.chars, 4 + 5 + 6 + 7);
    assert.equal(q.ack(3), false, 'five acknowledged, four sent');
    assert.equal(q.length, 4);
    assert.equal(q.ack(1), true);
    assert.deepEqual(q.pending().map((o) => o.data), ['<dddd/>']);
    assert.equal(q.chars, 7);
    assert.equal(q.ack(1), true, 'the same h again changes nothing');
    assert.equal(q.length, 1);
    assert.equal(q.ack(2), true);
    assert.equal(q.length, 0);
    assert.equal(q.chars, 0);
  });

  it('keeps the order and compacts after many acks', () => {
    const q = new UnackedQueue();
    for (let i = 0; i < 5000; i++) q.push(`<m${i}/>`, i);
    assert.ok(q.ack(4000));
    assert.deepEqual(q.pending().slice(0, 2).map((o) => o.data), ['<m4000/>', '<m4001/>']);
    assert.equal(q.drain().length, 1000);
    assert.equal(q.length, 0);
  });
});
