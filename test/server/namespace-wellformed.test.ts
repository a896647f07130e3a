// Issue 19, findings 3 and 4, over real TCP. A client may declare a prefix on its stream header and use it
// inside stanzas; whatever the server routes, stores and replays from such a stanza must stay
// namespace-well-formed, or the recipient's parser (ours here, slixmpp in the report) aborts its stream —
// persistently, for a stored subscription request or a PEP item. And the header itself is bounded.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawClient, NS_HEADER } from '../helpers/raw-client.ts';
import type { Element } from '../../src/xml/index.ts';

const DECL = " xmlns:k='urn:x'";
const PUBSUB = 'http://jabber.org/protocol/pubsub';
const OPEN = `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#publish-options</value></field><field var='pubsub#access_model'><value>open</value></field></x></publish-options>`;

describe('stanzas using a prefix declared on the sender\'s stream header', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  const client = async (jid: string, resource: string, declarations = '') => {
    const c = await RawClient.connect(t.port);
    clients.push(c);
    await c.login(jid, 'pw', resource, declarations);
    return c;
  };
  /** The recipient's stream is still usable: it parses the server's answer to a ping. */
  const stillParses = async (c: RawClient) => {
    const r = await c.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(r.attrs.type, 'result');
  };

  before(async () => {
    t = await startTestServer({ users: { 'mallory@localhost': 'pw', 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' } });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t.stop();
  });

  it('reach the recipient of a routed message with the prefix bound', async () => {
    const mallory = await client('mallory@localhost', 'm1', DECL);
    const romeo = await client('romeo@localhost', 'r1');
    romeo.send(`<presence/>`);
    mallory.send(`<message to='romeo@localhost/r1' id='m1'><body>hi</body><k:x k:a='1'/></message>`);
    const m = await romeo.waitStanza((e) => e.name === 'message' && e.attrs.id === 'm1');
    assert.equal(m.getChild('x', 'urn:x')?.lookupNs('k'), 'urn:x');
    await stillParses(romeo);
  });

  it('are replayed from a stored subscription request without breaking the victim\'s later logins', async () => {
    const mallory = await client('mallory@localhost', 'm2', DECL);
    await mallory.iq(`<iq type='get'><query xmlns='jabber:iq:roster'/></iq>`);
    mallory.send(`<presence type='subscribe' to='juliet@localhost'><k:x/></presence>`);
    // Mallory's own roster push says the request is stored (RFC 6121 §3.1.2).
    await mallory.waitStanza((e) => e.name === 'iq' && e.attrs.type === 'set');
    for (let login = 1; login <= 2; login++) {
      const juliet = await client('juliet@localhost', `j${login}`);
      juliet.send(`<presence/>`);
      const p = await juliet.waitStanza((e) => e.name === 'presence' && e.attrs.type === 'subscribe');
      assert.equal(p.getChild('x', 'urn:x')?.ns, 'urn:x', `login ${login}`);
      await stillParses(juliet);
      juliet.end();
      await juliet.waitClosed();
    }
  });

  it('are kept in a PEP item that every reader can parse', async () => {
    const mallory = await client('mallory@localhost', 'm3', DECL);
    const r = await mallory.iq(`<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='urn:test:k'><item id='i1'><k:pubkey k:v='2'><k:key>abc</k:key></k:pubkey></item></publish>${OPEN}</pubsub></iq>`);
    assert.equal(r.attrs.type, 'result', r.toString());
    const romeo = await client('romeo@localhost', 'r3');
    const items = await romeo.iq(`<iq type='get' to='mallory@localhost'><pubsub xmlns='${PUBSUB}'><items node='urn:test:k'/></pubsub></iq>`);
    assert.equal(items.attrs.type, 'result', items.toString());
    const payload: Element | undefined = items.getChild('pubsub')?.getChild('items')?.getChild('item')?.getChild('pubkey', 'urn:x');
    assert.equal(payload?.getChildText('key', 'urn:x'), 'abc');
    await stillParses(romeo);
  });
});

describe('the stream header size limit over TCP', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ users: { 'sentinel@localhost': 'pw' } });
  });
  after(() => t.stop());

  it('closes an unterminated header with policy-violation, and other sessions carry on', async () => {
    const sentinel = await RawClient.connect(t.port);
    await sentinel.login('sentinel@localhost', 'pw');
    const c = await RawClient.connect(t.port);
    c.send(NS_HEADER('localhost').replace(/ version='1.0'>$/, ` x='`));
    for (let i = 0; i < 16 && !c.isClosed; i++) c.send('A'.repeat(4096));
    await c.waitText(/policy-violation/);
    await c.waitClosed();
    const r = await sentinel.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(r.attrs.type, 'result');
    sentinel.destroy();
  });
});
