// RFC 6121 roster and presence details over TCP: versioning, pushes, removal cancelling subscriptions,
// pre-approval, pending requests delivered at login, probes, directed presence, message routing rules.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { RawClient } from '../../helpers/raw-client.ts';
import type { Element } from '../../../src/xml/index.ts';

const ROSTER = 'jabber:iq:roster';
const rosterItems = (iq: Element) => iq.getChild('query', ROSTER)?.getChildren('item') ?? [];
const isPush = (jid: string) => (el: Element) => el.name === 'iq' && el.attrs.type === 'set' && rosterItems(el)[0]?.attrs.jid === jid;
const isPresence = (from: string, type?: string) => (el: Element) => el.name === 'presence' && el.attrs.from === from && el.attrs.type === type;

describe('roster and presence (RFC 6121)', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  before(async () => {
    t = await startTestServer({ hosts: ['a.example', 'b.example'], users: { 'ann@a.example': 'pw', 'ben@b.example': 'pw', 'cat@a.example': 'pw', 'dan@b.example': 'pw' } });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t.stop();
  });
  const login = async (jid: string, resource: string) => {
    const c = await RawClient.connect(t.port);
    clients.push(c);
    await c.login(jid, 'pw', resource);
    return c;
  };

  it('versions the roster: an up-to-date client gets an empty result, changes come as pushes with versions', async () => {
    const ann = await login('ann@a.example', 'v');
    const r0 = await ann.iq(`<iq type='get'><query xmlns='${ROSTER}' ver=''/></iq>`);
    const v0 = r0.getChild('query')!.attrs.ver!;
    assert.ok(v0 !== undefined);
    const same = await ann.iq(`<iq type='get'><query xmlns='${ROSTER}' ver='${v0}'/></iq>`);
    assert.equal(same.getChild('query'), undefined, 'empty result when the version matches');
    await ann.iq(`<iq type='set'><query xmlns='${ROSTER}'><item jid='dan@b.example' name='Dan'><group>Pals</group></item></query></iq>`);
    const push = await ann.waitStanza(isPush('dan@b.example'));
    const v1 = push.getChild('query')!.attrs.ver!;
    assert.notEqual(v1, v0);
    assert.equal(rosterItems(push)[0]!.attrs.name, 'Dan');
    const full = await ann.iq(`<iq type='get'><query xmlns='${ROSTER}' ver='${v0}'/></iq>`);
    assert.equal(full.getChild('query')!.attrs.ver, v1);
    assert.deepEqual(rosterItems(full).map((i) => i.attrs.jid), ['dan@b.example']);
    // Invalid sets are refused.
    const two = await ann.iq(`<iq type='set'><query xmlns='${ROSTER}'><item jid='x@a.example'/><item jid='y@a.example'/></query></iq>`);
    assert.ok(two.getChild('error')!.getChild('bad-request'));
    const dup = await ann.iq(`<iq type='set'><query xmlns='${ROSTER}'><item jid='x@a.example'><group>G</group><group>G</group></item></query></iq>`);
    assert.ok(dup.getChild('error')!.getChild('bad-request'));
    const other = await ann.iq(`<iq type='get' to='ben@b.example'><query xmlns='${ROSTER}'/></iq>`);
    assert.ok(other.getChild('error')!.getChild('forbidden'));
    await ann.iq(`<iq type='set'><query xmlns='${ROSTER}'><item jid='dan@b.example' subscription='remove'/></query></iq>`);
    const removed = await ann.waitStanza(isPush('dan@b.example'));
    assert.equal(rosterItems(removed)[0]!.attrs.subscription, 'remove');
  });

  it('delivers a subscription request made while the contact was offline at login, and honours pre-approval', async () => {
    const ann = await login('ann@a.example', 'p');
    await ann.iq(`<iq type='get'><query xmlns='${ROSTER}'/></iq>`);
    ann.send('<presence/>');
    ann.send(`<presence to='cat@a.example' type='subscribe'><status>hi cat</status></presence>`);
    await ann.waitStanza(isPush('cat@a.example'));
    // Cat logs in later and gets the stored request on initial presence.
    const cat = await login('cat@a.example', 'p');
    cat.send('<presence/>');
    const req = await cat.waitStanza(isPresence('ann@a.example', 'subscribe'));
    assert.equal(req.getChildText('status'), 'hi cat');
    cat.send(`<presence to='ann@a.example' type='subscribed'/>`);
    await ann.waitStanza(isPresence('cat@a.example', 'subscribed'));
    // Approval makes Cat's presence visible to Ann.
    await ann.waitStanza(isPresence('cat@a.example/p', undefined));

    // Pre-approval (§3.4): Ann approves Ben before he asks; his request is then accepted at once.
    ann.send(`<presence to='ben@b.example' type='subscribed'/>`);
    await ann.waitStanza((el) => isPush('ben@b.example')(el) && rosterItems(el)[0]!.attrs.approved === 'true');
    const ben = await login('ben@b.example', 'p');
    await ben.iq(`<iq type='get'><query xmlns='${ROSTER}'/></iq>`);
    ben.send('<presence/>');
    ben.send(`<presence to='ann@a.example' type='subscribe'/>`);
    await ben.waitStanza(isPresence('ann@a.example', 'subscribed'));
    const item = rosterItems(await ben.iq(`<iq type='get'><query xmlns='${ROSTER}'/></iq>`)).find((i) => i.attrs.jid === 'ann@a.example')!;
    assert.equal(item.attrs.subscription, 'to');
    assert.equal(ann.stanzas.filter(isPresence('ben@b.example', 'subscribe')).length, 0, 'no request shown for a pre-approved contact');
  });

  it("broadcasts a resource's presence to its siblings, addressed to each, and a new resource learns theirs", async () => {
    const one = await login('dan@b.example', 'one');
    one.send(`<presence><show>away</show><status>tea &amp; "biscuits" &lt;3</status><priority>5</priority></presence>`);
    await one.waitStanza(isPresence('dan@b.example/one'));
    const two = await login('dan@b.example', 'two');
    const learned = two.waitStanza(isPresence('dan@b.example/one'));
    const heard = one.waitStanza(isPresence('dan@b.example/two'));
    two.send(`<presence xml:lang='en'><status>here</status></presence>`);
    const a = await learned;
    assert.equal(a.attrs.to, 'dan@b.example/two');
    assert.equal(a.getChildText('show'), 'away');
    assert.equal(a.getChildText('status'), 'tea & "biscuits" <3');
    assert.equal(a.getChildText('priority'), '5');
    const b = await heard;
    assert.equal(b.attrs.to, 'dan@b.example/one');
    assert.equal(b.attrs['xml:lang'], 'en');
    assert.equal(b.getChildText('status'), 'here');
    // Its own broadcast comes back to the sender too, addressed to it (RFC 6121 §4.2.2).
    const self = await two.waitStanza(isPresence('dan@b.example/two'));
    assert.equal(self.attrs.to, 'dan@b.example/two');
    one.send(`<presence type='unavailable'/>`);
    const gone = await two.waitStanza(isPresence('dan@b.example/one', 'unavailable'));
    assert.equal(gone.attrs.to, 'dan@b.example/two');
  });

  it('answers subscription requests to unknown accounts with unsubscribed', async () => {
    const dan = await login('dan@b.example', 'u');
    dan.send('<presence/>');
    dan.send(`<presence to='ghost@a.example' type='subscribe'/>`);
    await dan.waitStanza(isPresence('ghost@a.example', 'unsubscribed'));
  });

  it('routes messages to unknown accounts back as service-unavailable and handles directed presence', async () => {
    const dan = await login('dan@b.example', 'm');
    dan.send(`<message to='ghost@a.example' id='g1'><body>?</body></message>`);
    const err = await dan.waitStanza((el) => el.attrs.id === 'g1');
    assert.equal(err.attrs.type, 'error');
    assert.ok(err.getChild('error')!.getChild('service-unavailable'));
    dan.send(`<message to='nope.example' id='g2'><body>?</body></message>`);
    const remote = await dan.waitStanza((el) => el.attrs.id === 'g2');
    assert.ok(remote.getChild('error')!.getChild('remote-server-not-found'));

    // Directed presence to someone without a subscription; Dan's going offline is sent to them too.
    const cat = await login('cat@a.example', 'd');
    dan.send(`<presence to='cat@a.example/d'><status>here</status></presence>`);
    await cat.waitStanza(isPresence('dan@b.example/m', undefined));
    dan.send('<presence/>');
    dan.end();
    await cat.waitStanza(isPresence('dan@b.example/m', 'unavailable'));
  });

  it('delivers chat to all non-negative resources and normal messages to the highest priority one', async () => {
    const a1 = await login('ben@b.example', 'one');
    const a2 = await login('ben@b.example', 'two');
    a1.send('<presence><priority>5</priority></presence>');
    a2.send('<presence><priority>1</priority></presence>');
    await a1.waitStanza(isPresence('ben@b.example/two', undefined));
    const sender = await login('cat@a.example', 's');
    sender.send(`<message to='ben@b.example' type='chat' id='c1'><body>chat</body></message>`);
    sender.send(`<message to='ben@b.example' id='n1'><body>normal</body></message>`);
    await a1.waitStanza((el) => el.attrs.id === 'c1');
    await a2.waitStanza((el) => el.attrs.id === 'c1');
    await a1.waitStanza((el) => el.attrs.id === 'n1');
    await sender.iq(`<iq type='get' to='a.example'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(a2.stanzas.filter((el) => el.attrs.id === 'n1').length, 0);
  });

  it('cancels both directions when a contact is removed from the roster', async () => {
    // Cat already lets Ann see her presence (earlier test); now Cat subscribes to Ann too.
    const cat = await login('cat@a.example', 'r');
    await cat.iq(`<iq type='get'><query xmlns='${ROSTER}'/></iq>`);
    const ann = await login('ann@a.example', 'r');
    await ann.iq(`<iq type='get'><query xmlns='${ROSTER}'/></iq>`);
    cat.send(`<presence to='ann@a.example' type='subscribe'/>`);
    ann.send(`<presence to='cat@a.example' type='subscribed'/>`);
    await cat.waitStanza((el) => isPush('ann@a.example')(el) && rosterItems(el)[0]!.attrs.subscription === 'both');
    await ann.iq(`<iq type='set'><query xmlns='${ROSTER}'><item jid='cat@a.example' subscription='remove'/></query></iq>`);
    const push = await cat.waitStanza((el) => isPush('ann@a.example')(el) && rosterItems(el)[0]!.attrs.subscription === 'none');
    assert.ok(push);
    assert.equal(await t.storage.roster.getItem('ann@a.example', 'cat@a.example'), undefined);
  });
});
