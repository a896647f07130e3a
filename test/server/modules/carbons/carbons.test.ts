// XEP-0280 message carbons over TCP with raw clients, on the spec's examples: enabling, received copies
// (to another resource, and what RFC 6121 did not deliver), sent copies, <private/> and <no-copy/>, which
// messages are copied, and that copies carry the archive's <stanza-id/>. "Nothing arrived" is checked with
// a sentinel: a later message that is copied; stanzas to one session keep their order, so an unwanted copy
// would have come before it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, rawSessions, type TestServer } from '../../../helpers/server.ts';
import type { RawClient } from '../../../helpers/raw-client.ts';
import type { Element } from '../../../../src/xml/index.ts';

const CARBONS = 'urn:xmpp:carbons:2';
const FORWARD = 'urn:xmpp:forward:0';
const DISCO = 'http://jabber.org/protocol/disco#info';

const inner = (m: Element, kind: 'sent' | 'received') => m.getChild(kind, CARBONS)?.getChild('forwarded', FORWARD)?.getChild('message');
const isCarbon = (kind: 'sent' | 'received', body?: string) => (m: Element) =>
  m.name === 'message' && inner(m, kind) !== undefined && (body === undefined || inner(m, kind)!.getChildText('body') === body);
const bodyIs = (body: string) => (m: Element) => m.name === 'message' && m.getChildText('body') === body;

describe('XEP-0280 message carbons', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ hosts: ['montague.example', 'capulet.example'], users: { 'romeo@montague.example': 'pw', 'juliet@capulet.example': 'pw', 'benvolio@montague.example': 'pw' } });
  });
  after(async () => {
    s.destroyAll();
    await t.stop();
  });
  const s = rawSessions(() => t);
  const romeo = (res: string) => s.login('romeo', res, 'pw', 'montague.example');
  const juliet = (res: string) => s.login('juliet', res, 'pw', 'capulet.example');
  const enable = async (c: RawClient) => {
    const r = await c.iq(`<iq type='set'><enable xmlns='${CARBONS}'/></iq>`);
    assert.equal(r.attrs.type, 'result');
  };
  const online = async (c: RawClient, priority = 0) => {
    c.send(`<presence><priority>${priority}</priority></presence>`);
    await c.waitStanza((e) => e.name === 'presence');
  };
  /** Sends a message that every carbons-enabled resource but `except` gets a copy of, and waits for it there. */
  let n = 0;
  const sentinel = async (from: RawClient, to: string, watchers: RawClient[]) => {
    const body = `sentinel ${++n}`;
    from.send(`<message to='${to}' type='chat'><body>${body}</body></message>`);
    for (const w of watchers) await w.waitStanza((m) => bodyIs(body)(m) || isCarbon('sent', body)(m) || isCarbon('received', body)(m));
  };
  const noneLeft = (c: RawClient, pred: (m: Element) => boolean) => assert.deepEqual(c.stanzas.filter(pred).map(String), []);

  it('advertises urn:xmpp:carbons:2 on the server; enable and disable answer with a result, repeated or not', async () => {
    const c = await romeo('disco');
    const info = await c.iq(`<iq type='get' to='montague.example'><query xmlns='${DISCO}'/></iq>`);
    assert.ok(info.getChild('query')!.getChildren('feature').some((f) => f.attrs.var === CARBONS));
    for (const op of ['enable', 'enable', 'disable', 'disable']) {
      const r = await c.iq(`<iq type='set'><${op} xmlns='${CARBONS}'/></iq>`);
      assert.equal(r.attrs.type, 'result', op);
    }
    // §5: not for another account's resources.
    const other = await c.iq(`<iq type='set' to='juliet@capulet.example'><disable xmlns='${CARBONS}'/></iq>`);
    assert.ok(other.getChild('error')!.getChild('not-allowed'));
  });

  it('§6 example: a message to romeo/garden is copied, <received/>, to romeo/home only; the wrapper is from the bare JID', async () => {
    const garden = await romeo('garden');
    const home = await romeo('home');
    const plain = await romeo('plain');
    await enable(garden);
    await enable(home);
    const j = await juliet('balcony');
    j.send(`<message to='romeo@montague.example/garden' type='chat'><body>What man art thou that, thus bescreen'd in night, so stumblest on my counsel?</body><thread>0e3141cd80894871a68e6fe6b1ec56fa</thread></message>`);
    const original = await garden.waitStanza((m) => m.name === 'message');
    assert.equal(original.getChild('received', CARBONS), undefined, 'the addressee gets the original');
    const copy = await home.waitStanza(isCarbon('received'));
    assert.deepEqual([copy.attrs.from, copy.attrs.to, copy.attrs.type], ['romeo@montague.example', 'romeo@montague.example/home', 'chat']);
    const m = inner(copy, 'received')!;
    assert.equal(m.ns, 'jabber:client');
    assert.deepEqual([m.attrs.from, m.attrs.to, m.getChildText('thread')], ['juliet@capulet.example/balcony', 'romeo@montague.example/garden', '0e3141cd80894871a68e6fe6b1ec56fa']);
    // The archive's id travels in the copy as in the original.
    const sid = (el: Element) => el.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id;
    assert.ok(sid(original));
    assert.equal(sid(m), sid(original));
    await sentinel(j, 'romeo@montague.example/garden', [home]);
    noneLeft(plain, (x) => x.name === 'message');
    noneLeft(garden, isCarbon('received'));
  });

  it('§7 example: what romeo/home sends is copied, <sent/>, to his other enabled resources, not back to romeo/home', async () => {
    const garden = await romeo('garden2');
    const home = await romeo('home2');
    const plain = await romeo('plain2');
    await enable(garden);
    await enable(home);
    const j = await juliet('balcony2');
    home.send(`<message to='juliet@capulet.example/balcony2' type='chat'><body>Neither, fair saint, if either thee dislike.</body><thread>0e3141cd80894871a68e6fe6b1ec56fa</thread></message>`);
    await j.waitStanza(bodyIs('Neither, fair saint, if either thee dislike.'));
    const copy = await garden.waitStanza(isCarbon('sent'));
    assert.deepEqual([copy.attrs.from, copy.attrs.to, copy.attrs.type], ['romeo@montague.example', 'romeo@montague.example/garden2', 'chat']);
    const m = inner(copy, 'sent')!;
    assert.deepEqual([m.attrs.from, m.attrs.to], ['romeo@montague.example/home2', 'juliet@capulet.example/balcony2']);
    // The sender is copied even when it has not enabled carbons itself.
    plain.send(`<message to='juliet@capulet.example/balcony2' type='chat'><body>from plain</body></message>`);
    await home.waitStanza(isCarbon('sent', 'from plain'));
    await garden.waitStanza(isCarbon('sent', 'from plain'));
    await sentinel(home, 'juliet@capulet.example/balcony2', [garden]);
    noneLeft(home, isCarbon('sent'));
    noneLeft(plain, (x) => x.name === 'message');
  });

  it('a message to the bare JID: resources RFC 6121 delivered it to get no copy, the others do', async () => {
    const high = await romeo('high');
    const low = await romeo('low');
    const negative = await romeo('negative');
    await online(high, 5);
    await online(low, 1);
    await online(negative, -1);
    for (const c of [high, low, negative]) await enable(c);
    const j = await juliet('bare');
    // normal goes to the highest priority only (RFC 6121 §8.5.2.1.1): low and negative get copies.
    j.send(`<message to='romeo@montague.example'><body>normal to bare</body></message>`);
    await high.waitStanza(bodyIs('normal to bare'));
    await low.waitStanza(isCarbon('received', 'normal to bare'));
    await negative.waitStanza(isCarbon('received', 'normal to bare'));
    // chat goes to every non-negative resource: only the negative one gets a copy.
    j.send(`<message to='romeo@montague.example' type='chat'><body>chat to bare</body></message>`);
    await high.waitStanza(bodyIs('chat to bare'));
    await low.waitStanza(bodyIs('chat to bare'));
    await negative.waitStanza(isCarbon('received', 'chat to bare'));
    await sentinel(j, 'romeo@montague.example/high', [low, negative]);
    noneLeft(high, isCarbon('received'));
    noneLeft(low, isCarbon('received', 'chat to bare'));
  });

  it('<private/> with <no-copy/> is not copied on either side; ineligible messages are not copied; copies are not copied', async () => {
    const home = await s.login('benvolio', 'home', 'pw', 'montague.example');
    const other = await s.login('benvolio', 'other', 'pw', 'montague.example');
    const r = await romeo('private');
    const rOther = await romeo('private-other');
    for (const c of [home, other, r, rOther]) await enable(c);
    const to = 'romeo@montague.example/private';
    home.send(`<message to='${to}' type='chat'><body>private</body><private xmlns='${CARBONS}'/><no-copy xmlns='urn:xmpp:hints'/></message>`);
    home.send(`<message to='${to}' type='headline'><body>headline</body></message>`);
    home.send(`<message to='${to}' type='normal'><subject>no body</subject></message>`);
    home.send(`<message to='${to}' type='groupchat'><body>groupchat</body></message>`);
    home.send(`<message to='${to}' type='chat'><received xmlns='${CARBONS}'><forwarded xmlns='${FORWARD}'><message xmlns='jabber:client' from='juliet@capulet.example/x' type='chat'><body>forged carbon</body></message></forwarded></received></message>`);
    // Chat states are copied (§6.1, §9.2).
    home.send(`<message to='${to}' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`);
    await other.waitStanza((m) => inner(m, 'sent')?.getChild('composing') !== undefined);
    await rOther.waitStanza((m) => inner(m, 'received')?.getChild('composing') !== undefined);
    await r.waitStanza(bodyIs('private'));
    await sentinel(home, to, [other, rOther]);
    for (const c of [other, rOther]) noneLeft(c, (m) => m.name === 'message');
  });

  it('after <disable/>, no more copies', async () => {
    const a = await romeo('dis-a');
    const b = await romeo('dis-b');
    await enable(a);
    await enable(b);
    const j = await juliet('dis');
    j.send(`<message to='romeo@montague.example/a-nonexistent' type='chat'><body>before</body></message>`);
    await a.waitStanza(isCarbon('received', 'before'));
    await b.waitStanza(isCarbon('received', 'before'));
    const r = await b.iq(`<iq type='set'><disable xmlns='${CARBONS}'/></iq>`);
    assert.equal(r.attrs.type, 'result');
    j.send(`<message to='romeo@montague.example/dis-a' type='chat'><body>after</body></message>`);
    await a.waitStanza(bodyIs('after'));
    await sentinel(j, 'romeo@montague.example/dis-b', [b]);
    noneLeft(b, isCarbon('received'));
  });
});
