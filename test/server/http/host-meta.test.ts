// XEP-0156 discovery: host-meta (XRD) and host-meta.json name the WebSocket URL of the request's own
// listener, the one a trusted proxy forwarded, or http.websocket_url; and the HTTPS listener picks up a
// new certificate at reloadTls (SIGHUP) for new connections.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { WsClient } from '../../helpers/ws-client.ts';
import { generateSelfSigned } from '../../../src/server/core/tls-credentials.ts';
import { parseXml } from '../../../src/xml/index.ts';

const REL = 'urn:xmpp:alt-connections:websocket';

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; cors: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), cors: res.headers['access-control-allow-origin'] as string | undefined, body }));
    }).on('error', reject).end();
  });
}

function xrdHref(body: string): string | undefined {
  const xrd = parseXml(body);
  return xrd.getChildren('Link', 'http://docs.oasis-open.org/ns/xri/xrd-1.0').find((l) => l.attrs.rel === REL)?.attrs.href;
}

function peerCn(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(String(s.getPeerCertificate().subject?.CN));
      s.destroy();
    });
    s.on('error', reject);
  });
}

describe('XEP-0156 host-meta and the HTTPS listener', () => {
  let t: TestServer;
  let behindProxy: TestServer;
  before(async () => {
    t = await startTestServer({ web: true });
    behindProxy = await startTestServer({ web: true, config: { http: { websocket_url: 'wss://chat.example.org/xmpp-websocket' } } });
  });
  after(async () => {
    await t.stop();
    await behindProxy.stop();
  });

  it('host-meta (XRD) names the WebSocket URL of the listener asked, with CORS open', async () => {
    const port = t.web!.httpPort;
    const r = await get(port, '/.well-known/host-meta');
    assert.equal(r.status, 200);
    assert.match(r.type, /^application\/xrd\+xml/);
    assert.equal(r.cors, '*');
    assert.equal(xrdHref(r.body), `ws://127.0.0.1:${port}/xmpp-websocket`);
  });

  it('host-meta.json says the same', async () => {
    const port = t.web!.httpPort;
    const r = await get(port, '/.well-known/host-meta.json');
    assert.equal(r.status, 200);
    assert.match(r.type, /^application\/json/);
    assert.equal(r.cors, '*');
    assert.deepEqual(JSON.parse(r.body), { links: [{ rel: REL, href: `ws://127.0.0.1:${port}/xmpp-websocket` }] });
  });

  it('follows a trusted proxy\'s forwarded host and scheme, and the URL it advertises works', async () => {
    const r = await get(t.web!.httpPort, '/.well-known/host-meta.json', { 'x-forwarded-for': '198.51.100.2', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'xmpp.example.net' });
    assert.equal(JSON.parse(r.body).links[0].href, 'wss://xmpp.example.net/xmpp-websocket');
    const plain = await get(t.web!.httpPort, '/.well-known/host-meta');
    const c = await WsClient.connect(xrdHref(plain.body)!);
    await c.open();
    c.destroy();
  });

  it('http.websocket_url overrides what the request says', async () => {
    const r = await get(behindProxy.web!.httpPort, '/.well-known/host-meta');
    assert.equal(xrdHref(r.body), 'wss://chat.example.org/xmpp-websocket');
    const j = await get(behindProxy.web!.httpPort, '/.well-known/host-meta.json');
    assert.equal(JSON.parse(j.body).links[0].href, 'wss://chat.example.org/xmpp-websocket');
  });

  it('reloadTls gives new HTTPS connections the new certificate', async () => {
    const port = t.web!.httpsPort;
    assert.equal(await peerCn(port), 'localhost');
    t.server.reloadTls(await generateSelfSigned(['renewed.example']));
    assert.equal(await peerCn(port), 'renewed.example');
    const c = await WsClient.connect(t.web!.wssUrl);
    await c.open();
    c.destroy();
  });
});
