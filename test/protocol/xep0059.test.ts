import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from '../../src/xml/index.ts';
import { buildRsm, buildRsmQuery, parseRsm, RsmError } from '../../src/protocol/xep0059.ts';

describe('XEP-0059 result set management', () => {
  it('parses max/after/before/index, including an empty <before/> (last page, §2.5)', () => {
    assert.deepEqual(parseRsm(parseXml(`<set xmlns='http://jabber.org/protocol/rsm'><max>10</max><after>a</after></set>`)), { max: 10, after: 'a' });
    assert.deepEqual(parseRsm(parseXml(`<set xmlns='http://jabber.org/protocol/rsm'><max>10</max><before/></set>`)), { max: 10, before: '' });
    assert.deepEqual(parseRsm(parseXml(`<set xmlns='http://jabber.org/protocol/rsm'><max>0</max></set>`)), { max: 0 });
    assert.deepEqual(parseRsm(parseXml(`<set xmlns='http://jabber.org/protocol/rsm'><index>371</index><max>5</max></set>`)), { index: 371, max: 5 });
  });

  it('rejects malformed numbers and foreign elements', () => {
    assert.throws(() => parseRsm(parseXml(`<set xmlns='http://jabber.org/protocol/rsm'><max>-1</max></set>`)), RsmError);
    assert.throws(() => parseRsm(parseXml(`<set xmlns='http://jabber.org/protocol/rsm'><max>ten</max></set>`)), RsmError);
    assert.throws(() => parseRsm(parseXml(`<set xmlns='urn:other'/>`)), RsmError);
  });

  it('builds responses (§2.1) and count-only responses (§2.7)', () => {
    assert.equal(buildRsm({ first: 'a', firstIndex: 0, last: 'b', count: 800 }).toString(),
      '<set xmlns="http://jabber.org/protocol/rsm"><first index="0">a</first><last>b</last><count>800</count></set>');
    assert.equal(buildRsm({ count: 5 }).toString(), '<set xmlns="http://jabber.org/protocol/rsm"><count>5</count></set>');
  });

  it('request builder round-trips', () => {
    for (const q of [{ max: 2, after: 'x' }, { max: 3, before: '' }, { max: 1, before: 'y' }, { index: 4, max: 1 }]) {
      assert.deepEqual(parseRsm(parseXml(buildRsmQuery(q).toString())), q);
    }
  });
});
