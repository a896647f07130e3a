// XEP-0280 with @xmpp/client (a client library we did not write): two xmpp.js resources of one account
// enable carbons and each sees the other's side of a conversation with a raw client.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, rawSessions, type TestServer } from '../../../helpers/server.ts';
import { connectPeer, xml, type Peer } from '../../../helpers/xmpp-js.ts';

const CARBONS = 'urn:xmpp:carbons:2';
const FORWARD = 'urn:xmpp:forward:0';

describe('XEP-0280 with @xmpp/client', () => {
  let t: TestServer;
  const peers: Peer[] = [];
  before(async () => {
    t = await startTestServer({ users: { 'alice@localhost': 'pw', 'bob@localhost': 'pw' } });
  });
  after(async () => {
    for (const p of peers) await p.stop();
    s.destroyAll();
    await t.stop();
  });
  const s = rawSessions(() => t);

  it('sent and received copies reach the other enabled resource', async () => {
    const phone = await connectPeer({ port: t.port, domain: 'localhost', username: 'alice', password: 'pw', resource: 'phone' });
    const desktop = await connectPeer({ port: t.port, domain: 'localhost', username: 'alice', password: 'pw', resource: 'desktop' });
    peers.push(phone, desktop);
    for (const p of [phone, desktop]) await p.iq(xml('iq', { type: 'set' }, xml('enable', { xmlns: CARBONS })));
    const bob = await s.login('bob', 'raw');

    await phone.xmpp.send(xml('message', { to: 'bob@localhost/raw', type: 'chat' }, xml('body', {}, 'from the phone')));
    await bob.waitStanza((m) => m.getChildText('body') === 'from the phone');
    const sent = await desktop.waitFor((el) => el.getChild('sent', CARBONS) !== undefined);
    assert.equal(sent.attrs.from, 'alice@localhost');
    assert.equal(sent.getChild('sent', CARBONS)!.getChild('forwarded', FORWARD)!.getChild('message')!.getChildText('body'), 'from the phone');

    bob.send(`<message to='alice@localhost/desktop' type='chat'><body>to the desktop</body></message>`);
    await desktop.waitFor((el) => el.getChildText('body') === 'to the desktop');
    const received = await phone.waitFor((el) => el.getChild('received', CARBONS) !== undefined);
    const inner = received.getChild('received', CARBONS)!.getChild('forwarded', FORWARD)!.getChild('message')!;
    assert.deepEqual([inner.attrs.from, inner.attrs.to, inner.getChildText('body')], ['bob@localhost/raw', 'alice@localhost/desktop', 'to the desktop']);
  });
});
