// Stanzas for a remote domain wait while its connection is set up, and are bounced to their sender, never
// dropped: remote-server-timeout when the peer never gets through negotiation, resource-constraint when the
// per-domain queue is full. The peer is a TCP listener that accepts and then says nothing. The same server
// drops inbound peers that never authenticate.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { startTestServer, rawSessions, type TestServer } from '../../helpers/server.ts';
import type { Element } from '../../../src/xml/index.ts';
import { RawClient } from '../../helpers/raw-client.ts';

const header = `<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='montague.lit' to='capulet.lit' version='1.0'>`;

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const condition = (el: Element) => el.getChild('error')?.elements.find((e) => e.ns === STANZAS && e.local !== 'text')?.local;

describe('outbound queue of a remote domain', () => {
  let cap: TestServer;
  let silent: Server;
  const sockets: Socket[] = [];
  const users = rawSessions(() => cap);

  before(async () => {
    silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    cap = await startTestServer({
      hosts: ['capulet.lit'],
      users: { 'juliet@capulet.lit': 'pw' },
      config: { s2s: { listen: ['127.0.0.1:0'], connect_timeout_seconds: 0.5, preauth_timeout_seconds: 0.5, max_queue: 2, routes: { 'mute.lit': `127.0.0.1:${port}` } } },
    });
  });
  after(async () => {
    users.destroyAll();
    for (const s of sockets) s.destroy();
    await cap?.stop();
    await new Promise((r) => silent.close(r));
  });

  it('bounces remote-server-timeout for what waited, resource-constraint beyond the queue', async () => {
    const juliet = await users.login('juliet', 'balcony', 'pw', 'capulet.lit');
    for (const id of ['q1', 'q2', 'q3']) juliet.send(`<message to='friar@mute.lit' type='chat' id='${id}'><body>${id}</body></message>`);
    const third = await juliet.waitStanza((e) => e.attrs.id === 'q3');
    assert.equal(third.attrs.type, 'error');
    assert.equal(condition(third), 'resource-constraint');
    assert.equal(cap.server.s2s!.status().outbound.find((l) => l.remote === 'mute.lit')?.queued, 2);
    for (const id of ['q1', 'q2']) {
      const b = await juliet.waitStanza((e) => e.attrs.id === id);
      assert.equal(b.attrs.type, 'error');
      assert.equal(condition(b), 'remote-server-timeout');
    }
    // The failed link is forgotten: the next stanza starts a new attempt (and bounces the same way).
    assert.equal(cap.server.s2s!.status().outbound.length, 0);
  });

  it('closes an inbound stream on which nothing authenticates, with connection-timeout', async () => {
    const c = await RawClient.connect(cap.s2sPort);
    c.send(header);
    await c.waitStanza((e) => e.local === 'features');
    const err = await c.waitStanza((e) => e.local === 'error');
    assert.ok(err.getChild('connection-timeout', 'urn:ietf:params:xml:ns:xmpp-streams'));
    await c.waitClosed();
  });

  it('drops a peer that asks for TLS and never completes the handshake', async () => {
    const c = await RawClient.connect(cap.s2sPort);
    c.send(header);
    await c.waitStanza((e) => e.local === 'features');
    c.send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
    await c.waitStanza((e) => e.local === 'proceed');
    await c.waitClosed();
  });
});
