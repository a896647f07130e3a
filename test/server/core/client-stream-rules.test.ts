// Issue 19, smaller items: a client stream carries jabber:client stanzas only, and a client's own stream
// error ends the stream without the server answering it with another one (RFC 6120 §4.9.1.1).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { RawClient } from '../../helpers/raw-client.ts';

describe('client stream rules', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  const login = async (jid: string, resource: string) => {
    const c = await RawClient.connect(t.port);
    clients.push(c);
    await c.login(jid, 'pw', resource);
    return c;
  };
  before(async () => {
    t = await startTestServer({ users: { 'romeo@localhost': 'pw', 'bob@localhost': 'pw' } });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t.stop();
  });

  it('refuses a jabber:server stanza on a client stream, and routes nothing of it', async () => {
    const bob = await login('bob@localhost', 'b');
    bob.send('<presence/>');
    const romeo = await login('romeo@localhost', 'r');
    romeo.send(`<message xmlns='jabber:server' from='juliet@capulet.lit' to='bob@localhost/b' id='s2s'><body>forged</body></message>`);
    await romeo.waitText(/<stream:error><unsupported-stanza-type/);
    await romeo.waitClosed();
    // Bob's stream is fine and got nothing of it.
    const r = await bob.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(r.attrs.type, 'result');
    assert.doesNotMatch(bob.text, /forged/);
  });

  it('closes on a client stream error without sending one back', async () => {
    const romeo = await login('romeo@localhost', 'r2');
    romeo.send(`<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`);
    await romeo.waitText(/<\/stream:stream>/);
    await romeo.waitClosed();
    assert.doesNotMatch(romeo.text, /<stream:error>/);
  });
});
