// XEP-0352 over real sockets: while the client is inactive, PEP notifications wait and collapse to the
// latest per node, presence to the latest per sender; a message with a body goes out at once, after what
// was held; <active/> flushes in order (§5.1: before the next stanza is processed); held stanzas are
// counted by XEP-0198 only once sent; a resumed stream starts active (1.0.0).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../helpers/server.ts';
import { RawClient } from '../../../helpers/raw-client.ts';
import type { CapsService } from '../../../../src/server/modules/caps/index.ts';
import { SmClient, NS_SM, untilHibernating } from '../stream-management/sm-client.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const NS_CSI = 'urn:xmpp:csi:0';
const NODE = 'urn:test:mood';

const publish = (i: number, node = NODE) => `<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='${node}'><item id='m${i}'><v xmlns='${node}'>${i}</v></item></publish></pubsub></iq>`;
const eventIds = (el: { getChild: Function }) => (el as any).getChild('event', `${PUBSUB}#event`)?.getChild('items')?.getChildren('item').map((i: any) => i.attrs.id) ?? [];

describe('XEP-0352 client state indication', () => {
  let t: TestServer;
  const sockets: { destroy(): void }[] = [];
  const track = <T extends { destroy(): void }>(c: T) => (sockets.push(c), c);

  before(async () => {
    t = await startTestServer({ users: { 'idle@localhost': 'pw', 'pub@localhost': 'pw' } });
    await t.storage.roster.putItem('idle@localhost', { jid: 'pub@localhost', subscription: 'both', groups: [] });
    await t.storage.roster.putItem('pub@localhost', { jid: 'idle@localhost', subscription: 'both', groups: [] });
  });
  after(async () => {
    for (const c of sockets) c.destroy();
    await t.stop();
  });

  /** A client following NODE (and NODE2) with stream management enabled, and the publisher. */
  async function setup(resource: string) {
    const idle = track(await SmClient.connect(t.port));
    const enabled = await idle.loginWithSm('idle@localhost', 'pw', resource);
    idle.presenceWithCaps([`${NODE}+notify`, `${NODE}2+notify`]);
    const caps = t.server.service<CapsService>('caps')!;
    for (let i = 0; i < 300 && !caps.wantsNotify(`idle@localhost/${resource}`, NODE); i++) await new Promise((r) => setTimeout(r, 10));
    const pub = track(await RawClient.connect(t.port));
    await pub.login('pub@localhost', 'pw', `pub-${resource}`);
    // The publisher's presence reaches the idle client before it goes inactive.
    pub.send('<presence/>');
    await idle.waitFor((e) => e.name === 'presence' && e.attrs.from === `pub@localhost/pub-${resource}`);
    idle.send(`<r xmlns='${NS_SM}'/>`);
    await idle.waitFor((e) => e.local === 'a');
    return { idle, pub, smId: enabled.attrs.id! };
  }

  it('holds five notifications of one node and sends only the last, just before a message with a body', async () => {
    const { idle, pub } = await setup('one');
    idle.send(`<inactive xmlns='${NS_CSI}'/>`);
    // §5.1: the state change is in effect for whatever is processed after it; a round trip makes sure.
    idle.send(`<r xmlns='${NS_SM}'/>`);
    const before = await idle.waitFor((e) => e.local === 'a');
    const mark = idle.log.length;
    for (let i = 1; i <= 5; i++) assert.equal((await pub.iq(publish(i))).attrs.type, 'result');
    // A presence update of the publisher: held too, the latest only.
    pub.send('<presence><show>away</show></presence>');
    pub.send('<presence><show>dnd</show></presence>');
    // Nothing reached the client: the ack it asks for now still counts only what it had.
    idle.send(`<r xmlns='${NS_SM}'/>`);
    const held = await idle.waitFor((e) => e.local === 'a');
    assert.equal(held.attrs.h, before.attrs.h);
    assert.equal(idle.log.slice(mark).filter((e) => e.name === 'message').length, 0, 'no notification while inactive');

    pub.send(`<message to='idle@localhost/one' type='chat' id='wake'><body>look</body></message>`);
    await idle.waitFor((e) => e.name === 'message' && e.attrs.id === 'wake');
    const messages = idle.log.slice(mark).filter((e) => e.name === 'message');
    assert.deepEqual(messages.map((m) => m.attrs.id === 'wake' ? 'wake' : eventIds(m).join(',')), ['m5', 'wake'], 'the last item only, before the message');
    const presences = idle.log.slice(mark).filter((e) => e.name === 'presence' && e.attrs.from === 'pub@localhost/pub-one');
    assert.deepEqual(presences.map((p) => p.getChildText('show')), ['dnd'], 'the latest presence only');
    // XEP-0198 counted what was sent, as it was sent: the client's count is one the server accepts.
    idle.send(`<a xmlns='${NS_SM}' h='${idle.h}'/><r xmlns='${NS_SM}'/>`);
    assert.equal((await idle.waitFor((e) => e.ns === NS_SM)).local, 'a');
  });

  it('flushes in order on <active/> before answering what follows, collapsing per node', async () => {
    const { idle, pub } = await setup('two');
    idle.send(`<inactive xmlns='${NS_CSI}'/><r xmlns='${NS_SM}'/>`);
    await idle.waitFor((e) => e.local === 'a');
    // (The last items of the earlier tests' nodes came at the initial presence.)
    const mark = idle.log.length;
    for (const [i, node] of [[1, NODE], [2, `${NODE}2`], [3, NODE], [4, `${NODE}2`], [5, NODE]] as const) {
      assert.equal((await pub.iq(publish(i, node))).attrs.type, 'result');
    }
    const ping = `<iq type='get' id='after-active' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`;
    idle.send(`<active xmlns='${NS_CSI}'/>${ping}`);
    await idle.waitFor((e) => e.attrs.id === 'after-active');
    const seq = idle.log.slice(mark).filter((e) => e.name === 'message' || e.attrs.id === 'after-active').map((e) => e.name === 'iq' ? 'pong' : eventIds(e).join(','));
    assert.deepEqual(seq, ['m4', 'm5', 'pong']);
    // Active again: a publish goes out at once.
    await pub.iq(publish(6));
    const m6 = await idle.waitFor((e) => e.name === 'message' && eventIds(e).includes('m6'));
    assert.ok(m6);
  });

  it('starts a resumed stream active and sends what was held', async () => {
    const { idle, pub, smId } = await setup('three');
    idle.send(`<inactive xmlns='${NS_CSI}'/><r xmlns='${NS_SM}'/>`);
    await idle.waitFor((e) => e.local === 'a');
    const mark = idle.log.length;
    await pub.iq(publish(7));
    await pub.iq(publish(8));
    idle.send(`<r xmlns='${NS_SM}'/>`);
    await idle.waitFor((e) => e.local === 'a');
    assert.equal(idle.log.slice(mark).filter((e) => e.name === 'message').length, 0);
    idle.destroy();
    await untilHibernating(t.server);
    const again = track(await SmClient.connect(t.port));
    await again.authenticate('idle@localhost', 'pw');
    again.h = idle.h;
    again.send(`<resume xmlns='${NS_SM}' previd='${smId}' h='${idle.h}'/>`);
    const resumed = await again.waitFor((e) => e.ns === NS_SM && (e.local === 'resumed' || e.local === 'failed'));
    assert.equal(resumed.local, 'resumed');
    const m = await again.waitFor((e) => e.name === 'message');
    assert.deepEqual(eventIds(m), ['m8']);
    // And it is active: the next publish is not held.
    await pub.iq(publish(9));
    await again.waitFor((e) => e.name === 'message' && eventIds(e).includes('m9'));
  });
});
