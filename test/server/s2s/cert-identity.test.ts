// RFC 6125 identity checks of server certificates (XEP-0178, RFC 6120 §13.7.1.2), on certificates a test
// CA issues: DNS-IDs with wildcards in the left-most label only, SRV-IDs, XmppAddr, CN only without SANs.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { certificateNamesDomain, parseSubjectAltName } from '../../../src/server/s2s/cert-identity.ts';
import { TrustStore } from '../../../src/server/s2s/trust-store.ts';
import { createTestCa, pinOf, type IssueOptions, type TestCa } from '../../helpers/test-ca.ts';

describe('certificate identity (RFC 6125)', () => {
  let ca: TestCa;
  before(async () => {
    ca = await createTestCa();
  });
  after(() => ca.cleanup());

  const names = async (o: IssueOptions) => new X509Certificate((await ca.issue(o)).cert).toLegacyObject();
  const matches = async (o: IssueOptions, domain: string) => certificateNamesDomain(await names(o), domain).ok;

  it('matches a DNS-ID exactly, ignoring case and a trailing dot', async () => {
    assert.equal(await matches({ dns: ['Capulet.LIT'] }, 'capulet.lit'), true);
    assert.equal(await matches({ dns: ['capulet.lit.'] }, 'capulet.lit'), true);
    assert.equal(await matches({ dns: ['capulet.lit'] }, 'montague.lit'), false);
    assert.equal(await matches({ dns: ['capulet.lit'] }, 'evil-capulet.lit'), false);
  });

  it('takes a wildcard as the whole left-most label, for exactly one label', async () => {
    assert.equal(await matches({ dns: ['*.capulet.lit'] }, 'rooms.capulet.lit'), true);
    assert.equal(await matches({ dns: ['*.capulet.lit'] }, 'capulet.lit'), false);
    assert.equal(await matches({ dns: ['*.capulet.lit'] }, 'a.rooms.capulet.lit'), false);
    assert.equal(await matches({ dns: ['rooms.*.lit'] }, 'rooms.capulet.lit'), false);
    assert.equal(await matches({ dns: ['r*.capulet.lit'] }, 'rooms.capulet.lit'), false);
    // A wildcard over a top-level domain never matches.
    assert.equal(await matches({ dns: ['*.lit'] }, 'capulet.lit'), false);
  });

  it('matches an SRV-ID for _xmpp-server only, without wildcards', async () => {
    assert.equal(await matches({ dns: ['xmpp.hosting.lit'], srv: ['_xmpp-server.capulet.lit'] }, 'capulet.lit'), true);
    assert.equal(await matches({ dns: ['xmpp.hosting.lit'], srv: ['_xmpp-client.capulet.lit'] }, 'capulet.lit'), false);
    assert.equal(await matches({ dns: ['xmpp.hosting.lit'], srv: ['_xmpp-server.*.lit'] }, 'capulet.lit'), false);
  });

  it('matches an XmppAddr naming the domain', async () => {
    assert.equal(await matches({ xmppAddr: ['capulet.lit'] }, 'capulet.lit'), true);
    assert.equal(await matches({ xmppAddr: ['juliet@capulet.lit'] }, 'capulet.lit'), false);
  });

  it('falls back to the subject CN only when there is no DNS-ID or SRV-ID', async () => {
    assert.equal(await matches({ cn: 'capulet.lit' }, 'capulet.lit'), true);
    assert.equal(await matches({ cn: 'capulet.lit', dns: ['other.lit'] }, 'capulet.lit'), false);
    assert.equal(await matches({ cn: 'capulet.lit', srv: ['_xmpp-server.other.lit'] }, 'capulet.lit'), false);
  });

  it('compares internationalised domains in their A-label form', async () => {
    assert.equal(await matches({ dns: ['xn--mntague-90a.lit'] }, 'möntague.lit'), true);
  });

  it('says what the certificate names when it does not match', async () => {
    const r = certificateNamesDomain(await names({ dns: ['verona.lit'] }), 'capulet.lit');
    assert.equal(r.ok, false);
    assert.match(r.how, /verona\.lit, not capulet\.lit/);
  });

  it('reads quoted SAN values Node escapes, without splitting them', () => {
    assert.deepEqual(parseSubjectAltName('DNS:"a,b.lit", DNS:c.lit'), [{ type: 'DNS', value: 'a,b.lit' }, { type: 'DNS', value: 'c.lit' }]);
  });
});

describe('s2s trust store', () => {
  it('names an unreadable trusted_certs file and a file without certificates', () => {
    assert.throws(() => new TrustStore(['/nonexistent/ca.pem']), /s2s\.trusted_certs: cannot read "\/nonexistent\/ca\.pem": ENOENT/);
    assert.throws(() => new TrustStore(['x.pem'], () => 'not a certificate'), /holds no PEM certificate/);
  });

  it('accepts a pinned certificate that no CA vouches for, and still checks its name and dates', async () => {
    const ca = await createTestCa();
    try {
      const good = (await ca.issue({ dns: ['montague.lit'] })).cert;
      const old = (await ca.issue({ dns: ['montague.lit'], notBefore: new Date(Date.now() - 10 * 86400_000), notAfter: new Date(Date.now() - 86400_000) })).cert;
      const store = new TrustStore([pinOf(good), pinOf(old)]);
      const peer = (pem: string) => new X509Certificate(pem).toLegacyObject() as ReturnType<X509Certificate['toLegacyObject']> & { fingerprint256: string };
      assert.equal(store.checkCertificate(peer(good), false, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'montague.lit').valid, true);
      assert.match(store.checkCertificate(peer(good), false, null, 'capulet.lit').reason, /name mismatch/);
      assert.match(store.checkCertificate(peer(old), false, null, 'montague.lit').reason, /outside its validity/);
      // Unpinned and untrusted: the chain error is the reason.
      const other = (await ca.issue({ dns: ['montague.lit'] })).cert;
      assert.match(store.checkCertificate(peer(other), false, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'montague.lit').reason, /not trusted \(UNABLE_TO_GET_ISSUER_CERT_LOCALLY\)/);
    } finally {
      ca.cleanup();
    }
  });
});
