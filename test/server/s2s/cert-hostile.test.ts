// Hostile or broken remote servers against a pepkeys (capulet.lit) that trusts a test CA and requires valid
// certificates (s2s.secure_auth): an expired certificate, a certificate for another name, SASL EXTERNAL
// with a foreign authzid, a forged from domain after EXTERNAL, a multiplexed domain the certificate does
// not cover, a peer that never finishes TLS (STARTTLS or direct TLS). Each gets its error; a local client
// beside them is unaffected. Plus XEP-0344 without secure_auth: dialback only over TLS unless insecure-allowed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import type { TlsCredentials } from '../../../src/server/core/tls-credentials.ts';
import { rawSessions } from '../../helpers/server.ts';
import { RawClient } from '../../helpers/raw-client.ts';
import { createTestCa, type TestCa } from '../../helpers/test-ca.ts';
import { logged, startCertServer, type CertServer } from '../../helpers/cert-federation.ts';
import type { Element } from '../../../src/xml/index.ts';
const NS_STREAMS = 'urn:ietf:params:xml:ns:xmpp-streams';
const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const header = (from: string, to = 'capulet.lit') =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='${from}' to='${to}' version='1.0'>`;
const DAY = 86400_000;

const streamError = async (c: RawClient): Promise<string | undefined> => {
  const e: Element = await c.waitStanza((el) => el.local === 'error' && el.ns === 'http://etherx.jabber.org/streams');
  return e.elements.find((x) => x.ns === NS_STREAMS && x.local !== 'text')?.local;
};
const dialbackError = (e: Element) => e.getChild('error')?.elements.find((x) => x.ns === STANZAS)?.local;

describe('hostile server-to-server peers and certificates', () => {
  let ca: TestCa;
  let cap: CertServer;
  const users = rawSessions(() => cap);
  let juliet: RawClient;
  const peers: RawClient[] = [];
  let good: TlsCredentials;
  let expired: TlsCredentials;
  let wrongName: TlsCredentials;

  before(async () => {
    ca = await createTestCa();
    good = await ca.issue({ dns: ['montague.lit'] });
    expired = await ca.issue({ dns: ['montague.lit'], notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) });
    wrongName = await ca.issue({ dns: ['verona.lit'] });
    cap = await startCertServer('capulet.lit', { 'juliet@capulet.lit': 'pw' }, {
      tls: await ca.issue({ dns: ['capulet.lit'] }),
      s2s: { trusted_certs: [ca.file], secure_auth: true, preauth_timeout_seconds: 1, tls_listen: ['127.0.0.1:0'] },
    });
    juliet = await users.login('juliet', 'balcony', 'pw', 'capulet.lit');
  });
  after(async () => {
    for (const p of peers) p.destroy();
    users.destroyAll();
    await cap?.stop();
    ca?.cleanup();
  });

  /** A raw peer past STARTTLS, presenting `cert` (if any), with the features capulet offered then. */
  async function peer(cert: TlsCredentials | undefined, from = 'montague.lit'): Promise<{ c: RawClient; features: Element }> {
    const c = await RawClient.connect(cap.s2sPort);
    peers.push(c);
    c.send(header(from));
    await c.waitStanza((e) => e.local === 'features');
    await c.starttls('capulet.lit', cert ? { cert: cert.cert, key: cert.key } : {});
    c.send(header(from));
    const features = await c.waitStanza((e) => e.local === 'features');
    return { c, features };
  }

  const offersExternal = (f: Element) => f.getChild('mechanisms', SASL)?.getChildren('mechanism').some((m) => m.text() === 'EXTERNAL') ?? false;

  async function sentinelFine(): Promise<void> {
    const ping = await juliet.iq(`<iq type='get' to='capulet.lit'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(ping.attrs.type, 'result');
  }

  it('refuses an expired certificate: no EXTERNAL, and dialback gets not-authorized under secure_auth', async () => {
    const { c, features } = await peer(expired);
    assert.equal(offersExternal(features), false);
    c.send(`<auth xmlns='${SASL}' mechanism='EXTERNAL'>=</auth>`);
    assert.ok((await c.waitStanza((e) => e.local === 'failure')).getChild('not-authorized'));
    c.send(`<db:result from='montague.lit' to='capulet.lit'>${'0'.repeat(64)}</db:result>`);
    const r = await c.waitStanza((e) => e.local === 'result');
    assert.equal(r.attrs.type, 'error');
    assert.equal(dialbackError(r), 'not-authorized');
    const refusal = logged(cap.log, 's2s authentication policy: refused', { remote: 'montague.lit', condition: 'not-authorized' }).at(-1);
    assert.match(String(refusal?.reason), /CERT_HAS_EXPIRED/);
    await sentinelFine();
  });

  it('refuses a certificate for another name, saying which names it has', async () => {
    const { c, features } = await peer(wrongName);
    assert.equal(offersExternal(features), false);
    assert.match(String(logged(cap.log, 'not offering SASL EXTERNAL', { remote: 'montague.lit' }).at(-1)?.reason), /name mismatch: .*verona\.lit, not montague\.lit/);
    c.send(`<db:result from='montague.lit' to='capulet.lit'>${'0'.repeat(64)}</db:result>`);
    const r = await c.waitStanza((e) => e.local === 'result');
    assert.equal(dialbackError(r), 'not-authorized');
    // The stream stays up (XEP-0220 §2.4): a stanza now is from an unauthenticated domain.
    c.send(`<message from='romeo@montague.lit/orchard' to='juliet@capulet.lit/balcony' id='wn'><body>x</body></message>`);
    assert.equal(await streamError(c), 'invalid-from');
    await sentinelFine();
    assert.ok(!juliet.stanzas.some((e) => e.attrs.id === 'wn'));
  });

  it('after SASL EXTERNAL, accepts the certified domain and refuses a forged one with invalid-from', async () => {
    const { c, features } = await peer(good);
    assert.equal(offersExternal(features), true);
    // An authzid other than the stream's from domain is refused (XEP-0178 §2), the offer stands.
    c.send(`<auth xmlns='${SASL}' mechanism='EXTERNAL'>${Buffer.from('verona.lit').toString('base64')}</auth>`);
    assert.ok((await c.waitStanza((e) => e.local === 'failure')).getChild('invalid-authzid'));
    c.send(`<auth xmlns='${SASL}' mechanism='EXTERNAL'>${Buffer.from('montague.lit').toString('base64')}</auth>`);
    await c.waitStanza((e) => e.local === 'success');
    c.restartStream();
    c.send(header('montague.lit'));
    const after = await c.waitStanza((e) => e.local === 'features' && c.headers.length >= 3);
    assert.equal(offersExternal(after), false, 'SASL is not offered twice');
    c.send(`<message from='romeo@montague.lit/orchard' to='juliet@capulet.lit/balcony' id='ext-ok' type='chat'><body>by certificate</body></message>`);
    assert.equal((await juliet.waitStanza((e) => e.attrs.id === 'ext-ok')).attrs.from, 'romeo@montague.lit/orchard');
    // A second domain multiplexed onto the stream that the certificate does not cover: refused, stream up.
    c.send(`<db:result from='verona.lit' to='capulet.lit'>${'0'.repeat(64)}</db:result>`);
    const r = await c.waitStanza((e) => e.local === 'result' && e.attrs.to === 'verona.lit');
    assert.equal(r.attrs.type, 'error');
    assert.equal(dialbackError(r), 'not-authorized');
    c.send(`<message from='tybalt@verona.lit/sword' to='juliet@capulet.lit/balcony' id='forged' type='chat'><body>forged</body></message>`);
    assert.equal(await streamError(c), 'invalid-from');
    await sentinelFine();
    assert.ok(!juliet.stanzas.some((e) => e.attrs.id === 'forged'));
  });

  it('accepts dialback from a peer whose certificate covers the domain without asking its server (XEP-0344)', async () => {
    // No montague.lit server exists: a db:verify could not be answered, so "valid" comes from the certificate.
    const { c } = await peer(good);
    c.send(`<db:result from='montague.lit' to='capulet.lit'>${'0'.repeat(64)}</db:result>`);
    assert.equal((await c.waitStanza((e) => e.local === 'result')).attrs.type, 'valid');
    c.send(`<message from='romeo@montague.lit/orchard' to='juliet@capulet.lit/balcony' id='db-cert' type='chat'><body>hi</body></message>`);
    await juliet.waitStanza((e) => e.attrs.id === 'db-cert');
  });

  it('answers a dialback request for a domain not served here with item-not-found, the stream staying up', async () => {
    const { c } = await peer(good);
    c.send(`<db:result from='montague.lit' to='verona.lit'>${'0'.repeat(64)}</db:result>`);
    const r = await c.waitStanza((e) => e.local === 'result');
    assert.equal(r.attrs.type, 'error');
    assert.equal(r.attrs.from, 'verona.lit');
    assert.equal(dialbackError(r), 'item-not-found');
    c.send(`<db:result from='montague.lit' to='capulet.lit'>${'0'.repeat(64)}</db:result>`);
    assert.equal((await c.waitStanza((e) => e.local === 'result' && e.attrs.from === 'capulet.lit')).attrs.type, 'valid');
  });

  it('closes a stream whose peer never finishes STARTTLS, after preauth_timeout_seconds', async () => {
    const c = await RawClient.connect(cap.s2sPort);
    peers.push(c);
    c.send(header('montague.lit'));
    await c.waitStanza((e) => e.local === 'features');
    c.send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
    await c.waitStanza((e) => e.local === 'proceed');
    // ...and no ClientHello ever.
    await c.waitClosed(10_000);
    assert.ok(cap.log.some((l) => l.msg === 's2s stream error' && l.condition === 'connection-timeout'));
    await sentinelFine();
  });

  it('closes a direct-TLS connection that never starts its handshake', async () => {
    const c = await RawClient.connect(cap.s2sTlsPort);
    peers.push(c);
    await c.waitClosed(10_000);
    await sentinelFine();
  });
});

describe('XEP-0344: dialback only over TLS unless the domain is insecure-allowed', () => {
  let cap: CertServer;
  const peers: RawClient[] = [];
  let closedPort: number;

  before(async () => {
    const ca = await createTestCa();
    try {
      cap = await startCertServer('capulet.lit', {}, { tls: await ca.issue({ dns: ['capulet.lit'] }), s2s: { require_tls: false, insecure_domains: ['lab.lit'] } });
    } finally {
      ca.cleanup();
    }
    // lab.lit's server is unreachable: a port that was just free.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    cap.server.s2s!.routes['lab.lit'] = `127.0.0.1:${closedPort}`;
  });
  after(async () => {
    for (const p of peers) p.destroy();
    await cap?.stop();
  });

  it('answers plaintext dialback with policy-violation, and checks an insecure-allowed domain with its server (remote-connection-failed here)', async () => {
    const c = await RawClient.connect(cap.s2sPort);
    peers.push(c);
    c.send(header('montague.lit'));
    const f = await c.waitStanza((e) => e.local === 'features');
    assert.ok(f.getChild('starttls') && !f.getChild('starttls')!.getChild('required'), 'STARTTLS offered, not required');
    c.send(`<db:result from='montague.lit' to='capulet.lit'>${'0'.repeat(64)}</db:result>`);
    const r = await c.waitStanza((e) => e.local === 'result');
    assert.equal(r.attrs.type, 'error');
    assert.equal(dialbackError(r), 'policy-violation');
    assert.match(String(logged(cap.log, 's2s authentication policy: refused', { remote: 'montague.lit' }).at(-1)?.reason), /not encrypted; dialback needs TLS/);
    c.send(`<db:result from='lab.lit' to='capulet.lit'>${'0'.repeat(64)}</db:result>`);
    const lab = await c.waitStanza((e) => e.local === 'result' && e.attrs.to === 'lab.lit', 10_000);
    assert.equal(lab.attrs.type, 'error');
    assert.equal(dialbackError(lab), 'remote-connection-failed');
  });
});

describe('invalid-from for a local domain the remote domain was not authenticated to', () => {
  let ca: TestCa;
  let cap: CertServer;
  const users = rawSessions(() => cap);
  const peers: RawClient[] = [];

  before(async () => {
    ca = await createTestCa();
    cap = await startCertServer(['capulet.lit', 'verona.lit'], { 'juliet@capulet.lit': 'pw', 'friar@verona.lit': 'pw' }, {
      tls: await ca.issue({ dns: ['capulet.lit', 'verona.lit'] }),
      s2s: { trusted_certs: [ca.file] },
    });
  });
  after(async () => {
    for (const p of peers) p.destroy();
    users.destroyAll();
    await cap?.stop();
    ca?.cleanup();
  });

  it('accepts montague.lit → capulet.lit, then refuses its stanza to verona.lit (also served here) with invalid-from', async () => {
    const friar = await users.login('friar', 'cell', 'pw', 'verona.lit');
    const juliet = await users.login('juliet', 'balcony', 'pw', 'capulet.lit');
    const c = await RawClient.connect(cap.s2sPort);
    peers.push(c);
    const good = await ca.issue({ dns: ['montague.lit'] });
    c.send(header('montague.lit'));
    await c.waitStanza((e) => e.local === 'features');
    await c.starttls('capulet.lit', { cert: good.cert, key: good.key });
    c.send(header('montague.lit'));
    await c.waitStanza((e) => e.local === 'features');
    c.send(`<db:result from='montague.lit' to='capulet.lit'>${'0'.repeat(64)}</db:result>`);
    assert.equal((await c.waitStanza((e) => e.local === 'result')).attrs.type, 'valid');
    c.send(`<message from='romeo@montague.lit/orchard' to='juliet@capulet.lit/balcony' id='to-cap' type='chat'><body>1</body></message>`);
    await juliet.waitStanza((e) => e.attrs.id === 'to-cap');
    c.send(`<message from='romeo@montague.lit/orchard' to='friar@verona.lit/cell' id='to-verona' type='chat'><body>2</body></message>`);
    assert.equal(await streamError(c), 'invalid-from');
    const ping = await friar.iq(`<iq type='get' to='verona.lit'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(ping.attrs.type, 'result');
    assert.ok(!friar.stanzas.some((e) => e.attrs.id === 'to-verona'));
  });
});
