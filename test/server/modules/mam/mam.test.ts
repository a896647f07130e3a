// XEP-0313 user archives over TCP with raw clients: what is archived (both directions, once per account,
// XEP-0334 hints, XEP-0359 ids and forged ones), the query form, filters, XEP-0059 paging through 95
// messages in both directions, preferences, metadata, and who may query.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, rawSessions, type TestServer } from '../../../helpers/server.ts';
import type { RawClient } from '../../../helpers/raw-client.ts';
import type { Element } from '../../../../src/xml/index.ts';
import { bodies, mamQuery, MAM, SID } from './mam-client.ts';

const DISCO = 'http://jabber.org/protocol/disco#info';
const stanzaIds = (m: Element) => m.getChildren('stanza-id', SID);

describe('XEP-0313 message archive management', () => {
  let t: TestServer;
  const users = ['romeo', 'juliet', 'nurse', 'tybalt', 'pager', 'prefs', 'meta', 'hints', 'forger', 'self'];
  before(async () => {
    t = await startTestServer({ users: Object.fromEntries(users.map((u) => [`${u}@localhost`, 'pw'])) });
  });
  after(async () => {
    s.destroyAll();
    await t.stop();
  });
  const s = rawSessions(() => t);

  /** Sends a chat message and waits for the recipient to get it (so the archive write was issued). */
  const chat = async (from: RawClient, to: RawClient, toJid: string, body: string, extra = '', type = 'chat'): Promise<Element> => {
    from.send(`<message to='${toJid}' type='${type}' id='${body}'><body>${body}</body>${extra}</message>`);
    return to.waitStanza((e) => e.name === 'message' && e.getChildText('body') === body);
  };

  it('advertises urn:xmpp:mam:2, #extended and urn:xmpp:sid:0 on the account, and hands out the query form', async () => {
    const c = await s.login('romeo', 'disco');
    const info = await c.iq(`<iq type='get' to='romeo@localhost'><query xmlns='${DISCO}'/></iq>`);
    const features = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    for (const f of [MAM, `${MAM}#extended`, SID]) assert.ok(features.includes(f), f);
    const form = await c.iq(`<iq type='get'><query xmlns='${MAM}'/></iq>`);
    const x = form.getChild('query', MAM)!.getChild('x', 'jabber:x:data')!;
    assert.equal(x.attrs.type, 'form');
    const vars = Object.fromEntries(x.getChildren('field').map((f) => [f.attrs.var, f.attrs.type]));
    assert.deepEqual(vars, { FORM_TYPE: 'hidden', with: 'jid-single', start: 'text-single', end: 'text-single', 'after-id': 'text-single', 'before-id': 'text-single', ids: 'text-multi' });
    assert.equal(x.getChildren('field')[0]!.getChildText('value'), MAM);
  });

  it('archives a chat in both accounts: the recipient gets its archive id as <stanza-id/>, results are §4.2 shaped', async () => {
    const romeo = await s.login('romeo', 'garden');
    const juliet = await s.login('juliet', 'balcony');
    juliet.send('<presence/>');
    await juliet.waitStanza((e) => e.name === 'presence');
    const got = await chat(romeo, juliet, 'juliet@localhost', 'Art thou not Romeo, and a Montague?');
    const sid = stanzaIds(got);
    assert.equal(sid.length, 1);
    assert.equal(sid[0]!.attrs.by, 'juliet@localhost');

    const j = await mamQuery(juliet);
    assert.deepEqual(j.ids, [sid[0]!.attrs.id]);
    const result = j.results[0]!;
    const wrapper = result.parent!;
    assert.equal(wrapper.attrs.to, 'juliet@localhost/balcony');
    assert.equal(wrapper.attrs.from, undefined, 'from the account itself');
    assert.match(result.attrs.queryid!, /^q\d+$/);
    const fwd = result.getChild('forwarded', 'urn:xmpp:forward:0')!;
    assert.match(fwd.getChild('delay', 'urn:xmpp:delay')!.attrs.stamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const m = j.messages[0]!;
    assert.equal(m.ns, 'jabber:client');
    assert.deepEqual([m.attrs.from, m.attrs.to, m.attrs.type], ['romeo@localhost/garden', 'juliet@localhost', 'chat']);
    assert.deepEqual([j.complete, j.first, j.firstIndex, j.last, j.count], ['true', j.ids[0], '0', j.ids[0], 1]);

    const r = await mamQuery(romeo);
    assert.deepEqual(bodies(r), ['Art thou not Romeo, and a Montague?']);
    assert.equal(r.messages[0]!.attrs.to, 'juliet@localhost');
    assert.notEqual(r.ids[0], j.ids[0], 'each archive has its own ids');
  });

  it('archives normal messages with a body and <store/>-hinted ones; skips headline, groupchat, error, bodiless, <no-store/> and <no-permanent-store/>', async () => {
    const hints = await s.login('hints', 'a');
    const nurse = await s.login('nurse', 'a');
    nurse.send('<presence/>');
    const send = (xml: string) => hints.send(xml);
    send(`<message to='nurse@localhost/a' type='normal'><body>normal</body></message>`);
    send(`<message to='nurse@localhost/a'><body>no type</body></message>`);
    send(`<message to='nurse@localhost/a' type='chat'><received xmlns='urn:xmpp:receipts' id='x'/><store xmlns='urn:xmpp:hints'/></message>`);
    send(`<message to='nurse@localhost/a' type='headline'><body>headline</body></message>`);
    send(`<message to='nurse@localhost/a' type='groupchat'><body>groupchat</body></message>`);
    send(`<message to='nurse@localhost/a' type='error'><body>error</body><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
    send(`<message to='nurse@localhost/a' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`);
    send(`<message to='nurse@localhost/a' type='chat'><body>no-store</body><no-store xmlns='urn:xmpp:hints'/></message>`);
    send(`<message to='nurse@localhost/a' type='chat'><body>no-permanent-store</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>`);
    send(`<message to='nurse@localhost/a' type='chat'><body>last</body></message>`);
    await nurse.waitStanza((e) => e.getChildText('body') === 'last');
    const n = await mamQuery(nurse, { fields: { with: 'hints@localhost' } });
    assert.deepEqual(bodies(n), ['normal', 'no type', undefined, 'last']);
    assert.ok(n.messages[2]!.getChild('received', 'urn:xmpp:receipts'));
    const h = await mamQuery(hints, { fields: { with: 'nurse@localhost' } });
    assert.deepEqual(bodies(h), ['normal', 'no type', undefined, 'last']);
  });

  it('removes a <stanza-id/> forged in the name of one of our JIDs, keeps a foreign one', async () => {
    const forger = await s.login('forger', 'a');
    const tybalt = await s.login('tybalt', 'a');
    const got = await chat(forger, tybalt, 'tybalt@localhost/a', 'forged',
      `<stanza-id xmlns='${SID}' by='tybalt@localhost' id='fake'/><stanza-id xmlns='${SID}' by='localhost' id='fake2'/><stanza-id xmlns='${SID}' by='elsewhere.example' id='theirs'/>`);
    const ids = stanzaIds(got).map((e) => `${e.attrs.by} ${e.attrs.id}`);
    assert.equal(ids.length, 2);
    assert.ok(ids.includes('elsewhere.example theirs'));
    const ours = stanzaIds(got).find((e) => e.attrs.by === 'tybalt@localhost')!;
    assert.notEqual(ours.attrs.id, 'fake');
    const a = await mamQuery(tybalt, { fields: { ids: ours.attrs.id! } });
    assert.deepEqual(a.ids, [ours.attrs.id]);
    // The stored copy holds none of ours either.
    assert.deepEqual(stanzaIds(a.messages[0]!).map((e) => e.attrs.by), ['elsewhere.example']);
  });

  it('a message between two resources of one account is archived once; one stored offline carries its id', async () => {
    const one = await s.login('self', 'one');
    const two = await s.login('self', 'two');
    await chat(one, two, 'self@localhost/two', 'note to self');
    assert.deepEqual(bodies(await mamQuery(one)), ['note to self']);
    // To an account with no resource online: archived, and the offline copy has the same id.
    one.send(`<message to='meta@localhost' type='chat'><body>while you were out</body></message>`);
    await mamQuery(one); // a round trip: the message has been routed
    const meta = await s.login('meta', 'later');
    meta.send('<presence/>');
    const offline = await meta.waitStanza((e) => e.name === 'message' && e.getChildText('body') === 'while you were out');
    const a = await mamQuery(meta);
    assert.deepEqual(a.ids, [stanzaIds(offline)[0]!.attrs.id]);
    assert.equal(stanzaIds(offline)[0]!.attrs.by, 'meta@localhost');
  });

  it('pages through 95 messages by 10, forwards with <after/> and backwards from an empty <before/>: no gap, no repeat', async () => {
    const pager = await s.login('pager', 'p');
    const nurse = await s.login('nurse', 'pager');
    for (let i = 0; i < 95; i++) nurse.send(`<message to='pager@localhost/p' type='chat'><body>m${i}</body></message>`);
    await pager.waitStanza((e) => e.getChildText('body') === 'm94');
    const expected = Array.from({ length: 95 }, (_, i) => `m${i}`);

    const forward: string[] = [];
    let after: string | undefined;
    for (let page = 0; ; page++) {
      const a = await mamQuery(pager, { rsm: `<max>10</max>${after ? `<after>${after}</after>` : ''}` });
      assert.equal(a.count, 95);
      assert.equal(a.firstIndex, String(forward.length));
      assert.deepEqual([a.first, a.last], [a.ids[0], a.ids[a.ids.length - 1]]);
      forward.push(...(bodies(a) as string[]));
      assert.equal(a.complete, page === 9 ? 'true' : 'false');
      if (a.complete === 'true') break;
      after = a.last;
    }
    assert.deepEqual(forward, expected);

    const backward: string[][] = [];
    let before = '';
    for (let page = 0; ; page++) {
      const a = await mamQuery(pager, { rsm: `<max>10</max>${before ? `<before>${before}</before>` : '<before/>'}` });
      backward.unshift(bodies(a) as string[]);
      assert.equal(a.firstIndex, String(95 - backward.flat().length));
      assert.equal(a.complete, page === 9 ? 'true' : 'false');
      if (a.complete === 'true') break;
      before = a.first!;
    }
    assert.deepEqual(backward[0], expected.slice(0, 5));
    assert.deepEqual(backward.flat(), expected);

    // <max>0</max> only counts; an unknown anchor is item-not-found (XEP-0059 §2.2, XEP-0313 §4.1.4).
    const counted = await mamQuery(pager, { rsm: '<max>0</max>' });
    assert.deepEqual([counted.ids, counted.count], [[], 95]);
    for (const rsm of ['<after>nope</after>', '<before>nope</before>']) {
      const e = await mamQuery(pager, { rsm });
      assert.equal(e.iq.attrs.type, 'error');
      assert.ok(e.iq.getChild('error')!.getChild('item-not-found'));
    }
    const idx = await mamQuery(pager, { rsm: '<index>3</index>' });
    assert.ok(idx.iq.getChild('error')!.getChild('feature-not-implemented'));
    // Without <max/> the server's page size applies (50) and says it is not the end.
    const dflt = await mamQuery(pager);
    assert.deepEqual([dflt.ids.length, dflt.complete], [50, 'false']);
  });

  it('filters by with (bare or full), start/end, after-id/before-id and ids; <flip-page/> reverses a page', async () => {
    const romeo = await s.login('romeo', 'filters');
    const juliet = await s.login('juliet', 'filters');
    const nurse = await s.login('nurse', 'filters');
    const t0 = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await chat(romeo, nurse, 'nurse@localhost/filters', 'f-r1');
    await chat(juliet, nurse, 'nurse@localhost/filters', 'f-j1');
    await chat(romeo, nurse, 'nurse@localhost/filters', 'f-r2');
    const mid = await mamQuery(nurse, { fields: { start: t0 } });
    assert.deepEqual(bodies(mid), ['f-r1', 'f-j1', 'f-r2']);
    const [r1, j1, r2] = mid.ids;
    assert.deepEqual(bodies(await mamQuery(nurse, { fields: { start: t0, with: 'romeo@localhost' } })), ['f-r1', 'f-r2']);
    assert.deepEqual(bodies(await mamQuery(nurse, { fields: { start: t0, with: 'romeo@localhost/filters' } })), ['f-r1', 'f-r2']);
    assert.deepEqual(bodies(await mamQuery(nurse, { fields: { start: t0, with: 'romeo@localhost/other' } })), []);
    assert.deepEqual(bodies(await mamQuery(nurse, { fields: { end: '2000-01-01T00:00:00Z' } })), []);
    assert.deepEqual(bodies(await mamQuery(nurse, { fields: { 'after-id': r1!, 'before-id': r2! } })), ['f-j1']);
    assert.deepEqual(bodies(await mamQuery(nurse, { fields: { ids: [r2!, j1!] } })), ['f-j1', 'f-r2']);
    assert.deepEqual(bodies(await mamQuery(nurse, { fields: { start: t0 }, extra: '<flip-page/>' })), ['f-r2', 'f-j1', 'f-r1']);
    const unknown = await mamQuery(nurse, { fields: { 'after-id': 'nope' } });
    assert.ok(unknown.iq.getChild('error')!.getChild('item-not-found'));
    for (const fields of [{ start: 'yesterday' }, { with: '@bad' }, { colour: 'red' }] as Record<string, string>[]) {
      const bad = await mamQuery(nurse, { fields });
      assert.ok(bad.iq.getChild('error')!.getChild('bad-request'), JSON.stringify(fields));
    }
  });

  it('keeps and applies preferences: default, always and never lists, and roster', async () => {
    const prefs = await s.login('prefs', 'p');
    const romeo = await s.login('romeo', 'prefs');
    const juliet = await s.login('juliet', 'prefs');
    const get = await prefs.iq(`<iq type='get'><prefs xmlns='${MAM}'/></iq>`);
    assert.equal(get.getChild('prefs', MAM)!.attrs.default, 'always');
    const set = await prefs.iq(`<iq type='set'><prefs xmlns='${MAM}' default='never'><always><jid>romeo@localhost</jid></always><never><jid>juliet@localhost/x</jid></never></prefs></iq>`);
    const answer = set.getChild('prefs', MAM)!;
    assert.equal(answer.attrs.default, 'never');
    assert.deepEqual(answer.getChild('always')!.getChildren('jid').map((j) => j.text()), ['romeo@localhost']);
    assert.deepEqual(answer.getChild('never')!.getChildren('jid').map((j) => j.text()), ['juliet@localhost/x']);
    await chat(romeo, prefs, 'prefs@localhost/p', 'from romeo');
    const fromJuliet = await chat(juliet, prefs, 'prefs@localhost/p', 'from juliet');
    assert.equal(stanzaIds(fromJuliet).length, 0, 'not archived, so no archive id');
    assert.deepEqual(bodies(await mamQuery(prefs)), ['from romeo']);
    // roster: only contacts in the roster.
    await prefs.iq(`<iq type='set'><prefs xmlns='${MAM}' default='roster'/></iq>`);
    await prefs.iq(`<iq type='set'><query xmlns='jabber:iq:roster'><item jid='juliet@localhost'/></query></iq>`);
    await chat(juliet, prefs, 'prefs@localhost/p', 'from juliet, a contact');
    await chat(romeo, prefs, 'prefs@localhost/p', 'from romeo, now not listed');
    assert.deepEqual(bodies(await mamQuery(prefs)), ['from romeo', 'from juliet, a contact']);
    const bad = await prefs.iq(`<iq type='set'><prefs xmlns='${MAM}' default='sometimes'/></iq>`);
    assert.ok(bad.getChild('error')!.getChild('bad-request'));
  });

  it('answers metadata: nothing for an empty archive, then the first and last message', async () => {
    const c = await s.login('tybalt', 'meta');
    const mine = await s.login('meta', 'md');
    // meta's archive holds one message from an earlier test.
    await chat(c, mine, 'meta@localhost/md', 'meta 2');
    const all = await mamQuery(mine);
    const md = (await mine.iq(`<iq type='get'><metadata xmlns='${MAM}'/></iq>`)).getChild('metadata', MAM)!;
    assert.equal(md.getChild('start')!.attrs.id, all.ids[0]);
    assert.equal(md.getChild('end')!.attrs.id, all.ids[all.ids.length - 1]);
    assert.match(md.getChild('end')!.attrs.timestamp!, /Z$/);
    await t.addUser('blank@localhost', 'pw');
    const blank = await s.login('blank', 'b');
    const none = (await blank.iq(`<iq type='get'><metadata xmlns='${MAM}'/></iq>`)).getChild('metadata', MAM)!;
    assert.equal(none.elements.length, 0);
  });

  it('only the owner may query an archive or its preferences', async () => {
    const tybalt = await s.login('tybalt', 'snoop');
    const q = await mamQuery(tybalt, { to: 'romeo@localhost' });
    assert.equal(q.iq.attrs.type, 'error');
    assert.ok(q.iq.getChild('error')!.getChild('forbidden'));
    assert.equal(q.results.length, 0);
    const p = await tybalt.iq(`<iq type='get' to='romeo@localhost'><prefs xmlns='${MAM}'/></iq>`);
    assert.ok(p.getChild('error')!.getChild('forbidden'));
  });
});

describe('XEP-0313 retention', () => {
  it('keeps about max_items_per_user per account (trimmed every 64 messages), the newest', async () => {
    const t = await startTestServer({ users: { 'a@localhost': 'pw', 'b@localhost': 'pw' }, config: { modules: { mam: { max_items_per_user: 5 } } } });
    const s = rawSessions(() => t);
    try {
      const a = await s.login('a', 'r');
      const b = await s.login('b', 'r');
      for (let i = 0; i < 70; i++) a.send(`<message to='b@localhost/r' type='chat'><body>${i}</body></message>`);
      await b.waitStanza((e) => e.getChildText('body') === '69');
      for (const c of [a, b]) {
        const kept = bodies(await mamQuery(c, { rsm: '<max>100</max>' })).map(Number);
        // The newest, without a gap, and fewer than were sent: at most 5 + 63 between two trims.
        assert.ok(kept.length >= 5 && kept.length <= 68, `${kept.length} kept`);
        assert.deepEqual(kept, Array.from({ length: kept.length }, (_, i) => 70 - kept.length + i));
      }
    } finally {
      s.destroyAll();
      await t.stop();
    }
  });

  it('sweeps messages older than max_age_days when the server starts', async () => {
    const { createMemoryStorage } = await import('../../../../src/storage/memory/index.ts');
    const storage = createMemoryStorage();
    const day = 86_400_000;
    const old = { with: 'b@localhost/r', stanza: `<message xmlns="jabber:client"><body>old</body></message>` };
    await storage.archive.append('a@localhost', { ...old, id: 'old', storedAt: Date.now() - 3 * day });
    await storage.archive.append('a@localhost', { ...old, id: 'recent', storedAt: Date.now() - day / 2, stanza: old.stanza.replace('old', 'recent') });
    const t = await startTestServer({ storage, users: { 'a@localhost': 'pw' }, config: { modules: { mam: { max_age_days: 2 } } } });
    const s = rawSessions(() => t);
    try {
      const a = await s.login('a', 'r');
      assert.deepEqual(bodies(await mamQuery(a)), ['recent']);
    } finally {
      s.destroyAll();
      await t.stop();
    }
  });
});
