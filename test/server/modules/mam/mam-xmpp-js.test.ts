// XEP-0313 with @xmpp/client (a client library we did not write): a message sent by one peer comes back
// from both archives, paged with RSM as xmpp.js clients do (the result messages, then the IQ's <fin/>).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../helpers/server.ts';
import { connectPeer, xml, type Peer, type XjsElement } from '../../../helpers/xmpp-js.ts';

const MAM = 'urn:xmpp:mam:2';
const RSM = 'http://jabber.org/protocol/rsm';

describe('XEP-0313 with @xmpp/client', () => {
  let t: TestServer;
  const peers: Peer[] = [];
  before(async () => {
    t = await startTestServer({ users: { 'alice@localhost': 'pw', 'bob@localhost': 'pw' } });
  });
  after(async () => {
    for (const p of peers) await p.stop();
    await t.stop();
  });
  const peer = async (username: string) => {
    const p = await connectPeer({ port: t.port, domain: 'localhost', username, password: 'pw', resource: 'xjs' });
    peers.push(p);
    return p;
  };

  /** One page: the result messages of this queryid, collected until the IQ answers. */
  const page = async (p: Peer, queryid: string, rsm: XjsElement[]) => {
    const results: XjsElement[] = [];
    const onStanza = (el: XjsElement) => {
      const r = el.getChild('result', MAM);
      if (el.is('message') && r?.attrs.queryid === queryid) results.push(r);
    };
    p.xmpp.on('stanza', onStanza);
    try {
      const answer = await p.iq(xml('iq', { type: 'set' }, xml('query', { xmlns: MAM, queryid }, xml('set', { xmlns: RSM }, ...rsm))));
      return { results, fin: answer.getChild('fin', MAM)! };
    } finally {
      p.xmpp.removeListener('stanza', onStanza);
    }
  };

  it('returns what was sent from both archives, in pages, with the recipient\'s stanza-id as the archive id', async () => {
    const alice = await peer('alice');
    const bob = await peer('bob');
    for (let i = 0; i < 7; i++) await alice.xmpp.send(xml('message', { to: 'bob@localhost/xjs', type: 'chat' }, xml('body', {}, `hello ${i}`)));
    const last = await bob.waitFor((el) => el.is('message') && el.getChildText('body') === 'hello 6');
    const sid = last.getChild('stanza-id', 'urn:xmpp:sid:0')!;
    assert.equal(sid.attrs.by, 'bob@localhost');

    for (const [p, id] of [[bob, 'b'], [alice, 'a']] as const) {
      const seen: string[] = [];
      let after: string | undefined;
      for (let n = 0; ; n++) {
        const { results, fin } = await page(p, `${id}${n}`, [xml('max', {}, '3'), ...(after ? [xml('after', {}, after)] : [])]);
        seen.push(...results.map((r) => r.getChild('forwarded', 'urn:xmpp:forward:0')!.getChild('message')!.getChildText('body')!));
        if (fin.attrs.complete === 'true') break;
        after = fin.getChild('set', RSM)!.getChildText('last')!;
        assert.ok(n < 3, 'no more pages than 7 messages in pages of 3 need');
      }
      assert.deepEqual(seen, Array.from({ length: 7 }, (_, i) => `hello ${i}`));
    }
    const { results } = await page(bob, 'lastpage', [xml('max', {}, '1'), xml('before')]);
    assert.equal(results[0]!.attrs.id, sid.attrs.id);
  });
});
