// PEP over real TCP against the whole server: publish semantics, notifications (items, retract, purge,
// delete), every access model, RSM paging, disco, quotas, and roster changes taking effect at once.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { RawClient } from '../../helpers/raw-client.ts';
import { loginWithInterests } from '../../helpers/caps-login.ts';
import type { Element } from '../../../src/xml/index.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const OWNER = 'http://jabber.org/protocol/pubsub#owner';
const EVENT = 'http://jabber.org/protocol/pubsub#event';
const ERRORS = 'http://jabber.org/protocol/pubsub#errors';
const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

const options = (fields: Record<string, string>) =>
  `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>${Object.entries(fields).map(([k, v]) => `<field var='pubsub#${k}'><value>${v}</value></field>`).join('')}</x></publish-options>`;

const publish = (node: string, item: string, opts?: Record<string, string>) =>
  `<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='${node}'>${item}</publish>${opts ? options(opts) : ''}</pubsub></iq>`;

const getItems = (owner: string, node: string, inner = '') =>
  `<iq type='get' to='${owner}'><pubsub xmlns='${PUBSUB}'><items node='${node}'/>${inner}</pubsub></iq>`;

function condition(iq: Element): { type?: string; condition?: string; pubsub?: string } {
  const err = iq.getChild('error');
  if (!err) return {};
  return { type: err.attrs.type, condition: err.elements.find((e) => e.ns === STANZAS && e.local !== 'text')?.local, pubsub: err.elements.find((e) => e.ns === ERRORS)?.local };
}

const itemIds = (iq: Element) => iq.getChild('pubsub', PUBSUB)!.getChild('items')!.getChildren('item').map((i) => i.attrs.id);
const isEvent = (node: string, child?: string) => (el: Element) => {
  const ev = el.name === 'message' ? el.getChild('event', EVENT) : undefined;
  const first = ev?.elements[0];
  return !!first && first.attrs.node === node && (child === undefined || first.local === child || !!first.getChild(child));
};

describe('PEP service over TCP', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  const users = ['owner', 'friend', 'stranger', 'coworker'];

  before(async () => {
    t = await startTestServer({
      users: Object.fromEntries(users.map((u) => [`${u}@localhost`, 'pw'])),
      config: { modules: { pep: { max_payload_bytes: 2048, max_nodes: 20 } } },
    });
    const r = t.storage.roster;
    await r.putItem('owner@localhost', { jid: 'friend@localhost', subscription: 'both', groups: ['Friends'] });
    await r.putItem('friend@localhost', { jid: 'owner@localhost', subscription: 'both', groups: [] });
    await r.putItem('owner@localhost', { jid: 'coworker@localhost', subscription: 'both', groups: ['Work'] });
    await r.putItem('coworker@localhost', { jid: 'owner@localhost', subscription: 'both', groups: [] });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t.stop();
  });

  const login = (user: string, resource: string, notify: string[] = []) => loginWithInterests(t, clients, user, resource, notify);

  it('answers disco#info on the account with pubsub/pep and only implemented features', async () => {
    const c = await login('owner', 'disco');
    const r = await c.iq(`<iq type='get' to='owner@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
    const q = r.getChild('query')!;
    assert.ok(q.getChildren('identity').some((i) => i.attrs.category === 'pubsub' && i.attrs.type === 'pep'));
    assert.ok(q.getChildren('identity').some((i) => i.attrs.category === 'account' && i.attrs.type === 'registered'));
    const f = new Set(q.getChildren('feature').map((x) => x.attrs.var));
    for (const must of ['publish-options', 'auto-create', 'persistent-items', 'retrieve-items', 'rsm', 'filtered-notifications', 'auto-subscribe', 'last-published']) {
      assert.ok(f.has(`${PUBSUB}#${must}`), must);
    }
    for (const absent of ['subscription-options', 'leased-subscription', 'collections']) assert.ok(!f.has(`${PUBSUB}#${absent}`), absent);
  });

  it('generates item ids, overwrites by id and notifies the owner and presence subscribers', async () => {
    const owner = await login('owner', 'a', ['urn:test:mood']);
    const friend = await login('friend', 'a', ['urn:test:mood']);
    const r1 = await owner.iq(publish('urn:test:mood', `<item><mood xmlns='urn:test:mood'>happy</mood></item>`));
    const genId = r1.getChild('pubsub')!.getChild('publish')!.getChild('item')!.attrs.id!;
    assert.ok(genId.length >= 8, 'a server-generated id');
    const n1 = await friend.waitStanza(isEvent('urn:test:mood'));
    assert.equal(n1.attrs.from, 'owner@localhost');
    assert.equal(n1.attrs.type, 'headline');
    assert.equal(n1.getChild('event')!.getChild('items')!.getChild('item')!.attrs.id, genId);
    await owner.waitStanza(isEvent('urn:test:mood'));

    await owner.iq(publish('urn:test:mood', `<item id='${genId}'><mood xmlns='urn:test:mood'>sad</mood></item>`));
    const n2 = await friend.waitStanza(isEvent('urn:test:mood'));
    assert.equal(n2.getChild('event')!.getChild('items')!.getChild('item')!.getChildText('mood'), 'sad');
    const items = await friend.iq(getItems('owner@localhost', 'urn:test:mood'));
    assert.deepEqual(itemIds(items), [genId]);
  });

  it('trims to max_items, keeping the newest', async () => {
    const owner = await login('owner', 'max');
    for (const id of ['1', '2', '3']) await owner.iq(publish('urn:test:max', `<item id='${id}'><v xmlns='urn:test:max'>${id}</v></item>`, { max_items: '2' }));
    assert.deepEqual(itemIds(await owner.iq(getItems('owner@localhost', 'urn:test:max'))), ['3', '2']);
    assert.deepEqual(itemIds(await owner.iq(getItems('owner@localhost', 'urn:test:max').replace(`<items node='urn:test:max'/>`, `<items node='urn:test:max' max_items='1'/>`))), ['3']);
    const one = await owner.iq(`<iq type='get' to='owner@localhost'><pubsub xmlns='${PUBSUB}'><items node='urn:test:max'><item id='2'/></items></pubsub></iq>`);
    assert.deepEqual(itemIds(one), ['2']);
  });

  it('pages with RSM (XEP-0059)', async () => {
    const owner = await login('owner', 'rsm');
    for (let i = 1; i <= 5; i++) await owner.iq(publish('urn:test:rsm', `<item id='i${i}'><v xmlns='urn:test:rsm'/></item>`, { max_items: '10' }));
    const p1 = await owner.iq(getItems('owner@localhost', 'urn:test:rsm', `<set xmlns='http://jabber.org/protocol/rsm'><max>2</max></set>`));
    assert.deepEqual(itemIds(p1), ['i5', 'i4']);
    const set = p1.getChild('pubsub')!.getChild('set', 'http://jabber.org/protocol/rsm')!;
    assert.equal(set.getChildText('count'), '5');
    const p2 = await owner.iq(getItems('owner@localhost', 'urn:test:rsm', `<set xmlns='http://jabber.org/protocol/rsm'><max>2</max><after>${set.getChildText('last')}</after></set>`));
    assert.deepEqual(itemIds(p2), ['i3', 'i2']);
  });

  it('notifies retractions, purges and deletions', async () => {
    const owner = await login('owner', 'life');
    const friend = await login('friend', 'life', ['urn:test:life']);
    await owner.iq(publish('urn:test:life', `<item id='x'><v xmlns='urn:test:life'/></item>`, { max_items: '5' }));
    await friend.waitStanza(isEvent('urn:test:life', 'item'));
    await owner.iq(`<iq type='set'><pubsub xmlns='${PUBSUB}'><retract node='urn:test:life' notify='true'><item id='x'/></retract></pubsub></iq>`);
    const rn = await friend.waitStanza(isEvent('urn:test:life', 'retract'));
    assert.equal(rn.getChild('event')!.getChild('items')!.getChild('retract')!.attrs.id, 'x');
    await owner.iq(publish('urn:test:life', `<item id='y'><v xmlns='urn:test:life'/></item>`));
    await friend.waitStanza(isEvent('urn:test:life', 'item'));
    await owner.iq(`<iq type='set'><pubsub xmlns='${OWNER}'><purge node='urn:test:life'/></pubsub></iq>`);
    await friend.waitStanza(isEvent('urn:test:life', 'purge'));
    assert.deepEqual(itemIds(await owner.iq(getItems('owner@localhost', 'urn:test:life'))), []);
    await owner.iq(`<iq type='set'><pubsub xmlns='${OWNER}'><delete node='urn:test:life'/></pubsub></iq>`);
    await friend.waitStanza(isEvent('urn:test:life', 'delete'));
    assert.deepEqual(condition(await owner.iq(getItems('owner@localhost', 'urn:test:life'))), { type: 'cancel', condition: 'item-not-found', pubsub: undefined });
  });

  it('enforces every access model on retrieval, with the XEP-0060 §6.5 errors', async () => {
    const owner = await login('owner', 'acl');
    const friend = await login('friend', 'acl');
    const coworker = await login('coworker', 'acl');
    const stranger = await login('stranger', 'acl');
    const item = `<item id='current'><v xmlns='urn:test:acl'/></item>`;
    await owner.iq(publish('urn:test:open', item, { access_model: 'open' }));
    await owner.iq(publish('urn:test:presence', item, { access_model: 'presence' }));
    await owner.iq(publish('urn:test:roster', item, { access_model: 'roster', roster_groups_allowed: 'Friends' }));
    await owner.iq(publish('urn:test:white', item, { access_model: 'whitelist' }));
    const outcome = async (c: RawClient, node: string) => {
      const r = await c.iq(getItems('owner@localhost', node));
      return r.attrs.type === 'result' ? 'ok' : `${condition(r).condition}/${condition(r).pubsub}`;
    };
    assert.equal(await outcome(stranger, 'urn:test:open'), 'ok');
    assert.equal(await outcome(friend, 'urn:test:presence'), 'ok');
    // A stranger (not in the owner's roster) is told nothing: the node does not exist for it (issue 19 #12).
    assert.equal(await outcome(stranger, 'urn:test:presence'), 'item-not-found/undefined');
    assert.equal(await outcome(friend, 'urn:test:roster'), 'ok');
    assert.equal(await outcome(coworker, 'urn:test:roster'), 'not-authorized/not-in-roster-group');
    assert.equal(await outcome(stranger, 'urn:test:roster'), 'item-not-found/undefined');
    assert.equal(await outcome(owner, 'urn:test:white'), 'ok');
    assert.equal(await outcome(friend, 'urn:test:white'), 'not-allowed/closed-node');
    // §8.9: the owner makes the friend a member of the whitelist.
    const set = await owner.iq(`<iq type='set'><pubsub xmlns='${OWNER}'><affiliations node='urn:test:white'><affiliation jid='friend@localhost' affiliation='member'/></affiliations></pubsub></iq>`);
    assert.equal(set.attrs.type, 'result');
    assert.equal(await outcome(friend, 'urn:test:white'), 'ok');
    // Nodes the requester may not see are absent from disco#items.
    const nodes = async (c: RawClient) => (await c.iq(`<iq type='get' to='owner@localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`)).getChild('query')!.getChildren('item').map((i) => i.attrs.node);
    const seen = await nodes(stranger);
    assert.ok(seen.includes('urn:test:open'));
    assert.ok(!seen.includes('urn:test:presence') && !seen.includes('urn:test:roster') && !seen.includes('urn:test:white'));
  });

  it('applies roster changes to the very next retrieval and notification', async () => {
    const owner = await login('owner', 'rc');
    const friend = await login('friend', 'rc', ['urn:test:rc']);
    await owner.iq(publish('urn:test:rc', `<item id='current'><v xmlns='urn:test:rc'>1</v></item>`, { access_model: 'roster', roster_groups_allowed: 'Friends' }));
    await friend.waitStanza(isEvent('urn:test:rc'));
    assert.equal((await friend.iq(getItems('owner@localhost', 'urn:test:rc'))).attrs.type, 'result');
    // The owner moves the friend out of Friends with a roster set.
    await owner.iq(`<iq type='set'><query xmlns='jabber:iq:roster'><item jid='friend@localhost'><group>Acquaintances</group></item></query></iq>`);
    assert.equal(condition(await friend.iq(getItems('owner@localhost', 'urn:test:rc'))).pubsub, 'not-in-roster-group');
    await owner.iq(publish('urn:test:rc', `<item id='current'><v xmlns='urn:test:rc'>2</v></item>`));
    await owner.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(friend.stanzas.filter(isEvent('urn:test:rc')).length, 0);
    await owner.iq(`<iq type='set'><query xmlns='jabber:iq:roster'><item jid='friend@localhost'><group>Friends</group></item></query></iq>`);
  });

  it('lets explicit subscribers of an open node receive notifications', async () => {
    const owner = await login('owner', 'sub');
    const stranger = await login('stranger', 'sub');
    await owner.iq(publish('urn:test:pub', `<item id='1'><v xmlns='urn:test:pub'/></item>`, { access_model: 'open' }));
    const sub = await stranger.iq(`<iq type='set' to='owner@localhost'><pubsub xmlns='${PUBSUB}'><subscribe node='urn:test:pub' jid='stranger@localhost/sub'/></pubsub></iq>`);
    assert.equal(sub.getChild('pubsub')!.getChild('subscription')!.attrs.subscription, 'subscribed');
    await owner.iq(publish('urn:test:pub', `<item id='2'><v xmlns='urn:test:pub'/></item>`));
    const n = await stranger.waitStanza((el) => isEvent('urn:test:pub')(el) && el.getChild('event')!.getChild('items')!.getChild('item')?.attrs.id === '2');
    assert.equal(n.attrs.to, 'stranger@localhost/sub');
  });

  it('refuses publishing to another account, oversize payloads and precondition mismatches, storing nothing', async () => {
    const owner = await login('owner', 'neg');
    const stranger = await login('stranger', 'neg');
    const foreign = await stranger.iq(publish('urn:test:neg', `<item id='1'><v xmlns='urn:test:neg'/></item>`).replace(`<iq type='set'>`, `<iq type='set' to='owner@localhost'>`));
    // The node does not exist yet, and only the owner auto-creates (XEP-0060 §7.1.3.3, XEP-0163 §3.2).
    assert.equal(condition(foreign).condition, 'item-not-found');
    const big = await owner.iq(publish('urn:test:neg', `<item id='1'><v xmlns='urn:test:neg'>${'x'.repeat(4096)}</v></item>`));
    assert.deepEqual(condition(big), { type: 'modify', condition: 'not-acceptable', pubsub: 'payload-too-big' });
    await owner.iq(publish('urn:test:neg', `<item id='1'><v xmlns='urn:test:neg'/></item>`, { access_model: 'presence' }));
    const pre = await owner.iq(publish('urn:test:neg', `<item id='2'><v xmlns='urn:test:neg'/></item>`, { access_model: 'whitelist' }));
    assert.deepEqual(condition(pre), { type: 'cancel', condition: 'conflict', pubsub: 'precondition-not-met' });
    const bad = await owner.iq(publish('urn:test:neg', `<item id='3'><v xmlns='urn:test:neg'/></item>`, { no_such_option: '1' }));
    assert.equal(condition(bad).condition, 'bad-request');
    assert.deepEqual((await t.storage.pubsub.getItems('owner@localhost', 'urn:test:neg')).map((i) => i.id), ['1']);
  });

  it('removes the PEP data of a deleted account', async () => {
    await t.addUser('leaver@localhost', 'pw');
    const c = await RawClient.connect(t.port);
    clients.push(c);
    await c.login('leaver@localhost', 'pw', 'x');
    await c.iq(publish('urn:test:gone', `<item id='1'><v xmlns='urn:test:gone'/></item>`));
    assert.equal((await t.storage.pubsub.listNodes('leaver@localhost')).length, 1);
    assert.equal(await t.storage.accounts.delete('leaver@localhost'), true);
    assert.equal((await t.storage.pubsub.listNodes('leaver@localhost')).length, 0);
  });
});
