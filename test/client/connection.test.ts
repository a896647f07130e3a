// The client's own transport against our server over real sockets: STARTTLS with an explicit trust decision,
// SCRAM-SHA-256 and SCRAM-SHA-1 with the server signature checked, PLAIN policy, bind, IQ correlation,
// disco#info about ourselves, clean close.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, testTls, type TestServer } from '../helpers/server.ts';
import { XmppClient, ClientError, IqError, ScramSession, discoInfo } from '../../src/client/index.ts';
import { x } from '../../src/xml/index.ts';
import { createServer, type AddressInfo } from 'node:net';
import { NS_DISCO_INFO } from '../../src/protocol/xep0030.ts';

describe('client transport against our server', () => {
  let t: TestServer;
  let plainOnly: TestServer;
  const clients: XmppClient[] = [];
  const base = () => ({ jid: 'alice@localhost', password: 'alice-pw', host: '127.0.0.1', port: t.port, timeoutMs: 10_000 });
  const connect = async (o: Parameters<typeof XmppClient.connect>[0]) => {
    const c = await XmppClient.connect(o);
    clients.push(c);
    return c;
  };

  before(async () => {
    t = await startTestServer({ insecure: false, users: { 'alice@localhost': 'alice-pw', 'bob@localhost': 'bob-pw' } });
    plainOnly = await startTestServer({ insecure: true, users: { 'alice@localhost': 'alice-pw' } });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await t.stop();
    await plainOnly.stop();
  });

  it('logs in with STARTTLS and SCRAM-SHA-256 when the self-signed certificate is pinned', async () => {
    const c = await connect({ ...base(), resource: 'pinned', tls: { ca: (await testTls()).cert } });
    assert.equal(c.connection.info.mechanism, 'SCRAM-SHA-256');
    assert.equal(c.connection.info.tls, true);
    assert.equal(c.jid.full, 'alice@localhost/pinned');
  });

  it('falls back to SCRAM-SHA-1 when SHA-256 is not wanted, with insecure TLS as an explicit opt-in', async () => {
    const c = await connect({ ...base(), mechanisms: ['SCRAM-SHA-1'], tls: { rejectUnauthorized: false } });
    assert.equal(c.connection.info.mechanism, 'SCRAM-SHA-1');
  });

  it('refuses a self-signed certificate by default', async () => {
    await assert.rejects(XmppClient.connect(base()), (e: ClientError) => e.code === 'tls-failed' && /pin the server certificate/.test(e.message));
  });

  it('tells a certificate for another name from an unpinned one, and does not advise pinning a pinned one (issue 18)', async () => {
    const ca = (await testTls()).cert;
    await assert.rejects(XmppClient.connect({ ...base(), tls: { ca, servername: 'elsewhere.example' } }), (e: ClientError) => {
      assert.equal(e.code, 'tls-failed');
      assert.match(e.message, /certificate is not for elsewhere\.example/);
      assert.doesNotMatch(e.message, /pin the server certificate/);
      return true;
    });
  });

  it('reports a wrong password as auth-failed in plain words', async () => {
    await assert.rejects(XmppClient.connect({ ...base(), password: 'nope', tls: { rejectUnauthorized: false } }), (e: ClientError) => e.code === 'auth-failed' && /wrong user name or password/.test(e.message));
  });

  it('uses PLAIN over TLS when asked to', async () => {
    const c = await connect({ ...base(), mechanisms: ['PLAIN'], tls: { rejectUnauthorized: false } });
    assert.equal(c.connection.info.mechanism, 'PLAIN');
  });

  it('refuses a stream without TLS unless allowed, and PLAIN without TLS unless explicitly allowed', async () => {
    // A fake server that offers no STARTTLS and only PLAIN, and records what the client sends.
    const received: string[] = [];
    const fake = createServer((s) => {
      s.on('data', (d) => {
        received.push(d.toString());
        if (d.toString().includes('<stream:stream')) {
          s.write("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='x' version='1.0'><stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>");
        } else if (d.toString().includes('<auth')) {
          s.write("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>");
        }
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    try {
      const o = { ...base(), port: (fake.address() as AddressInfo).port };
      await assert.rejects(XmppClient.connect(o), (e: ClientError) => e.code === 'tls-required');
      await assert.rejects(XmppClient.connect({ ...o, requireTls: false }), (e: ClientError) => e.code === 'no-mechanism' && /not encrypted/.test(e.message));
      assert.ok(!received.some((d) => d.includes('<auth')), 'no password sent');
      await assert.rejects(XmppClient.connect({ ...o, requireTls: false, allowPlainWithoutTls: true }), (e: ClientError) => e.code === 'auth-failed');
      assert.ok(received.some((d) => d.includes("mechanism=\"PLAIN\"")), 'PLAIN used only when explicitly allowed');
    } finally {
      fake.close();
    }
  });

  it('correlates IQs, answers disco#info about itself, and times out unanswered IQs', async () => {
    const a = await connect({ ...base(), resource: 'a', tls: { rejectUnauthorized: false }, features: ['urn:example:feature'] });
    const b = await connect({ ...base(), jid: 'bob@localhost', password: 'bob-pw', resource: 'b', tls: { rejectUnauthorized: false } });
    // Bob and Alice share no subscription, but IQs to a full JID on the same server are routed.
    const info = await discoInfo(b, a.jid.full);
    assert.ok(info.features.has('urn:example:feature'));
    assert.ok(info.features.has(NS_DISCO_INFO));
    assert.deepEqual(info.identities.map((i) => `${i.category}/${i.type}`), ['client/pc']);
    // Unknown payloads are refused with service-unavailable.
    await assert.rejects(b.iq(x('iq', { type: 'get', to: a.jid.full }, x('query', { xmlns: 'urn:example:unknown' }))), (e: IqError) => e.condition === 'service-unavailable');
    // A handler's answer travels back.
    a.handleIq('get', 'ping', 'urn:example:echo', () => x('pong', { xmlns: 'urn:example:echo' }));
    const r = await b.iq(x('iq', { type: 'get', to: a.jid.full }, x('ping', { xmlns: 'urn:example:echo' })));
    assert.ok(r.getChild('pong', 'urn:example:echo'));
    // An IQ nobody answers: a handler that never returns.
    a.handleIq('get', 'slow', 'urn:example:echo', () => new Promise(() => {}));
    await assert.rejects(b.iq(x('iq', { type: 'get', to: a.jid.full }, x('slow', { xmlns: 'urn:example:echo' })), 200), (e: ClientError) => e.code === 'timeout');
  });

  it('closes cleanly and reports the close', async () => {
    const c = await XmppClient.connect({ ...base(), tls: { rejectUnauthorized: false } });
    const closed = new Promise<unknown>((r) => c.once('close', r));
    await c.close();
    assert.equal(await closed, undefined);
    assert.equal(c.isOpen, false);
  });
});

describe('SCRAM client', () => {
  it('reproduces the RFC 7677 SCRAM-SHA-256 example and checks the server signature', async () => {
    const s = new ScramSession('sha256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    assert.equal(s.initial(), 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const final = await s.respond('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    assert.equal(final, 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    s.verifyFinal('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
    assert.throws(() => s.verifyFinal('v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='), (e: ClientError) => e.code === 'auth-failed');
  });

  it('reproduces the RFC 5802 SCRAM-SHA-1 example', async () => {
    const s = new ScramSession('sha1', 'user', 'pencil', 'fyko+d2lbbFgONRv9qkxdawL');
    s.initial();
    const final = await s.respond('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096');
    assert.equal(final, 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=');
    s.verifyFinal('v=rmF9pqV8S7suAoZWja4dJRkFsKQ=');
  });

  it('refuses a server nonce that does not extend ours', async () => {
    const s = new ScramSession('sha256', 'user', 'pencil', 'abc');
    s.initial();
    await assert.rejects(s.respond('r=xyz123,s=QSXCR+Q6sek8bf92,i=4096'), (e: ClientError) => e.code === 'auth-failed');
  });
});
