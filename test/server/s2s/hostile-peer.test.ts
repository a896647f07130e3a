// A remote "server" that misbehaves, played by a raw socket against a federating pepkeys (capulet.lit),
// whose dialback checks go to a real second pepkeys (montague.lit): wrong keys are refused, stanzas from
// domains not authenticated on the stream end it with <invalid-from/>, unknown domains with <host-unknown/>,
// and a local client beside it is unaffected.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rawSessions, type TestServer } from '../../helpers/server.ts';
import { startFederatedPair } from '../../helpers/federation.ts';
import { RawClient } from '../../helpers/raw-client.ts';
import type { Element } from '../../../src/xml/index.ts';

const NS_STREAMS = 'urn:ietf:params:xml:ns:xmpp-streams';
const header = (from: string, to: string) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='${from}' to='${to}' version='1.0'>`;

const streamError = async (c: RawClient): Promise<string | undefined> => {
  const e: Element = await c.waitStanza((el) => el.local === 'error' && el.ns === 'http://etherx.jabber.org/streams');
  return e.elements.find((c) => c.ns === NS_STREAMS && c.local !== 'text')?.local;
};

describe('hostile server-to-server peers', () => {
  let cap: TestServer;
  let mon: TestServer;
  const capUsers = rawSessions(() => cap);
  let juliet: RawClient;
  const peers: RawClient[] = [];

  /** A raw peer at capulet's s2s port, past STARTTLS, with the stream id capulet gave it. */
  async function peer(from = 'montague.lit', to = 'capulet.lit'): Promise<{ c: RawClient; id: string }> {
    const c = await RawClient.connect(cap.s2sPort);
    peers.push(c);
    c.send(header(from, to));
    await c.waitStanza((e) => e.local === 'features');
    await c.starttls(to);
    c.send(header(from, to));
    const f = await c.waitStanza((e) => e.local === 'features');
    assert.ok(f.getChild('dialback', 'urn:xmpp:features:dialback'), 'dialback is offered after TLS');
    return { c, id: c.headers.at(-1)!.attrs.id! };
  }

  before(async () => {
    ({ cap, mon } = await startFederatedPair({ 'juliet@capulet.lit': 'pw' }, { 'romeo@montague.lit': 'pw' }));
    juliet = await capUsers.login('juliet', 'balcony', 'pw', 'capulet.lit');
  });
  after(async () => {
    for (const p of peers) p.destroy();
    capUsers.destroyAll();
    await cap?.stop();
    await mon?.stop();
  });

  it('refuses dialback with a wrong key, then a stanza from the unauthenticated domain is invalid-from', async () => {
    const { c } = await peer();
    c.send(`<db:result from='montague.lit' to='capulet.lit'>${'0'.repeat(64)}</db:result>`);
    const r = await c.waitStanza((e) => e.local === 'result');
    assert.equal(r.attrs.type, 'invalid');
    c.send(`<message from='romeo@montague.lit/orchard' to='juliet@capulet.lit/balcony' id='x1'><body>let me in</body></message>`);
    assert.equal(await streamError(c), 'invalid-from');
  });

  it('accepts a valid key, then refuses a stanza whose from domain was not authenticated (invalid-from)', async () => {
    const { c, id } = await peer();
    // The key montague.lit itself would issue for this stream: capulet checks it with montague (db:verify).
    c.send(`<db:result from='montague.lit' to='capulet.lit'>${mon.server.s2s!.keys.generate('capulet.lit', 'montague.lit', id)}</db:result>`);
    const r = await c.waitStanza((e) => e.local === 'result');
    assert.equal(r.attrs.type, 'valid');
    c.send(`<message from='romeo@montague.lit/orchard' to='juliet@capulet.lit/balcony' id='ok1' type='chat'><body>it is I</body></message>`);
    const m = await juliet.waitStanza((e) => e.attrs.id === 'ok1');
    assert.equal(m.attrs.from, 'romeo@montague.lit/orchard');
    c.send(`<message from='tybalt@verona.lit/sword' to='juliet@capulet.lit/balcony' id='forged' type='chat'><body>forged</body></message>`);
    assert.equal(await streamError(c), 'invalid-from');
    // The sentinel client beside it is unaffected and never saw the forged message.
    const ping = await juliet.iq(`<iq type='get' to='capulet.lit'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(ping.attrs.type, 'result');
    assert.ok(!juliet.stanzas.some((e) => e.attrs.id === 'forged'));
  });

  it('answers a stanza to a domain not served here with host-unknown', async () => {
    const { c, id } = await peer();
    c.send(`<db:result from='montague.lit' to='capulet.lit'>${mon.server.s2s!.keys.generate('capulet.lit', 'montague.lit', id)}</db:result>`);
    assert.equal((await c.waitStanza((e) => e.local === 'result')).attrs.type, 'valid');
    c.send(`<message from='romeo@montague.lit/orchard' to='friar@verona.lit' type='chat'><body>relay this</body></message>`);
    assert.equal(await streamError(c), 'host-unknown');
  });

  it('closes the stream of an authenticated peer that sends an oversize stanza (policy-violation)', async () => {
    const { c, id } = await peer();
    c.send(`<db:result from='montague.lit' to='capulet.lit'>${mon.server.s2s!.keys.generate('capulet.lit', 'montague.lit', id)}</db:result>`);
    assert.equal((await c.waitStanza((e) => e.local === 'result')).attrs.type, 'valid');
    c.send(`<message from='romeo@montague.lit/orchard' to='juliet@capulet.lit/balcony' id='big'><body>${'x'.repeat(300 * 1024)}</body></message>`);
    assert.equal(await streamError(c), 'policy-violation');
    assert.ok(!juliet.stanzas.some((e) => e.attrs.id === 'big'));
  });

  it('answers db:verify for a domain not served here with a dialback error (item-not-found), the stream staying up', async () => {
    const { c } = await peer();
    c.send(`<db:verify from='montague.lit' to='verona.lit' id='abc'>${'1'.repeat(64)}</db:verify>`);
    // XEP-0220 §2.4: not a stream error, since the stream may carry other domain pairs.
    const v = await c.waitStanza((e) => e.local === 'verify');
    assert.equal(v.attrs.type, 'error');
    assert.equal(v.attrs.from, 'verona.lit');
    assert.equal(v.attrs.id, 'abc');
    assert.ok(v.getChild('error')?.getChild('item-not-found', 'urn:ietf:params:xml:ns:xmpp-stanzas'), v.toString());
    const key = cap.server.s2s!.keys.generate('montague.lit', 'capulet.lit', 'stream-9');
    c.send(`<db:verify from='montague.lit' to='capulet.lit' id='stream-9'>${key}</db:verify>`);
    assert.equal((await c.waitStanza((e) => e.local === 'verify' && e.attrs.id === 'stream-9')).attrs.type, 'valid');
  });

  it('answers db:verify for its own keys: valid for one it issued, invalid otherwise', async () => {
    const { c } = await peer();
    const key = cap.server.s2s!.keys.generate('montague.lit', 'capulet.lit', 'stream-1');
    c.send(`<db:verify from='montague.lit' to='capulet.lit' id='stream-1'>${key}</db:verify>`);
    assert.equal((await c.waitStanza((e) => e.local === 'verify')).attrs.type, 'valid');
    c.send(`<db:verify from='montague.lit' to='capulet.lit' id='stream-2'>${key}</db:verify>`);
    assert.equal((await c.waitStanza((e) => e.local === 'verify')).attrs.type, 'invalid');
  });

  it('refuses dialback before STARTTLS when TLS is required', async () => {
    const c = await RawClient.connect(cap.s2sPort);
    peers.push(c);
    c.send(header('montague.lit', 'capulet.lit'));
    const f = await c.waitStanza((e) => e.local === 'features');
    assert.ok(f.getChild('starttls')?.getChild('required'));
    c.send(`<db:result from='montague.lit' to='capulet.lit'>${'0'.repeat(64)}</db:result>`);
    assert.equal(await streamError(c), 'policy-violation');
  });

  it('refuses a stream to a domain not served here', async () => {
    const c = await RawClient.connect(cap.s2sPort);
    peers.push(c);
    c.send(header('montague.lit', 'verona.lit'));
    assert.equal(await streamError(c), 'host-unknown');
  });
});
