// RFC 7395 at the level of messages, with a raw `ws` client: the handshake's checks (subprotocol, origin),
// <open/>/<close/>, one self-contained element per message, stream errors for bad framing and oversize
// messages (other sessions unaffected), wss, and a trusted proxy's forwarded address and scheme.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { captureLogger } from '../../helpers/log-capture.ts';
import { FRAMING, WsClient, openFrame } from '../../helpers/ws-client.ts';
import type { Element } from '../../../src/xml/index.ts';

const STREAM = 'http://etherx.jabber.org/streams';
const STREAMS = 'urn:ietf:params:xml:ns:xmpp-streams';
const SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

const streamError = (el: Element) => el.local === 'error' && el.ns === STREAM;
const conditionOf = (el: Element) => el.elements.find((c) => c.ns === STREAMS && c.local !== 'text')?.local;
const mechanisms = (features: Element) => features.getChild('mechanisms', SASL)?.getChildren('mechanism').map((m) => m.text()) ?? [];

describe('XMPP over WebSocket framing (RFC 7395)', () => {
  let t: TestServer;
  const log = captureLogger();
  const clients: WsClient[] = [];
  const connect = async (opts: Parameters<typeof WsClient.connect>[1] = {}, url = t.web!.wsUrl) => {
    const c = await WsClient.connect(url, opts);
    clients.push(c);
    return c;
  };
  /** The next message must be a stream error with this condition, then <close/>, then the WebSocket closes. */
  const expectStreamError = async (c: WsClient, condition: string) => {
    const err = await c.next(streamError);
    assert.equal(conditionOf(err), condition, err.toString());
    const close = await c.next((e) => e.name === 'close');
    assert.equal(close.ns, FRAMING);
    assert.equal((await c.closed).code, 1000);
  };

  before(async () => {
    t = await startTestServer({
      insecure: false,
      web: true,
      logger: log.logger,
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' },
      config: {
        http: { allowed_origins: ['https://app.example'] },
        limits: { max_preauth_stanza_bytes: 4096, max_stanza_bytes: 16 * 1024, max_connections_per_ip: 50 },
      },
    });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t.stop();
  });

  it('refuses an upgrade without the xmpp subprotocol with 400', async () => {
    await assert.rejects(connect({ protocols: ['chat'] }), (e: { status?: number }) => e.status === 400);
    await assert.rejects(connect({ protocols: [] }), (e: { status?: number }) => e.status === 400);
  });

  it('allows same-origin pages and configured origins, refuses others with 403 and logs them', async () => {
    await connect({ origin: `http://127.0.0.1:${t.web!.httpPort}` });
    await connect({ origin: 'https://app.example' });
    await connect({}); // no Origin: not a browser
    await assert.rejects(connect({ origin: 'https://evil.example' }), (e: { status?: number }) => e.status === 403);
    // Same host, other port: another origin.
    await assert.rejects(connect({ origin: `http://127.0.0.1:${t.web!.httpPort + 1}` }), (e: { status?: number }) => e.status === 403);
    assert.ok(log.lines.some((l) => l.msg.includes('origin not in http.allowed_origins') && l.origin === 'https://evil.example'));
  });

  it('answers <open/> with <open/> and features, each a document of its own; no STARTTLS, no -PLUS', async () => {
    const c = await connect();
    const { open, features } = await c.open();
    assert.equal(open.ns, FRAMING);
    assert.equal(open.attrs.from, 'localhost');
    assert.equal(open.attrs.version, '1.0');
    assert.ok(open.attrs.id);
    assert.equal(features.ns, STREAM);
    assert.equal(features.getChild('starttls', 'urn:ietf:params:xml:ns:xmpp-tls'), undefined);
    // Loopback counts as secure: SASL is offered although require_tls is on.
    const mechs = mechanisms(features);
    assert.ok(mechs.includes('SCRAM-SHA-256'), mechs.join());
    assert.ok(!mechs.some((m) => m.endsWith('-PLUS')), mechs.join());
  });

  it('logs in, binds and routes stanzas; stanzas carry jabber:client', async () => {
    const a = await connect();
    await a.login('juliet@localhost', 'pw', 'ws');
    const b = await connect();
    await b.login('romeo@localhost', 'pw', 'ws');
    a.send(`<message xmlns='jabber:client' to='romeo@localhost/ws' id='m1'><body>hi</body></message>`);
    const m = await b.next((e) => e.name === 'message');
    assert.equal(m.ns, 'jabber:client');
    assert.equal(m.attrs.from, 'juliet@localhost/ws');
    a.send(`<iq xmlns='jabber:client' type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const pong = await a.next((e) => e.name === 'iq' && e.attrs.id === 'p1');
    assert.equal(pong.ns, 'jabber:client');
    assert.equal(pong.attrs.type, 'result');
  });

  it('answers <close/> with <close/> and closes the WebSocket', async () => {
    const c = await connect();
    await c.login('juliet@localhost', 'pw', 'closing');
    c.send(`<close xmlns='${FRAMING}'/>`);
    const close = await c.next((e) => e.name === 'close');
    assert.equal(close.ns, FRAMING);
    assert.equal((await c.closed).code, 1000);
  });

  it('half an element in a message is not-well-formed', async () => {
    const c = await connect();
    await c.open();
    c.send(`<auth xmlns='${SASL}' mechanism='PLAIN'>`);
    await expectStreamError(c, 'not-well-formed');
  });

  it('two elements in one message are not-well-formed', async () => {
    const c = await connect();
    await c.login('juliet@localhost', 'pw', 'two');
    c.send(`<presence xmlns='jabber:client'/><presence xmlns='jabber:client'/>`);
    await expectStreamError(c, 'not-well-formed');
  });

  it('a binary message is bad-format; an <open/> in another namespace is invalid-namespace', async () => {
    const c = await connect();
    await c.open();
    c.send(Buffer.from(`<presence xmlns='jabber:client'/>`), true);
    await expectStreamError(c, 'bad-format');
    const d = await connect();
    d.send(`<open xmlns='jabber:client' to='localhost' version='1.0'/>`);
    const open = await d.next((e) => e.name === 'open');
    assert.equal(open.ns, FRAMING);
    await expectStreamError(d, 'invalid-namespace');
  });

  it('an unknown host gets <open/> then host-unknown', async () => {
    const c = await connect();
    c.send(openFrame('elsewhere.example'));
    await c.next((e) => e.name === 'open');
    await expectStreamError(c, 'host-unknown');
  });

  it('oversize messages: policy-violation within the frame limit, WebSocket close 1009 beyond it; other sessions go on', async () => {
    const bystander = await connect();
    await bystander.login('romeo@localhost', 'pw', 'bystander');

    const pre = await connect();
    await pre.open();
    pre.send(`<auth xmlns='${SASL}' mechanism='PLAIN'>${'A'.repeat(8000)}</auth>`);
    await expectStreamError(pre, 'policy-violation');

    const post = await connect();
    await post.login('juliet@localhost', 'pw', 'big');
    post.send(`<message xmlns='jabber:client' to='romeo@localhost'><body>${'x'.repeat(16 * 1024 + 200)}</body></message>`);
    await expectStreamError(post, 'policy-violation');

    const huge = await connect();
    await huge.login('juliet@localhost', 'pw', 'huge');
    huge.send(`<message xmlns='jabber:client' to='romeo@localhost'><body>${'x'.repeat(64 * 1024)}</body></message>`);
    assert.equal((await huge.closed).code, 1009);

    bystander.send(`<iq xmlns='jabber:client' type='get' id='still' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal((await bystander.next((e) => e.attrs.id === 'still')).attrs.type, 'result');
  });

  it('wss: TLS on the HTTPS listener, secure without STARTTLS, still no -PLUS', async () => {
    const c = await connect({}, t.web!.wssUrl);
    const { features } = await c.open();
    const mechs = mechanisms(features);
    assert.ok(mechs.includes('SCRAM-SHA-1'), mechs.join());
    assert.ok(!mechs.some((m) => m.endsWith('-PLUS')), mechs.join());
    assert.equal(features.getChild('starttls', 'urn:ietf:params:xml:ns:xmpp-tls'), undefined);
    c.destroy();
    const d = await connect({}, t.web!.wssUrl);
    await d.login('juliet@localhost', 'pw', 'wss');
  });

  it('behind a trusted proxy: secure only if it says https, and limits count the forwarded address', async () => {
    const plain = await connect({ headers: { 'x-forwarded-for': '203.0.113.7' } });
    const { features } = await plain.open();
    // The client reached the proxy over plain http: no SASL while require_tls is on.
    assert.deepEqual(mechanisms(features), []);
    const https = await connect({ headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' } });
    assert.ok(mechanisms((await https.open()).features).length > 0);
    const peers = log.lines.filter((l) => l.msg === 'connected' && l.transport === 'websocket').map((l) => l.peer);
    assert.ok(peers.includes('203.0.113.7:0'), peers.join());
  });
});
