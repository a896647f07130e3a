// Where a remote domain is reached: static route, then DNS SRV in RFC 2782 order, then the domain on 5269.
// The SRV lookup is a function given to the resolver, so no DNS is queried here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SrvRecord } from 'node:dns';
import { orderSrv, resolveTargets, type SrvLookup } from '../../../src/server/s2s/resolve.ts';

const zone = (records: Record<string, SrvRecord[]>): SrvLookup & { asked: string[] } => {
  const asked: string[] = [];
  const f = async (name: string) => {
    asked.push(name);
    const r = records[name];
    if (!r) throw Object.assign(new Error(`queryNotFound ${name}`), { code: 'ENOTFOUND' });
    return r;
  };
  return Object.assign(f, { asked });
};

describe('s2s target resolution', () => {
  it('uses a static route without asking DNS', async () => {
    const dns = zone({});
    assert.deepEqual(await resolveTargets('montague.lit', { 'montague.lit': '127.0.0.1:15269' }, dns), [{ host: '127.0.0.1', port: 15269 }]);
    assert.deepEqual(dns.asked, []);
  });

  it('asks _xmpp-server._tcp and orders by priority', async () => {
    const dns = zone({
      '_xmpp-server._tcp.montague.lit': [
        { name: 'backup.montague.lit', port: 5270, priority: 20, weight: 0 },
        { name: 'xmpp.montague.lit', port: 5269, priority: 10, weight: 0 },
      ],
    });
    assert.deepEqual(await resolveTargets('montague.lit', {}, dns), [
      { host: 'xmpp.montague.lit', port: 5269 },
      { host: 'backup.montague.lit', port: 5270 },
    ]);
    // XEP-0368: the direct-TLS records are asked for too (none here).
    assert.deepEqual(dns.asked, ['_xmpps-server._tcp.montague.lit', '_xmpp-server._tcp.montague.lit']);
  });

  it('falls back to the domain itself on 5269 (its A/AAAA records) without SRV records', async () => {
    assert.deepEqual(await resolveTargets('capulet.lit', {}, zone({})), [{ host: 'capulet.lit', port: 5269 }]);
  });

  it('gives no target when SRV says the service is not available (target ".")', async () => {
    const dns = zone({ '_xmpp-server._tcp.nowhere.lit': [{ name: '.', port: 0, priority: 0, weight: 0 }] });
    assert.deepEqual(await resolveTargets('nowhere.lit', {}, dns), []);
  });

  it('passes DNS failures other than "no such record" to the caller', async () => {
    const broken: SrvLookup = async () => {
      throw Object.assign(new Error('timeout'), { code: 'ETIMEOUT' });
    };
    await assert.rejects(resolveTargets('montague.lit', {}, broken), /timeout/);
  });

  it('picks within one priority by weight (RFC 2782)', () => {
    const recs: SrvRecord[] = [
      { name: 'light', port: 1, priority: 5, weight: 10 },
      { name: 'heavy', port: 2, priority: 5, weight: 90 },
    ];
    // Sorted light, heavy; a draw of 50 of 0..100 passes light's running sum (10) and lands on heavy.
    assert.deepEqual(orderSrv(recs, () => 0.5).map((r) => r.name), ['heavy', 'light']);
    // A draw of 5 lands on light.
    assert.deepEqual(orderSrv(recs, () => 0.05).map((r) => r.name), ['light', 'heavy']);
  });
});
