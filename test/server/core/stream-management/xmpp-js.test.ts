// XEP-0198 with a client we did not write: @xmpp/client enables stream management with resumption on its
// own; after its TCP connection is dropped under it, it reconnects, resumes the same session, and gets the
// message sent to it meanwhile, once.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { startTestServer, type TestServer } from '../../../helpers/server.ts';
import { connectPeer, xml, type Peer } from '../../../helpers/xmpp-js.ts';
import { RawClient } from '../../../helpers/raw-client.ts';
import { untilHibernating } from './sm-client.ts';

describe('XEP-0198 with @xmpp/client', () => {
  let t: TestServer;
  let peer: Peer | undefined;
  let friend: RawClient | undefined;
  before(async () => {
    t = await startTestServer({ users: { 'mobile@localhost': 'pw', 'friend@localhost': 'pw' } });
  });
  after(async () => {
    friend?.destroy();
    await peer?.stop();
    await t.stop();
  });

  it('resumes after the connection drops and receives what was sent meanwhile', async () => {
    peer = await connectPeer({ port: t.port, domain: 'localhost', username: 'mobile', password: 'pw', resource: 'xjs' });
    const sm = (peer.xmpp as any).streamManagement;
    for (let i = 0; i < 200 && !sm.enabled; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(sm.enabled && sm.id, 'xmpp.js enabled stream management with resumption');
    await peer.xmpp.send(xml('presence'));
    await peer.waitFor((el) => el.is('presence') && el.attrs.from === 'mobile@localhost/xjs');

    const disconnected = once(peer.xmpp, 'disconnect');
    // The TCP (under TLS, after STARTTLS) connection is destroyed: no closing tag.
    const socket = (peer.xmpp as any).socket;
    (socket.socket ?? socket).destroy();
    await disconnected;
    assert.equal(await untilHibernating(t.server), 1);

    friend = await RawClient.connect(t.port);
    await friend.login('friend@localhost', 'pw', 'desk');
    friend.send(`<message to='mobile@localhost/xjs' type='chat' id='meanwhile'><body>while you were away</body></message>`);
    // Routed to the hibernating session: nothing bounced, nothing stored offline.
    await new Promise((r) => setImmediate(r));

    const resumed = once(sm, 'resumed');
    await (peer.xmpp as any).reconnect.reconnect();
    await resumed;
    const m = await peer.waitFor((el) => el.is('message') && el.attrs.id === 'meanwhile');
    assert.equal(m.getChildText('body'), 'while you were away');
    assert.equal(t.server.streamManagement.hibernatingCount, 0);
    assert.equal((await t.storage.offline.size('mobile@localhost')).messages, 0);
    const pong = await peer.iq(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    assert.equal(pong.attrs.type, 'result');
    assert.equal(peer.received.filter((el) => el.is('message') && el.attrs.id === 'meanwhile').length, 0, 'once');
  });
});
