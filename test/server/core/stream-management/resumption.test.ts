// XEP-0198 §5 resumption over real sockets. The test: a client with stream management follows a
// PEP node, its contact publishes a burst, the client's TCP connection drops in the middle of it (no
// closing tag), the client reconnects and resumes with its last 'h', and every notification arrives
// exactly once across the two connections. Also: the session stays the same bound session (its contacts
// see no unavailable), unknown and timed-out SM-IDs, another account's SM-ID, an old connection still
// open, and what a hibernation that times out leaves behind (unavailable presence, messages offline).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../helpers/server.ts';
import { RawClient } from '../../../helpers/raw-client.ts';
import type { CapsService } from '../../../../src/server/modules/caps/index.ts';
import { SmClient, NS_SM, untilHibernating } from './sm-client.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const NODE = 'urn:test:burst';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

const itemIds = (els: { getChild: Function }[]) =>
  els.flatMap((m: any) => m.getChild('event', `${PUBSUB}#event`)?.getChild('items')?.getChildren('item').map((i: any) => i.attrs.id as string) ?? []);

describe('XEP-0198 resumption', () => {
  let t: TestServer;
  const sockets: { destroy(): void }[] = [];
  const track = <T extends { destroy(): void }>(c: T) => (sockets.push(c), c);

  before(async () => {
    t = await startTestServer({
      users: { 'phone@localhost': 'pw', 'pub@localhost': 'pw', 'friend@localhost': 'pw', 'other@localhost': 'pw' },
      config: { stream_management: { resume_timeout_seconds: 60 } },
    });
    const r = t.storage.roster;
    for (const [a, b] of [['phone', 'pub'], ['phone', 'friend']]) {
      await r.putItem(`${a}@localhost`, { jid: `${b}@localhost`, subscription: 'both', groups: [] });
      await r.putItem(`${b}@localhost`, { jid: `${a}@localhost`, subscription: 'both', groups: [] });
    }
  });
  after(async () => {
    for (const c of sockets) c.destroy();
    await t.stop();
  });

  async function waitCaps(full: string): Promise<void> {
    const caps = t.server.service<CapsService>('caps')!;
    for (let i = 0; i < 300 && !caps.wantsNotify(full, NODE); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(caps.wantsNotify(full, NODE), 'caps learnt');
  }

  /** A new connection that resumes `previd` with `h`; the answer (<resumed/> or <failed/>) comes back. */
  async function resume(jid: string, previd: string, h: number): Promise<{ c: SmClient; answer: import('../../../../src/xml/index.ts').Element }> {
    const c = track(await SmClient.connect(t.port));
    await c.authenticate(jid, 'pw');
    c.h = h;
    c.send(`<resume xmlns='${NS_SM}' previd='${previd}' h='${h}'/>`);
    const answer = await c.waitFor((e) => e.ns === NS_SM && (e.local === 'resumed' || e.local === 'failed'));
    return { c, answer };
  }

  it('delivers every notification of a burst exactly once across a dropped connection and its resumption', async (tc) => {
    const N = 200;
    const phone = track(await SmClient.connect(t.port));
    const enabled = await phone.loginWithSm('phone@localhost', 'pw', 'burst');
    assert.equal(enabled.attrs.resume, 'true');
    phone.presenceWithCaps([`${NODE}+notify`]);
    await waitCaps('phone@localhost/burst');
    const friend = track(await RawClient.connect(t.port));
    await friend.login('friend@localhost', 'pw', 'watch');
    friend.send('<presence/>');
    await friend.waitStanza((e) => e.name === 'presence' && e.attrs.from === 'phone@localhost/burst');

    const pub = track(await RawClient.connect(t.port));
    await pub.login('pub@localhost', 'pw', 'pub');
    // The connection drops in the middle of the burst, without </stream:stream>, right after the client has
    // handled a quarter of it: the rest of that read, and whatever was in flight, never reaches it.
    const notifications = () => phone.log.filter((e) => e.name === 'message' && e.getChild('event', `${PUBSUB}#event`));
    phone.onStanza = () => {
      if (notifications().length === N / 4) phone.destroy();
    };
    for (let i = 0; i < N; i++) pub.send(`<iq type='set' id='pub${i}'><pubsub xmlns='${PUBSUB}'><publish node='${NODE}'><item id='i${i}'><v xmlns='${NODE}'>${i}</v></item></publish></pubsub></iq>`);
    await phone.closed;
    const h = phone.h;
    const first = itemIds(notifications());
    assert.ok(first.length < N, `the drop came before the end of the burst (${first.length} of ${N})`);

    await pub.waitStanza((e) => e.attrs.id === `pub${N - 1}`, 20_000);
    const { c: phone2, answer } = await resume('phone@localhost', enabled.attrs.id!, h);
    assert.equal(answer.local, 'resumed', answer.toString());
    assert.equal(answer.attrs.previd, enabled.attrs.id);
    const notifications2 = () => phone2.log.filter((e) => e.name === 'message' && e.getChild('event', `${PUBSUB}#event`));
    await phone2.waitUntil(() => first.length + itemIds(notifications2()).length >= N, 'the rest of the burst', 15_000);
    const all = [...first, ...itemIds(notifications2())];
    tc.diagnostic(`connection dropped after ${first.length} of ${N} notifications (client h ${h}); the server had handled ${answer.attrs.h} of the client's stanzas; ${itemIds(notifications2()).length} arrived after resumption`);
    assert.equal(all.length, N, 'no duplicates');
    assert.deepEqual([...all].sort(), Array.from({ length: N }, (_, i) => `i${i}`).sort(), 'every item once');
    // In publish order, too.
    assert.deepEqual(all, Array.from({ length: N }, (_, i) => `i${i}`));

    // The same bound session: its contact saw no unavailable presence, and it is still reachable.
    assert.equal(friend.stanzas.filter((e) => e.name === 'presence' && e.attrs.type === 'unavailable' && e.attrs.from === 'phone@localhost/burst').length, 0);
    friend.send(`<message to='phone@localhost/burst' type='chat' id='after'><body>still there?</body></message>`);
    await phone2.waitFor((e) => e.name === 'message' && e.attrs.id === 'after');
    // Its server-side counter continued: what it sent on the first connection counts.
    phone2.send(`<r xmlns='${NS_SM}'/>`);
    const a = await phone2.waitFor((e) => e.ns === NS_SM && e.local === 'a');
    assert.equal(a.attrs.h, answer.attrs.h);
    assert.ok(Number(a.attrs.h) >= 2, 'presence and the disco#info answer were counted');
    phone2.end();
  });

  it('answers an unknown SM-ID, or one of another account, with item-not-found and lets the client bind', async () => {
    const phone = track(await SmClient.connect(t.port));
    const enabled = await phone.loginWithSm('phone@localhost', 'pw', 'theirs');
    const { c, answer } = await resume('phone@localhost', 'no-such-id', 0);
    assert.equal(answer.local, 'failed');
    assert.ok(answer.getChild('item-not-found', NS_STANZAS));
    assert.equal(answer.attrs.h, undefined);
    // §5: the client may bind a resource instead, without authenticating again.
    assert.equal(await c.bind('fresh'), 'phone@localhost/fresh');
    phone.destroy();
    const { answer: stolen } = await resume('other@localhost', enabled.attrs.id!, 0);
    assert.equal(stolen.local, 'failed');
    assert.ok(stolen.getChild('item-not-found', NS_STANZAS));
    // The owner still can.
    const { answer: mine } = await resume('phone@localhost', enabled.attrs.id!, 0);
    assert.equal(mine.local, 'resumed');
  });

  it('closes the old connection with conflict when it is still open at resumption, keeping the session', async () => {
    const phone = track(await SmClient.connect(t.port));
    const enabled = await phone.loginWithSm('phone@localhost', 'pw', 'twice');
    phone.send('<presence/>');
    await phone.waitFor((e) => e.name === 'presence' && e.attrs.from === 'phone@localhost/twice');
    const { c: phone2, answer } = await resume('phone@localhost', enabled.attrs.id!, phone.h);
    assert.equal(answer.local, 'resumed');
    const err = await phone.waitFor((e) => e.local === 'error');
    assert.ok(err.getChild('conflict', 'urn:ietf:params:xml:ns:xmpp-streams'));
    await phone.closed;
    const ping = await phone2.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(ping.attrs.type, 'result');
    assert.equal(ping.attrs.to, 'phone@localhost/twice');
  });

  it('refuses <resume/> on a bound stream with unexpected-request', async () => {
    const phone = track(await SmClient.connect(t.port));
    const enabled = await phone.loginWithSm('phone@localhost', 'pw', 'bound');
    phone.send(`<resume xmlns='${NS_SM}' previd='${enabled.attrs.id}' h='0'/>`);
    const f = await phone.waitFor((e) => e.ns === NS_SM);
    assert.equal(f.local, 'failed');
    assert.ok(f.getChild('unexpected-request', NS_STANZAS));
  });
});

describe('XEP-0198 hibernation that times out', () => {
  let t: TestServer;
  const sockets: { destroy(): void }[] = [];
  before(async () => {
    t = await startTestServer({
      users: { 'phone@localhost': 'pw', 'friend@localhost': 'pw' },
      config: { stream_management: { resume_timeout_seconds: 1 } },
    });
    await t.storage.roster.putItem('phone@localhost', { jid: 'friend@localhost', subscription: 'both', groups: [] });
    await t.storage.roster.putItem('friend@localhost', { jid: 'phone@localhost', subscription: 'both', groups: [] });
  });
  after(async () => {
    for (const c of sockets) c.destroy();
    await t.stop();
  });

  it('sends unavailable to contacts, stores unacknowledged messages offline, answers IQs, and remembers h', async () => {
    const phone = await SmClient.connect(t.port);
    sockets.push(phone);
    phone.autoAck = false;
    const enabled = await phone.loginWithSm('phone@localhost', 'pw', 'gone');
    assert.equal(enabled.attrs.max, '1');
    phone.send('<presence/>');
    await phone.waitFor((e) => e.name === 'presence' && e.attrs.from === 'phone@localhost/gone');
    const friend = await RawClient.connect(t.port);
    sockets.push(friend);
    await friend.login('friend@localhost', 'pw', 'desk');
    friend.send('<presence/>');
    await friend.waitStanza((e) => e.name === 'presence' && e.attrs.from === 'phone@localhost/gone');

    // Never acknowledged: a chat message to the full JID, one to the bare JID, and an IQ request.
    friend.send(`<message to='phone@localhost/gone' type='chat' id='m1'><body>one</body></message>`);
    friend.send(`<message to='phone@localhost' type='chat' id='m2'><body>two</body></message>`);
    friend.send(`<iq to='phone@localhost/gone' type='get' id='v1'><query xmlns='jabber:iq:version'/></iq>`);
    await phone.waitFor((e) => e.attrs.id === 'v1');
    await phone.waitFor((e) => e.attrs.id === 'm2');
    phone.destroy();

    // Not unavailable at once: the session hibernates.
    const gone = await friend.waitStanza((e) => e.name === 'presence' && e.attrs.type === 'unavailable' && e.attrs.from === 'phone@localhost/gone', 10_000);
    assert.ok(gone);
    const iqError = await friend.waitStanza((e) => e.attrs.id === 'v1');
    assert.equal(iqError.attrs.type, 'error');
    assert.ok(iqError.getChild('error')!.getChild('service-unavailable', NS_STANZAS));

    for (let i = 0; i < 100 && (await t.storage.offline.size('phone@localhost')).messages < 2; i++) await new Promise((r) => setTimeout(r, 20));
    const stored = await t.storage.offline.takeAll('phone@localhost');
    assert.deepEqual(stored.map((m) => /id="(m\d)"/.exec(m.stanza)?.[1] ?? /id='(m\d)'/.exec(m.stanza)?.[1]).sort(), ['m1', 'm2']);
    assert.ok(stored.every((m) => m.stanza.includes('urn:xmpp:delay')), 'stamped');

    // §5 (1.5): a late <resume/> fails with item-not-found and the 'h' the server had reached.
    const late = await SmClient.connect(t.port);
    sockets.push(late);
    await late.authenticate('phone@localhost', 'pw');
    late.send(`<resume xmlns='${NS_SM}' previd='${enabled.attrs.id}' h='0'/>`);
    const f = await late.waitFor((e) => e.ns === NS_SM);
    assert.equal(f.local, 'failed');
    assert.ok(f.getChild('item-not-found', NS_STANZAS));
    assert.equal(f.attrs.h, '1', 'the one presence it had sent');
  });

  it('delivers the unacknowledged messages to the next session of the account', async () => {
    const phone = await SmClient.connect(t.port);
    sockets.push(phone);
    phone.autoAck = false;
    await phone.loginWithSm('phone@localhost', 'pw', 'again');
    phone.send('<presence/>');
    await phone.waitFor((e) => e.name === 'presence' && e.attrs.from === 'phone@localhost/again');
    const friend = await RawClient.connect(t.port);
    sockets.push(friend);
    await friend.login('friend@localhost', 'pw', 'desk2');
    friend.send(`<message to='phone@localhost/again' type='chat' id='later'><body>are you there?</body></message>`);
    await phone.waitFor((e) => e.attrs.id === 'later');
    phone.destroy();
    // Hibernating, then gone from the session directory once the timeout passes.
    assert.equal(await untilHibernating(t.server), 1);
    assert.equal(t.server.sessions.get('phone@localhost/again')?.available, true, 'still registered and available while hibernating');
    for (let i = 0; i < 500 && t.server.sessions.get('phone@localhost/again'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(t.server.sessions.get('phone@localhost/again'), undefined);
    for (let i = 0; i < 100 && (await t.storage.offline.size('phone@localhost')).messages < 1; i++) await new Promise((r) => setTimeout(r, 20));
    const next = await RawClient.connect(t.port);
    sockets.push(next);
    await next.login('phone@localhost', 'pw', 'next');
    next.send('<presence/>');
    const m = await next.waitStanza((e) => e.name === 'message' && e.attrs.id === 'later');
    assert.equal(m.getChildText('body'), 'are you there?');
  });
});

describe('XEP-0198 hibernation past max_unacked', () => {
  let t: TestServer;
  const sockets: { destroy(): void }[] = [];
  before(async () => {
    t = await startTestServer({
      users: { 'phone@localhost': 'pw', 'friend@localhost': 'pw' },
      config: { stream_management: { resume_timeout_seconds: 600, max_unacked: 3 } },
    });
  });
  after(async () => {
    for (const c of sockets) c.destroy();
    await t.stop();
  });

  it('ends a hibernating session whose queue overflows, and stores its messages offline', async () => {
    const phone = await SmClient.connect(t.port);
    sockets.push(phone);
    const enabled = await phone.loginWithSm('phone@localhost', 'pw', 'full');
    phone.send(`<presence/><r xmlns='${NS_SM}'/>`);
    await phone.waitFor((e) => e.local === 'a');
    phone.destroy();
    assert.equal(await untilHibernating(t.server), 1);
    const friend = await RawClient.connect(t.port);
    sockets.push(friend);
    await friend.login('friend@localhost', 'pw', 'desk');
    for (let i = 1; i <= 4; i++) friend.send(`<message to='phone@localhost/full' type='chat' id='o${i}'><body>${i}</body></message>`);
    // Long before the 600 s timeout: the fourth unacknowledged stanza ends the session.
    for (let i = 0; i < 250 && (await t.storage.offline.size('phone@localhost')).messages < 4; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(t.server.sessions.get('phone@localhost/full'), undefined);
    const stored = await t.storage.offline.takeAll('phone@localhost');
    assert.equal(stored.length, 4, stored.map((m) => m.stanza).join('\n'));
    const late = await SmClient.connect(t.port);
    sockets.push(late);
    await late.authenticate('phone@localhost', 'pw');
    late.send(`<resume xmlns='${NS_SM}' previd='${enabled.attrs.id}' h='1'/>`);
    assert.equal((await late.waitFor((e) => e.ns === NS_SM)).local, 'failed');
  });
});
