// XEP-0198 over real sockets, with the spec's examples: the feature after authentication, <enable/> and
// its refusals (§3), acking both ways (§4, Example "Simple stanza acking" and the basic acking scenario of
// §8), a too-high 'h' (§6), and the bound on what a client may leave unacknowledged.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../helpers/server.ts';
import { SmClient, NS_SM } from './sm-client.ts';

const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

describe('XEP-0198 stream management: enabling and acks', () => {
  let t: TestServer;
  const clients: SmClient[] = [];
  const client = async () => {
    const c = await SmClient.connect(t.port);
    clients.push(c);
    return c;
  };
  before(async () => {
    t = await startTestServer({ users: { 'romeo@localhost': 'pw', 'juliet@localhost': 'pw' }, config: { stream_management: { max_unacked: 5 } } });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t.stop();
  });

  it('offers <sm/> (and <csi/>) once authenticated, not before', async () => {
    const c = await client();
    c.send(`<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`);
    const pre = await c.waitFor((e) => e.local === 'features');
    assert.equal(pre.getChild('sm', NS_SM), undefined);
    c.destroy();
    const d = await client();
    const post = await d.authenticate('romeo@localhost', 'pw');
    assert.ok(post.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind'));
    assert.ok(post.getChild('sm', NS_SM));
    assert.ok(post.getChild('csi', 'urn:xmpp:csi:0'));
  });

  it('refuses <enable/> before binding and a second <enable/> with unexpected-request (§3)', async () => {
    const c = await client();
    await c.authenticate('romeo@localhost', 'pw');
    c.send(`<enable xmlns='${NS_SM}'/>`);
    const early = await c.waitFor((e) => e.ns === NS_SM);
    assert.equal(early.local, 'failed');
    assert.ok(early.getChild('unexpected-request', NS_STANZAS));
    await c.bind('twice');
    c.send(`<enable xmlns='${NS_SM}'/>`);
    const ok = await c.waitFor((e) => e.ns === NS_SM);
    // "Server enables stream management": no id, no resume when none was asked for.
    assert.equal(ok.toString(), `<enabled xmlns="${NS_SM}"/>`);
    c.send(`<enable xmlns='${NS_SM}'/>`);
    const again = await c.waitFor((e) => e.ns === NS_SM);
    assert.equal(again.local, 'failed');
    assert.ok(again.getChild('unexpected-request', NS_STANZAS));
  });

  it('enables with resumption: an SM-ID, resume, and the server\'s max', async () => {
    const c = await client();
    const enabled = await c.loginWithSm('romeo@localhost', 'pw', 'resumable');
    assert.equal(enabled.local, 'enabled');
    assert.ok(enabled.attrs.id && enabled.attrs.id.length >= 16);
    assert.equal(enabled.attrs.resume, 'true');
    assert.equal(enabled.attrs.max, '300');
    const d = await client();
    await d.authenticate('romeo@localhost', 'pw');
    await d.bind('shorter');
    d.send(`<enable xmlns='${NS_SM}' resume='1' max='60'/>`);
    const e2 = await d.waitFor((e) => e.ns === NS_SM);
    assert.equal(e2.attrs.max, '60', 'a client asking for less gets less');
    assert.notEqual(e2.attrs.id, enabled.attrs.id);
  });

  it('counts the client\'s stanzas and answers <r/> with <a h/> (basic acking scenario, §8)', async () => {
    const c = await client();
    await c.loginWithSm('romeo@localhost', 'pw', 'acking', false);
    c.send(`<iq type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq><r xmlns='${NS_SM}'/>`);
    await c.waitFor((e) => e.attrs.id === 'roster1');
    const a1 = await c.waitFor((e) => e.ns === NS_SM && e.local === 'a');
    assert.equal(a1.attrs.h, '1');
    c.send(`<presence/><r xmlns='${NS_SM}'/>`);
    const a2 = await c.waitFor((e) => e.ns === NS_SM && e.local === 'a');
    assert.equal(a2.attrs.h, '2');
    c.send(`<message to='juliet@localhost' type='chat'><body>ciao!</body></message><r xmlns='${NS_SM}'/>`);
    const a3 = await c.waitFor((e) => e.ns === NS_SM && e.local === 'a');
    assert.equal(a3.attrs.h, '3');
  });

  it('asks the client to acknowledge what it sends, and takes its <a/>', async () => {
    const c = await client();
    c.autoAck = false;
    await c.loginWithSm('romeo@localhost', 'pw', 'asked', false);
    c.send(`<iq type='get' id='ping1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await c.waitFor((e) => e.attrs.id === 'ping1');
    await c.waitFor((e) => e.ns === NS_SM && e.local === 'r');
    c.send(`<a xmlns='${NS_SM}' h='1'/><iq type='get' id='ping2' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await c.waitFor((e) => e.attrs.id === 'ping2');
    // Acknowledged up to 1, so one more request for the second answer.
    await c.waitFor((e) => e.ns === NS_SM && e.local === 'r');
  });

  it('closes the stream when the client acknowledges more than it was sent (§6)', async () => {
    const c = await client();
    c.autoAck = false;
    await c.loginWithSm('romeo@localhost', 'pw', 'toohigh', false);
    c.send(`<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await c.waitFor((e) => e.attrs.id === 'p');
    c.send(`<a xmlns='${NS_SM}' h='10'/>`);
    const err = await c.waitFor((e) => e.local === 'error');
    assert.ok(err.getChild('undefined-condition', 'urn:ietf:params:xml:ns:xmpp-streams'));
    const detail = err.getChild('handled-count-too-high', NS_SM)!;
    assert.equal(detail.attrs.h, '10');
    assert.equal(detail.attrs['send-count'], '1');
    await c.closed;
  });

  it('closes a stream whose client leaves more than max_unacked stanzas unacknowledged', async () => {
    const c = await client();
    c.autoAck = false;
    await c.loginWithSm('romeo@localhost', 'pw', 'hoarder', false);
    for (let i = 0; i < 6; i++) c.send(`<iq type='get' id='p${i}' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const err = await c.waitFor((e) => e.local === 'error');
    assert.ok(err.getChild('policy-violation', 'urn:ietf:params:xml:ns:xmpp-streams'), err.toString());
    await c.closed;
  });
});

describe('XEP-0198 <enabled/> location and resumption off', () => {
  it('names the preferred reconnection location when configured (§5, "Server prefers reconnection at a particular location")', async () => {
    const t = await startTestServer({ users: { 'romeo@localhost': 'pw' }, config: { stream_management: { location: '[2001:41D0:1:A49b::1]:9222' } } });
    const c = await SmClient.connect(t.port);
    try {
      const enabled = await c.loginWithSm('romeo@localhost', 'pw', 'loc');
      assert.equal(enabled.attrs.location, '[2001:41D0:1:A49b::1]:9222');
      assert.equal(enabled.attrs.resume, 'true');
    } finally {
      c.destroy();
      await t.stop();
    }
  });

  it('enables acks without resumption, and refuses <resume/> with feature-not-implemented, when resume_timeout_seconds is 0', async () => {
    const t = await startTestServer({ users: { 'romeo@localhost': 'pw' }, config: { stream_management: { resume_timeout_seconds: 0 } } });
    const c = await SmClient.connect(t.port);
    const d = await SmClient.connect(t.port);
    try {
      const enabled = await c.loginWithSm('romeo@localhost', 'pw', 'noresume');
      assert.equal(enabled.toString(), `<enabled xmlns="${NS_SM}"/>`);
      await d.authenticate('romeo@localhost', 'pw');
      d.send(`<resume xmlns='${NS_SM}' previd='x' h='0'/>`);
      const f = await d.waitFor((e) => e.ns === NS_SM);
      assert.equal(f.local, 'failed');
      assert.ok(f.getChild('feature-not-implemented', NS_STANZAS));
    } finally {
      c.destroy();
      d.destroy();
      await t.stop();
    }
  });
});
