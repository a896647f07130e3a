// XEP-0191 Blocking Command over TCP, with the XEP's examples: discovery, blocklist retrieval, block and
// unblock (items and all) with pushes to the resources that asked for the list; and what a block does
// (issue 13): the blocked contact gets no presence, no messages and no PEP notifications, and cannot
// retrieve items from open, presence or roster nodes, getting exactly what a stranger gets.
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, rawSessions, type TestServer } from '../../../helpers/server.ts';
import type { RawClient } from '../../../helpers/raw-client.ts';
import type { Element } from '../../../../src/xml/index.ts';
import { isPresence } from '../../../helpers/subscription-state.ts';

const NS = 'urn:xmpp:blocking';
const NS_ERRORS = 'urn:xmpp:blocking:errors';
const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
const JULIET = 'juliet@capulet.lit';
const ROMEO = 'romeo@montague.lit';
const IAGO = 'iago@shakespeare.lit';

const options = (fields: Record<string, string>) =>
  `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>${Object.entries(fields).map(([k, v]) => `<field var='pubsub#${k}'><value>${v}</value></field>`).join('')}</x></publish-options>`;
const publish = (node: string, id: string, fields: Record<string, string>) =>
  `<iq type='set'><pubsub xmlns='${NS_PUBSUB}'><publish node='${node}'><item id='${id}'><v xmlns='${node}'>${id}</v></item></publish>${options(fields)}</pubsub></iq>`;
const items = (node: string) => `<iq type='get' to='${JULIET}'><pubsub xmlns='${NS_PUBSUB}'><items node='${node}'/></pubsub></iq>`;
const blockItems = (el: Element, name: string) => el.getChild(name, NS)?.getChildren('item').map((i) => i.attrs.jid) ?? [];
const isBlockPush = (name: string) => (el: Element) => el.name === 'iq' && el.attrs.type === 'set' && el.getChild(name, NS) !== undefined;
/** The error as the requester sees it, without what differs by request (id, addresses). */
const errorOf = (el: Element) => (el.attrs.type === 'error' ? el.getChild('error')!.toString() : `not an error: ${el.toString()}`);

describe('XEP-0191 blocking command', () => {
  let t: TestServer;
  const s = rawSessions(() => t);

  before(async () => {
    t = await startTestServer({
      hosts: ['capulet.lit', 'montague.lit', 'shakespeare.lit'],
      users: { [JULIET]: 'pw', [ROMEO]: 'pw', [IAGO]: 'pw', 'paris@capulet.lit': 'pw', 'benvolio@montague.lit': 'pw' },
    });
  });
  after(async () => {
    s.destroyAll();
    await t.stop();
  });
  beforeEach(async () => {
    s.destroyAll();
    // Through the protocol: the server keeps blocklists in memory as well.
    const reset = await s.login('juliet', 'reset', 'pw', 'capulet.lit');
    await reset.iq(`<iq type='set'><unblock xmlns='${NS}'/></iq>`);
    s.destroyAll();
    // Juliet and Romeo share presence both ways; Romeo is in her "Friends" group.
    await t.storage.roster.putItem(JULIET, { jid: ROMEO, subscription: 'both', groups: ['Friends'] });
    await t.storage.roster.putItem(ROMEO, { jid: JULIET, subscription: 'both', groups: [] });
  });

  async function settle(...cs: RawClient[]): Promise<void> {
    for (const c of cs) await c.iq(`<iq type='get' to='capulet.lit'><ping xmlns='urn:xmpp:ping'/></iq>`);
  }

  it('Example 1–2: the server advertises urn:xmpp:blocking', async () => {
    const juliet = await s.login('juliet', 'chamber', 'pw', 'capulet.lit');
    const r = await juliet.iq(`<iq type='get' to='capulet.lit'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
    const features = r.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(features.includes(NS), features.join(' '));
  });

  it('Examples 3–8, 12–13: retrieval, block with pushes to interested resources, unblock, bad requests', async () => {
    const chamber = await s.login('juliet', 'chamber', 'pw', 'capulet.lit');
    const balcony = await s.login('juliet', 'balcony', 'pw', 'capulet.lit');
    const garden = await s.login('juliet', 'garden', 'pw', 'capulet.lit');
    // Example 3–4: an empty blocklist.
    const empty = await chamber.iq(`<iq type='get'><blocklist xmlns='${NS}'/></iq>`);
    assert.equal(empty.attrs.type, 'result');
    assert.deepEqual(blockItems(empty, 'blocklist'), []);
    assert.ok(empty.getChild('blocklist', NS));
    await balcony.iq(`<iq type='get'><blocklist xmlns='${NS}'/></iq>`);
    // Example 5–7: block; the result, and a push to each resource that retrieved the list.
    const ok = await chamber.iq(`<iq type='set'><block xmlns='${NS}'><item jid='${ROMEO}'/></block></iq>`);
    assert.equal(ok.attrs.type, 'result');
    for (const c of [chamber, balcony]) {
      const push = await c.waitStanza(isBlockPush('block'));
      assert.deepEqual(blockItems(push, 'block'), [ROMEO]);
      assert.equal(push.attrs.to, `${JULIET}/${c === chamber ? 'chamber' : 'balcony'}`);
    }
    await chamber.iq(`<iq type='set'><block xmlns='${NS}'><item jid='${IAGO}'/></block></iq>`);
    await settle(garden);
    assert.equal(garden.stanzas.filter(isBlockPush('block')).length, 0, 'no push to a resource that never asked for the list');
    // Example 3: the list with its items.
    const list = await garden.iq(`<iq type='get'><blocklist xmlns='${NS}'/></iq>`);
    assert.deepEqual(blockItems(list, 'blocklist').sort(), [IAGO, ROMEO]);
    // A block without item is a bad request (§5.3); a malformed JID is refused.
    const none = await chamber.iq(`<iq type='set'><block xmlns='${NS}'/></iq>`);
    assert.ok(none.getChild('error')?.getChild('bad-request'));
    const bad = await chamber.iq(`<iq type='set'><block xmlns='${NS}'><item jid='@@'/></block></iq>`);
    assert.ok(bad.getChild('error')?.getChild('jid-malformed'));
    // Example 12–13: unblock one; the push names it.
    await chamber.iq(`<iq type='set'><unblock xmlns='${NS}'><item jid='${ROMEO}'/></unblock></iq>`);
    assert.deepEqual(blockItems(await balcony.waitStanza(isBlockPush('unblock')), 'unblock'), [ROMEO]);
    assert.deepEqual(blockItems(await garden.iq(`<iq type='get'><blocklist xmlns='${NS}'/></iq>`), 'blocklist'), [IAGO]);
    // Example 16–18: unblock all; the push is an empty <unblock/>.
    await chamber.iq(`<iq type='set'><unblock xmlns='${NS}'/></iq>`);
    const all = await balcony.waitStanza(isBlockPush('unblock'));
    assert.deepEqual(blockItems(all, 'unblock'), []);
    assert.deepEqual(blockItems(await garden.iq(`<iq type='get'><blocklist xmlns='${NS}'/></iq>`), 'blocklist'), []);
    // Another account's blocklist is not to be read.
    const other = await s.login('paris', 'p', 'pw', 'capulet.lit');
    const peek = await other.iq(`<iq type='get' to='${JULIET}'><blocklist xmlns='${NS}'/></iq>`);
    assert.ok(peek.getChild('error')?.getChild('service-unavailable'));
  });

  it('a blocked contact sees the user go offline, gets no presence and no messages; the user is told it is blocked', async () => {
    const juliet = await s.login('juliet', 'chamber', 'pw', 'capulet.lit');
    const romeo = await s.login('romeo', 'orchard', 'pw', 'montague.lit');
    for (const c of [juliet, romeo]) c.send('<presence/>');
    await romeo.waitStanza(isPresence(`${JULIET}/chamber`, undefined));
    await juliet.waitStanza(isPresence(`${ROMEO}/orchard`, undefined));
    await juliet.iq(`<iq type='set'><block xmlns='${NS}'><item jid='${ROMEO}'/></block></iq>`);
    // §5.3: unavailable presence to the contact, who was allowed to see it.
    await romeo.waitStanza(isPresence(`${JULIET}/chamber`, 'unavailable'));
    await settle(juliet, romeo);
    romeo.stanzas.length = 0;
    juliet.stanzas.length = 0;

    // Juliet's presence no longer reaches Romeo, nor his hers.
    juliet.send('<presence><status>after</status></presence>');
    romeo.send('<presence><status>after</status></presence>');
    // A message from Romeo: service-unavailable, as if she were offline; not delivered.
    romeo.send(`<message to='${JULIET}' type='chat' id='m1'><body>Wherefore?</body></message>`);
    romeo.send(`<message to='${JULIET}/chamber' type='chat' id='m2'><body>Wherefore?</body></message>`);
    const e1 = await romeo.waitStanza((el) => el.attrs.id === 'm1');
    const e2 = await romeo.waitStanza((el) => el.attrs.id === 'm2');
    for (const e of [e1, e2]) assert.ok(e.getChild('error')?.getChild('service-unavailable'), e.toString());
    // An IQ to her client: service-unavailable.
    const iq = await romeo.iq(`<iq type='get' to='${JULIET}/chamber'><query xmlns='jabber:iq:version'/></iq>`);
    assert.ok(iq.getChild('error')?.getChild('service-unavailable'));
    // Example 9: Juliet's own message to Romeo is refused with <not-acceptable/> and <blocked/>.
    juliet.send(`<message to='${ROMEO}' type='chat' id='m3'><body>Can you hear me now?</body></message>`);
    const refused = await juliet.waitStanza((el) => el.attrs.id === 'm3');
    assert.equal(refused.attrs.type, 'error');
    assert.equal(refused.attrs.from, ROMEO);
    const err = refused.getChild('error')!;
    assert.equal(err.attrs.type, 'cancel');
    assert.ok(err.getChild('not-acceptable', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
    assert.ok(err.getChild('blocked', NS_ERRORS));
    await settle(juliet, romeo, juliet);
    assert.equal(juliet.stanzas.filter((el) => el.name === 'message' && el.attrs.from?.startsWith(ROMEO)).length, 0, 'no message from Romeo');
    assert.equal(romeo.stanzas.filter((el) => el.name === 'message' && el.attrs.from?.startsWith(JULIET)).length, 0, 'no message to Romeo');
    assert.equal(romeo.stanzas.filter(isPresence(`${JULIET}/chamber`, undefined)).length, 0, 'no presence to Romeo');
    assert.equal(juliet.stanzas.filter(isPresence(`${ROMEO}/orchard`, undefined)).length, 0, 'no presence from Romeo');
    // Polite blocking (§6): the subscription is kept.
    assert.equal((await t.storage.roster.getItem(JULIET, ROMEO))?.subscription, 'both');

    // §5.4: on unblock Romeo gets her current presence, and she his; messages flow again.
    await juliet.iq(`<iq type='set'><unblock xmlns='${NS}'><item jid='${ROMEO}'/></unblock></iq>`);
    const back = await romeo.waitStanza(isPresence(`${JULIET}/chamber`, undefined));
    assert.equal(back.getChildText('status'), 'after');
    await juliet.waitStanza(isPresence(`${ROMEO}/orchard`, undefined));
    romeo.send(`<message to='${JULIET}' type='chat' id='m4'><body>Again</body></message>`);
    await juliet.waitStanza((el) => el.attrs.id === 'm4');
  });

  it('a blocked domain covers its accounts (§4), and blocking is one-way for third parties', async () => {
    const juliet = await s.login('juliet', 'chamber', 'pw', 'capulet.lit');
    const benvolio = await s.login('benvolio', 'b', 'pw', 'montague.lit');
    const paris = await s.login('paris', 'p', 'pw', 'capulet.lit');
    juliet.send('<presence/>');
    await juliet.iq(`<iq type='set'><block xmlns='${NS}'><item jid='montague.lit'/></block></iq>`);
    benvolio.send(`<message to='${JULIET}' type='chat' id='b1'><body>?</body></message>`);
    assert.ok((await benvolio.waitStanza((el) => el.attrs.id === 'b1')).getChild('error')?.getChild('service-unavailable'));
    paris.send(`<message to='${JULIET}' type='chat' id='p1'><body>!</body></message>`);
    await juliet.waitStanza((el) => el.attrs.id === 'p1');
  });

  it('a blocked contact gets no PEP notifications and is refused open, presence and roster nodes exactly as a stranger', async () => {
    const juliet = await s.login('juliet', 'chamber', 'pw', 'capulet.lit');
    const romeo = await s.login('romeo', 'orchard', 'pw', 'montague.lit');
    const paris = await s.login('paris', 'p', 'pw', 'capulet.lit');
    const nodes = { 'urn:test:open': { access_model: 'open' }, 'urn:test:presence': { access_model: 'presence' }, 'urn:test:roster': { access_model: 'roster', roster_groups_allowed: 'Friends' } };
    for (const [node, fields] of Object.entries(nodes)) assert.equal((await juliet.iq(publish(node, 'one', fields))).attrs.type, 'result');
    juliet.send('<presence/>');
    romeo.sendPresenceWithCaps(Object.keys(nodes).map((n) => `${n}+notify`));
    await romeo.waitStanza(isPresence(`${JULIET}/chamber`, undefined));
    // Before the block Romeo reads every node and is notified of a publish.
    for (const node of Object.keys(nodes)) assert.equal((await romeo.iq(items(node))).attrs.type, 'result', node);
    await juliet.iq(publish('urn:test:presence', 'two', nodes['urn:test:presence']));
    await romeo.waitStanza((el) => el.name === 'message' && el.attrs.from === JULIET && /id=["']two["']/.test(el.toString()));

    await juliet.iq(`<iq type='set'><block xmlns='${NS}'><item jid='${ROMEO}'/></block></iq>`);
    // The stranger's answer for a node it may not read (the presence node), and for one that is not there.
    const stranger = errorOf(await paris.iq(items('urn:test:presence')));
    assert.equal(errorOf(await paris.iq(items('urn:test:nothing'))), stranger);
    for (const node of Object.keys(nodes)) assert.equal(errorOf(await romeo.iq(items(node))), stranger, node);
    // Not even listed.
    const listed = await romeo.iq(`<iq type='get' to='${JULIET}'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`);
    assert.deepEqual(listed.getChild('query')!.getChildren('item'), []);
    // No notification for a publish on any model.
    romeo.stanzas.length = 0;
    for (const [node, fields] of Object.entries(nodes)) await juliet.iq(publish(node, 'three', fields));
    await settle(juliet, romeo);
    assert.equal(romeo.stanzas.filter((el) => el.name === 'message' && el.attrs.from === JULIET).length, 0, 'no notification while blocked');

    // Unblocked, he reads and is notified again.
    await juliet.iq(`<iq type='set'><unblock xmlns='${NS}'><item jid='${ROMEO}'/></unblock></iq>`);
    assert.equal((await romeo.iq(items('urn:test:presence'))).attrs.type, 'result');
    await juliet.iq(publish('urn:test:open', 'four', nodes['urn:test:open']));
    await romeo.waitStanza((el) => el.name === 'message' && el.attrs.from === JULIET && /id=["']four["']/.test(el.toString()));
  });

  it("the user gets no PEP notifications from a contact she blocks", async () => {
    const juliet = await s.login('juliet', 'chamber', 'pw', 'capulet.lit');
    const romeo = await s.login('romeo', 'orchard', 'pw', 'montague.lit');
    romeo.send('<presence/>');
    juliet.sendPresenceWithCaps(['urn:test:verse+notify']);
    await juliet.waitStanza(isPresence(`${ROMEO}/orchard`, undefined));
    await romeo.iq(publish('urn:test:verse', 'v1', { access_model: 'presence' }));
    await juliet.waitStanza((el) => el.name === 'message' && el.attrs.from === ROMEO && /id=["']v1["']/.test(el.toString()));
    await juliet.iq(`<iq type='set'><block xmlns='${NS}'><item jid='${ROMEO}'/></block></iq>`);
    juliet.stanzas.length = 0;
    await romeo.iq(publish('urn:test:verse', 'v2', { access_model: 'presence' }));
    await settle(romeo, juliet);
    assert.equal(juliet.stanzas.filter((el) => el.name === 'message' && el.attrs.from === ROMEO).length, 0);
  });
});
