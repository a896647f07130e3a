// Two pepkeys servers authenticating each other by certificate (SASL EXTERNAL, XEP-0178) with a test CA,
// and the per-domain policies: s2s.secure_auth refusing a peer that can only do dialback, s2s.insecure_domains
// letting it in, a pinned certificate in s2s.trusted_certs; and XEP-0368 direct TLS found through
// _xmpps-server SRV records. Every decision is read back from the servers' logs.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateSelfSigned, type TlsCredentials } from '../../../src/server/core/tls-credentials.ts';
import { rawSessions } from '../../helpers/server.ts';
import { RawClient } from '../../helpers/raw-client.ts';
import { createTestCa, pinOf, type TestCa } from '../../helpers/test-ca.ts';
import { logged, startCertPair, type CertServer } from '../../helpers/cert-federation.ts';
import type { Element } from '../../../src/xml/index.ts';

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

describe('server-to-server authentication by certificate', () => {
  let ca: TestCa;
  let capCa: TlsCredentials;
  let monCa: TlsCredentials;
  let monSelf: TlsCredentials;

  before(async () => {
    ca = await createTestCa();
    capCa = await ca.issue({ dns: ['capulet.lit'] });
    // montague.lit's hosting names its domain through an SRV-ID only (a hosting provider's usual certificate).
    monCa = await ca.issue({ dns: ['xmpp.hosting.lit'], srv: ['_xmpp-server.montague.lit'] });
    monSelf = await generateSelfSigned(['montague.lit']);
  });
  after(() => ca.cleanup());

  /** Runs `body` with a pair, Juliet on capulet.lit and Romeo on montague.lit logged in; stops all after. */
  async function withPair(sides: Parameters<typeof startCertPair>, body: (p: { cap: CertServer; mon: CertServer; juliet: RawClient; romeo: RawClient }) => Promise<void>) {
    const pair = await startCertPair(...sides);
    const capUsers = rawSessions(() => pair.cap);
    const monUsers = rawSessions(() => pair.mon);
    try {
      const juliet = await capUsers.login('juliet', 'balcony', 'pw', 'capulet.lit');
      const romeo = await monUsers.login('romeo', 'orchard', 'pw', 'montague.lit');
      await body({ cap: pair.cap, mon: pair.mon, juliet, romeo });
    } finally {
      capUsers.destroyAll();
      monUsers.destroyAll();
      await pair.stop();
    }
  }

  const exchange = async (juliet: RawClient, romeo: RawClient, id: string) => {
    juliet.send(`<message to='romeo@montague.lit/orchard' type='chat' id='${id}-j'><body>O Romeo</body></message>`);
    const m1 = await romeo.waitStanza((e) => e.attrs.id === `${id}-j`, 10_000);
    assert.equal(m1.attrs.from, 'juliet@capulet.lit/balcony');
    romeo.send(`<message to='juliet@capulet.lit/balcony' type='chat' id='${id}-r'><body>Lady</body></message>`);
    const m2 = await juliet.waitStanza((e) => e.attrs.id === `${id}-r`, 10_000);
    assert.equal(m2.attrs.from, 'romeo@montague.lit/orchard');
  };

  const bounce = async (c: RawClient, id: string): Promise<string | undefined> => {
    const e: Element = await c.waitStanza((el) => el.attrs.id === id && el.attrs.type === 'error', 10_000);
    return e.getChild('error')?.elements.find((x) => x.ns === STANZAS && x.local !== 'text')?.local;
  };

  it('authenticates both ways with SASL EXTERNAL when both certificates verify (secure_auth on both)', async () => {
    const s2s = { trusted_certs: [ca.file], secure_auth: true };
    await withPair([{ tls: capCa, s2s }, { tls: monCa, s2s }], async ({ cap, mon, juliet, romeo }) => {
      await exchange(juliet, romeo, 'ext');
      for (const [srv, remote] of [[cap, 'montague.lit'], [mon, 'capulet.lit']] as const) {
        assert.equal(logged(srv.log, 'authenticated to remote server', { remote, method: 'certificate' }).length, 1, `${remote}: outbound by EXTERNAL`);
        const inbound = logged(srv.log, 's2s authentication policy: allowed', { direction: 'inbound', remote, method: 'certificate' });
        assert.match(String(inbound[0]?.reason), /SASL EXTERNAL: trusted certificate/);
        assert.equal(logged(srv.log, 'authenticated to remote server', { method: 'dialback' }).length, 0, 'no dialback');
      }
      // montague.lit's certificate names it by SRV-ID only.
      assert.match(String(logged(cap.log, 's2s authentication policy: allowed', { direction: 'outbound', remote: 'montague.lit' })[0]?.reason), /SRV-ID _xmpp-server\.montague\.lit/);
    });
  });

  it('with secure_auth, refuses a peer whose certificate does not verify, both ways: its dialback gets not-authorized, our stanzas bounce', async () => {
    await withPair([{ tls: capCa, s2s: { trusted_certs: [ca.file], secure_auth: true } }, { tls: monSelf, s2s: { trusted_certs: [ca.file] } }], async ({ cap, mon, juliet, romeo }) => {
      romeo.send(`<message to='juliet@capulet.lit/balcony' type='chat' id='in1'><body>let me in</body></message>`);
      // XEP-0220 §2.4: a dialback error sends what waited back as remote-server-timeout.
      assert.equal(await bounce(romeo, 'in1'), 'remote-server-timeout');
      const refused = logged(cap.log, 's2s authentication policy: refused', { direction: 'inbound', remote: 'montague.lit', condition: 'not-authorized' });
      assert.ok(refused.length >= 1, 'capulet logged the refusal');
      assert.match(String(refused[0]!.reason), /certificate not trusted .*s2s\.secure_auth requires a valid certificate/);
      assert.ok(logged(mon.log, 'outbound server-to-server stream failed').some((l) => /refused dialback \(not-authorized\)/.test(String(l.reason))), 'montague saw the dialback error');
      juliet.send(`<message to='romeo@montague.lit/orchard' type='chat' id='out1'><body>who goes</body></message>`);
      assert.equal(await bounce(juliet, 'out1'), 'remote-server-not-found');
      assert.ok(logged(cap.log, 's2s authentication policy: refused', { direction: 'outbound', remote: 'montague.lit', condition: 'not-authorized' }).length >= 1);
      assert.ok(!juliet.stanzas.some((e) => e.attrs.id === 'in1'), 'nothing from the refused peer reached Juliet');
    });
  });

  it('with secure_auth, lets a domain in s2s.insecure_domains authenticate by dialback', async () => {
    await withPair(
      [{ tls: capCa, s2s: { trusted_certs: [ca.file], secure_auth: true, insecure_domains: ['montague.lit'] } }, { tls: monSelf, s2s: { trusted_certs: [ca.file] } }],
      async ({ cap, juliet, romeo }) => {
        await exchange(juliet, romeo, 'insecure');
        const allowed = logged(cap.log, 's2s authentication policy: allowed', { direction: 'inbound', remote: 'montague.lit', method: 'dialback' });
        assert.match(String(allowed[0]?.reason), /montague\.lit is in s2s\.insecure_domains/);
        assert.equal(logged(cap.log, 'remote domain authenticated', { remote: 'montague.lit', method: 'dialback' }).length, 1);
      },
    );
  });

  it('accepts a pinned certificate (s2s.trusted_certs sha256:...) that no CA vouches for, with EXTERNAL', async () => {
    await withPair(
      [{ tls: capCa, s2s: { trusted_certs: [pinOf(monSelf.cert)], secure_auth: true } }, { tls: monSelf, s2s: { trusted_certs: [ca.file], secure_auth: true } }],
      async ({ cap, mon, juliet, romeo }) => {
        await exchange(juliet, romeo, 'pin');
        assert.match(String(logged(cap.log, 's2s authentication policy: allowed', { direction: 'inbound', remote: 'montague.lit', method: 'certificate' })[0]?.reason), /pinned certificate/);
        assert.equal(logged(mon.log, 'authenticated to remote server', { remote: 'capulet.lit', method: 'certificate' }).length, 1);
      },
    );
  });

  it('connects with direct TLS found through an _xmpps-server SRV record (XEP-0368), ALPN xmpp-server', async () => {
    const s2s = { trusted_certs: [ca.file], secure_auth: true, tls_listen: ['127.0.0.1:0'] };
    await withPair([{ tls: capCa, s2s }, { tls: monCa, s2s }], async ({ cap, mon, juliet, romeo }) => {
      assert.ok(mon.s2sTlsPort > 0);
      // No static route: capulet asks DNS, and only the direct-TLS record exists.
      delete cap.server.s2s!.routes['montague.lit'];
      const asked: string[] = [];
      cap.server.s2s!.lookup = async (name) => {
        asked.push(name);
        if (name === '_xmpps-server._tcp.montague.lit') return [{ name: '127.0.0.1', port: mon.s2sTlsPort, priority: 10, weight: 0 }];
        throw Object.assign(new Error(`no ${name}`), { code: 'ENOTFOUND' });
      };
      juliet.send(`<message to='romeo@montague.lit/orchard' type='chat' id='direct'><body>by TLS</body></message>`);
      assert.equal((await romeo.waitStanza((e) => e.attrs.id === 'direct', 10_000)).attrs.from, 'juliet@capulet.lit/balcony');
      assert.deepEqual(asked.sort(), ['_xmpp-server._tcp.montague.lit', '_xmpps-server._tcp.montague.lit']);
      assert.ok(logged(cap.log, 'connected to remote server', { remote: 'montague.lit', port: mon.s2sTlsPort, directTls: true }).length === 1);
      assert.equal(logged(cap.log, 'authenticated to remote server', { remote: 'montague.lit', method: 'certificate' }).length, 1);
      // The listener speaks TLS from the first byte and agrees on ALPN xmpp-server.
      const probe = await RawClient.connectTls(mon.s2sTlsPort, 'montague.lit', { ALPNProtocols: ['xmpp-server'] });
      try {
        assert.equal(probe.tlsSocket?.alpnProtocol, 'xmpp-server');
      } finally {
        probe.destroy();
      }
    });
  });
});
