// One session core, one set of limits: connections per address and the login throttle count TCP and
// WebSocket sessions together (the WebSocket endpoint adds no limits of its own, nor escapes
// any).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { RawClient } from '../../helpers/raw-client.ts';
import { WsClient } from '../../helpers/ws-client.ts';
import type { Element } from '../../../src/xml/index.ts';

const SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const STREAMS = 'urn:ietf:params:xml:ns:xmpp-streams';
const streamError = (el: Element) => el.local === 'error' && el.ns === 'http://etherx.jabber.org/streams';
const conditionOf = (el: Element) => el.elements.find((c) => c.ns === STREAMS && c.local !== 'text')?.local;
const plain = (user: string, pw: string) => `<auth xmlns='${SASL}' mechanism='PLAIN'>${Buffer.from(`\0${user}\0${pw}`).toString('base64')}</auth>`;

describe('limits shared by TCP and WebSocket sessions', () => {
  let t: TestServer;
  const tcp: RawClient[] = [];
  const ws: WsClient[] = [];
  before(async () => {
    t = await startTestServer({
      web: true,
      users: { 'juliet@localhost': 'pw' },
      config: { limits: { max_connections_per_ip: 3, max_failed_logins: 2, auth_failure_delay_ms: 1 } },
    });
  });
  after(async () => {
    for (const c of tcp) c.destroy();
    for (const c of ws) c.destroy();
    await t.stop();
  });

  it('a WebSocket connection over the per-address limit, counted with TCP ones, gets policy-violation', async () => {
    for (let i = 0; i < 2; i++) tcp.push(await RawClient.connect(t.port));
    const a = await WsClient.connect(t.web!.wsUrl);
    ws.push(a);
    await a.open();
    const b = await WsClient.connect(t.web!.wsUrl);
    ws.push(b);
    b.send(`<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>`);
    assert.equal(conditionOf(await b.next(streamError)), 'policy-violation');
    assert.equal((await b.closed).code, 1000);
    for (const c of tcp.splice(0)) c.destroy();
    a.destroy();
    for (let i = 0; i < 100 && t.server.connectionStats().connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
  });

  it('wrong passwords over TCP lock the address out over WebSocket too', async () => {
    for (let i = 0; i < 2; i++) {
      const c = await RawClient.connect(t.port);
      tcp.push(c);
      c.send(`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`);
      await c.waitStanza((e) => e.local === 'features');
      c.send(plain('juliet', 'wrong'));
      const f = await c.waitStanza((e) => e.local === 'failure');
      assert.ok(f.getChild('not-authorized'), f.toString());
      c.destroy();
    }
    const w = await WsClient.connect(t.web!.wsUrl);
    ws.push(w);
    await w.open();
    w.send(plain('juliet', 'pw'));
    const f = await w.next((e) => e.local === 'failure');
    assert.ok(f.getChild('temporary-auth-failure'), `the right password is refused while locked out: ${f.toString()}`);
  });
});
