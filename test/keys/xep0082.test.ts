import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDateTime, parseDateTime, Xep0082Error, formatDate } from '../../src/protocol/xep0082.ts';

test('parses XEP-0082 DateTime with Z, offsets and fractions', () => {
  assert.equal(parseDateTime('1969-07-21T02:56:15Z').toISOString(), '1969-07-21T02:56:15.000Z');
  assert.equal(parseDateTime('1969-07-20T21:56:15-05:00').toISOString(), '1969-07-21T02:56:15.000Z');
  assert.equal(parseDateTime('2009-12-14T20:49:16.123456+01:30').toISOString(), '2009-12-14T19:19:16.123Z');
  assert.equal(parseDateTime('0099-01-01T00:00:00Z').getUTCFullYear(), 99);
});

test('missing TZD is UTC by default (XEP-0189 0.13 examples) and refusable', () => {
  assert.equal(parseDateTime('2009-12-11T20:12:37').toISOString(), '2009-12-11T20:12:37.000Z');
  assert.throws(() => parseDateTime('2009-12-11T20:12:37', { allowMissingTzd: false }), Xep0082Error);
});

test('rejects malformed and out-of-range values', () => {
  for (const bad of ['2009-12-11', '2009-13-01T00:00:00Z', '2009-02-29T00:00:00Z', '2009-12-11 20:12:37Z', '2009-12-11T24:00:00Z', 'x']) {
    assert.throws(() => parseDateTime(bad), Xep0082Error, bad);
  }
  assert.equal(parseDateTime('2008-02-29T00:00:00Z').toISOString(), '2008-02-29T00:00:00.000Z');
});

test('formats UTC with Z, optional milliseconds', () => {
  const d = new Date(Date.UTC(2010, 0, 14, 18, 44, 18, 250));
  assert.equal(formatDateTime(d), '2010-01-14T18:44:18Z');
  assert.equal(formatDateTime(d, { millis: true }), '2010-01-14T18:44:18.250Z');
  assert.equal(formatDate(d), '2010-01-14');
});
