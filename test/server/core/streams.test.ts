// Stream-level behaviour over real TCP: negotiation, SASL, binding and the RFC 6120 stream errors, each
// checked together with a sentinel session that must keep working.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { RawClient, NS_HEADER } from '../../helpers/raw-client.ts';

describe('c2s streams', () => {
  let t: TestServer;
  let sentinel: RawClient;

  before(async () => {
    t = await startTestServer({ hosts: ['localhost', 'example.com'], users: { 'alice@localhost': 'secret', 'bob@localhost': 'hunter2' } });
    sentinel = await RawClient.connect(t.port);
    await sentinel.login('bob@localhost', 'hunter2', 'sentinel');
  });
  after(async () => {
    sentinel.destroy();
    await t.stop();
  });

  async function sentinelAlive(): Promise<void> {
    const id = `ping${Math.random()}`;
    sentinel.send(`<iq type='get' id='${id}' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const r = await sentinel.waitStanza((e) => e.attrs.id === id);
    assert.equal(r.attrs.type, 'result');
  }

  it('answers a header with its own header and features offering STARTTLS and SASL', async () => {
    const c = await RawClient.connect(t.port);
    c.send(NS_HEADER('localhost'));
    const f = await c.waitStanza((e) => e.local === 'features');
    assert.ok(f.getChild('starttls', 'urn:ietf:params:xml:ns:xmpp-tls'));
    const mechs = f.getChild('mechanisms', 'urn:ietf:params:xml:ns:xmpp-sasl')!.getChildren('mechanism').map((m) => m.text());
    assert.deepEqual(mechs, ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
    assert.match(c.text, /<stream:stream [^>]*from='localhost'[^>]*version='1.0'/);
    c.destroy();
  });

  it('logs in with PLAIN, binds a resource and answers a ping', async () => {
    const c = await RawClient.connect(t.port);
    const jid = await c.login('Alice@LOCALHOST', 'secret', 'desk');
    assert.equal(jid, 'alice@localhost/desk');
    c.send(`<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal((await c.waitStanza((e) => e.attrs.id === 'p1')).attrs.type, 'result');
    c.end();
    await c.waitClosed();
  });

  it('generates a resource when none is requested', async () => {
    const c = await RawClient.connect(t.port);
    c.send(NS_HEADER('localhost'));
    await c.waitStanza((e) => e.local === 'features');
    c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0secret').toString('base64')}</auth>`);
    await c.waitStanza((e) => e.local === 'success');
    // Fresh parser state for the restarted stream is handled by the helper only in login(); do it by hand.
    c.stanzas.length = 0;
    c.send(NS_HEADER('localhost'));
    await c.waitText(/<bind xmlns/);
    c.send(`<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`);
    await c.waitText(/<jid>alice@localhost\/[0-9a-f]{16}<\/jid>/);
    c.destroy();
  });

  it('refuses a wrong password with not-authorized and changes nothing', async () => {
    const before = await t.storage.accounts.get('alice@localhost');
    const c = await RawClient.connect(t.port);
    c.send(NS_HEADER('localhost'));
    await c.waitStanza((e) => e.local === 'features');
    c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0wrong').toString('base64')}</auth>`);
    const f = await c.waitStanza((e) => e.local === 'failure');
    assert.ok(f.getChild('not-authorized'));
    assert.deepEqual(await t.storage.accounts.get('alice@localhost'), before);
    c.destroy();
    await sentinelAlive();
  });

  it('closes the stream after too many failed attempts', async () => {
    const c = await RawClient.connect(t.port);
    c.send(NS_HEADER('localhost'));
    await c.waitStanza((e) => e.local === 'features');
    for (let i = 0; i < 5; i++) {
      c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0nope').toString('base64')}</auth>`);
      await c.waitStanza((e) => e.local === 'failure');
    }
    await c.waitText(/<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/>|<policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    await c.waitClosed();
  });

  it('refuses an unknown host with host-unknown', async () => {
    const c = await RawClient.connect(t.port);
    c.send(NS_HEADER('nowhere.example'));
    await c.waitText(/<host-unknown xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    await c.waitClosed();
  });

  it('closes a stream with malformed XML with not-well-formed, others unaffected', async () => {
    const c = await RawClient.connect(t.port);
    c.send(NS_HEADER('localhost'));
    await c.waitStanza((e) => e.local === 'features');
    c.send('<message><body>unclosed</message>');
    await c.waitText(/<not-well-formed xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    await c.waitClosed();
    await sentinelAlive();
  });

  it('parses the stream restarted after SASL on a clean slate: stanzas work, malformed XML is not-well-formed', async () => {
    const c = await RawClient.connect(t.port);
    c.send(NS_HEADER('localhost'));
    await c.waitStanza((e) => e.local === 'features');
    // Half a stanza of the first stream, sent after the auth: the restart discards it.
    c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0alice\0secret').toString('base64')}</auth><message><body>`);
    await c.waitStanza((e) => e.local === 'success');
    c.stanzas.length = 0;
    c.send(NS_HEADER('localhost'));
    await c.waitText(/<bind xmlns/);
    c.send(`<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>restart</resource></bind></iq>`);
    await c.waitText(/<jid>alice@localhost\/restart<\/jid>/);
    c.send(`<iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await c.waitText(/id=["']p2["']/);
    c.send('<message><body>unclosed</message>');
    await c.waitText(/<not-well-formed xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    await c.waitClosed();
    await sentinelAlive();
  });

  it('refuses a DOCTYPE with entity definitions with restricted-xml', async () => {
    const c = await RawClient.connect(t.port);
    c.send(`<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>`);
    await c.waitText(/<restricted-xml xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    // RFC 6120 §4.9.1.1: an error before the client's header still comes after a header of ours.
    assert.match(c.text, /^<\?xml version='1.0'\?><stream:stream /);
    await c.waitClosed();
    await sentinelAlive();
  });

  it('refuses comments and processing instructions with restricted-xml', async () => {
    for (const bad of ['<!-- hi -->', '<?foo bar?>']) {
      const c = await RawClient.connect(t.port);
      const jid = await c.login('alice@localhost', 'secret', 'r');
      assert.ok(jid);
      c.send(bad);
      await c.waitText(/<restricted-xml xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
      await c.waitClosed();
    }
    await sentinelAlive();
  });

  it('closes an oversize stanza with policy-violation and loses no other session', async () => {
    const c = await RawClient.connect(t.port);
    await c.login('alice@localhost', 'secret', 'big');
    c.send(`<message to='bob@localhost/sentinel'><body>${'x'.repeat(300 * 1024)}</body></message>`);
    await c.waitText(/<policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    await c.waitClosed();
    assert.equal(sentinel.stanzas.filter((s) => s.name === 'message').length, 0);
    await sentinelAlive();
  });

  it('refuses invalid UTF-8 with unsupported-encoding (RFC 6120 §4.9.3.22)', async () => {
    const c = await RawClient.connect(t.port);
    c.send(NS_HEADER('localhost'));
    await c.waitStanza((e) => e.local === 'features');
    c.send(Buffer.from([0x3c, 0x61, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x61, 0x3e]));
    await c.waitText(/<unsupported-encoding xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    await c.waitClosed();
  });

  it('keeps a multibyte character split across TCP reads intact', async () => {
    const c = await RawClient.connect(t.port);
    await c.login('alice@localhost', 'secret', 'utf8');
    const msg = Buffer.from(`<message to='bob@localhost/sentinel' type='chat' id='u1'><body>Grüße €𝄞</body></message>`);
    const cut = msg.indexOf(Buffer.from('€')) + 1;
    c.send(msg.subarray(0, cut));
    await new Promise((r) => setTimeout(r, 30));
    c.send(msg.subarray(cut));
    const got = await sentinel.waitStanza((e) => e.attrs.id === 'u1');
    assert.equal(got.getChildText('body'), 'Grüße €𝄞');
    assert.equal(got.attrs.from, 'alice@localhost/utf8');
    c.destroy();
  });

  it('refuses stanzas before authentication with not-authorized', async () => {
    const c = await RawClient.connect(t.port);
    c.send(NS_HEADER('localhost'));
    await c.waitStanza((e) => e.local === 'features');
    c.send(`<message to='bob@localhost'><body>spam</body></message>`);
    await c.waitText(/<not-authorized xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    await c.waitClosed();
  });

  it('refuses a forged from with invalid-from', async () => {
    const c = await RawClient.connect(t.port);
    await c.login('alice@localhost', 'secret', 'forge');
    c.send(`<message from='bob@localhost/x' to='bob@localhost'><body>forged</body></message>`);
    await c.waitText(/<invalid-from xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    await c.waitClosed();
  });

  it('answers an invalid to address with jid-malformed', async () => {
    const c = await RawClient.connect(t.port);
    await c.login('alice@localhost', 'secret', 'jid');
    c.send(`<iq type='get' id='j1' to='a@b@c'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const r = await c.waitStanza((e) => e.attrs.id === 'j1');
    assert.equal(r.attrs.type, 'error');
    assert.ok(r.getChild('error')!.getChild('jid-malformed', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
    c.destroy();
  });

  it('answers an IQ to an unavailable full JID with service-unavailable', async () => {
    const c = await RawClient.connect(t.port);
    await c.login('alice@localhost', 'secret', 'iq');
    c.send(`<iq type='get' id='q1' to='bob@localhost/nope'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const r = await c.waitStanza((e) => e.attrs.id === 'q1');
    assert.equal(r.attrs.type, 'error');
    assert.equal(r.attrs.from, 'bob@localhost/nope');
    assert.ok(r.getChild('error')!.getChild('service-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
    c.send(`<iq type='get' id='q2' to='nobody@localhost'><query xmlns='jabber:iq:version'/></iq>`);
    const r2 = await c.waitStanza((e) => e.attrs.id === 'q2');
    assert.ok(r2.getChild('error')!.getChild('service-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
    c.send(`<iq type='get' id='q3' to='localhost'><query xmlns='urn:example:unknown'/></iq>`);
    const r3 = await c.waitStanza((e) => e.attrs.id === 'q3');
    assert.ok(r3.getChild('error')!.getChild('service-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
    c.destroy();
  });

  it('replaces a session that binds the same resource, closing the old one with conflict', async () => {
    const a = await RawClient.connect(t.port);
    await a.login('alice@localhost', 'secret', 'same');
    const b = await RawClient.connect(t.port);
    await b.login('alice@localhost', 'secret', 'same');
    await a.waitText(/<conflict xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
    await a.waitClosed();
    b.send(`<iq type='get' id='c1'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal((await b.waitStanza((e) => e.attrs.id === 'c1')).attrs.type, 'result');
    b.destroy();
  });

  it('serves direct TLS (XEP-0368) on its own port', async () => {
    const c = await RawClient.connectTls(t.tlsPort);
    c.send(NS_HEADER('localhost'));
    const f = await c.waitStanza((e) => e.local === 'features');
    assert.equal(f.getChild('starttls'), undefined);
    assert.ok(f.getChild('mechanisms'));
    c.destroy();
  });

  it('answers disco#info and version for the server', async () => {
    const c = await RawClient.connect(t.port);
    await c.login('alice@localhost', 'secret', 'disco');
    c.send(`<iq type='get' id='d1' to='example.com'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
    const r = await c.waitStanza((e) => e.attrs.id === 'd1');
    const q = r.getChild('query', 'http://jabber.org/protocol/disco#info')!;
    assert.equal(q.getChild('identity')!.attrs.category, 'server');
    const features = q.getChildren('feature').map((f) => f.attrs.var);
    for (const f of ['urn:xmpp:ping', 'jabber:iq:version', 'http://jabber.org/protocol/disco#info']) assert.ok(features.includes(f), f);
    c.send(`<iq type='get' id='v1' to='localhost'><query xmlns='jabber:iq:version'/></iq>`);
    const v = await c.waitStanza((e) => e.attrs.id === 'v1');
    assert.equal(v.getChild('query')!.getChildText('name'), 'pepkeys');
    c.destroy();
  });
});

describe('SCRAM-SHA-256 login over TCP', () => {
  it('authenticates, verifies the server signature and binds', async () => {
    const { ScramClient } = await import('../../helpers/scram-client.ts');
    const t = await startTestServer({ users: { 'carol@localhost': 'päss wörd' } });
    try {
      const c = await RawClient.connect(t.port);
      c.send(NS_HEADER('localhost'));
      await c.waitStanza((e) => e.local === 'features');
      const sc = new ScramClient('sha256', 'carol', 'päss wörd');
      c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>${Buffer.from(sc.first()).toString('base64')}</auth>`);
      const ch = await c.waitStanza((e) => e.local === 'challenge');
      c.send(`<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${Buffer.from(sc.final(Buffer.from(ch.text(), 'base64').toString())).toString('base64')}</response>`);
      const ok = await c.waitStanza((e) => e.local === 'success');
      assert.ok(sc.verify(Buffer.from(ok.text(), 'base64').toString()));
      c.destroy();
    } finally {
      await t.stop();
    }
  });
});

describe('channel binding over TLS (SCRAM-*-PLUS, XEP-0440)', () => {
  it('offers -PLUS with the binding types of the connection and accepts tls-exporter and tls-server-end-point logins', async () => {
    const { ScramClient } = await import('../../helpers/scram-client.ts');
    const { createHash } = await import('node:crypto');
    const t = await startTestServer({ users: { 'dave@localhost': 'pw' } });
    try {
      for (const type of ['tls-exporter', 'tls-server-end-point']) {
        const c = await RawClient.connectTls(t.tlsPort);
        c.send(NS_HEADER('localhost'));
        const f = await c.waitStanza((e) => e.local === 'features');
        const mechs = f.getChild('mechanisms')!.getChildren('mechanism').map((m) => m.text());
        assert.deepEqual(mechs.slice(0, 2), ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS']);
        const types = f.getChild('sasl-channel-binding', 'urn:xmpp:sasl-cb:0')!.getChildren('channel-binding').map((b) => b.attrs.type);
        assert.ok(types.includes(type), `${type} offered: ${types}`);
        const tls = c.tlsSocket!;
        const data = type === 'tls-exporter'
          ? tls.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0))
          : createHash('sha256').update(tls.getPeerCertificate(true).raw).digest();
        const sc = new ScramClient('sha256', 'dave', 'pw', { type, data });
        c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256-PLUS'>${Buffer.from(sc.first()).toString('base64')}</auth>`);
        const ch = await c.waitStanza((e) => e.local === 'challenge');
        c.send(`<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${Buffer.from(sc.final(Buffer.from(ch.text(), 'base64').toString())).toString('base64')}</response>`);
        const ok = await c.waitStanza((e) => e.local === 'success' || e.local === 'failure');
        assert.equal(ok.local, 'success', `${type}: ${ok.toString()}`);
        assert.equal(sc.serverAttrs.d, sc.expectedDowngradeHash(mechs, types));
        c.destroy();
      }
    } finally {
      await t.stop();
    }
  });
});

describe('keepalives and timeouts', () => {
  it('keeps a stream alive on whitespace, closes an idle one with connection-timeout, accepts RFC 3921 session', async () => {
    const t = await startTestServer({ users: { 'erin@localhost': 'pw' }, config: { c2s: { idle_timeout_seconds: 1 } } });
    try {
      const alive = await RawClient.connect(t.port);
      await alive.login('erin@localhost', 'pw', 'alive');
      const r = await alive.iq(`<iq type='set'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>`);
      assert.equal(r.attrs.type, 'result');
      const idle = await RawClient.connect(t.port);
      await idle.login('erin@localhost', 'pw', 'idle');
      const timer = setInterval(() => alive.send(' '), 300);
      await idle.waitText(/<connection-timeout xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/, 5000);
      await idle.waitClosed();
      clearInterval(timer);
      assert.equal((await alive.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)).attrs.type, 'result');
      alive.destroy();
    } finally {
      await t.stop();
    }
  });
});

describe('graceful shutdown', () => {
  it('closes every stream with system-shutdown and commits pending writes', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { openSqliteStorage } = await import('../../../src/storage/sqlite/index.ts');
    const dir = mkdtempSync(join(tmpdir(), 'pepkeys-shutdown-'));
    try {
      const t = await startTestServer({ storage: openSqliteStorage({ path: join(dir, 'db.sqlite') }), users: { 'fay@localhost': 'pw' } });
      const c = await RawClient.connect(t.port);
      await c.login('fay@localhost', 'pw', 'x');
      const pre = await RawClient.connect(t.port);
      c.send(`<iq type='set' id='p'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:test:n'><item id='last'><v xmlns='urn:test:n'/></item></publish></pubsub></iq>`);
      await c.waitStanza((e) => e.attrs.id === 'p');
      await t.stop();
      for (const s of [c, pre]) {
        await s.waitText(/<system-shutdown xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/);
        await s.waitClosed();
      }
      const reopened = openSqliteStorage({ path: join(dir, 'db.sqlite') });
      assert.deepEqual((await reopened.pubsub.getItems('fay@localhost', 'urn:test:n')).map((i) => i.id), ['last']);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
