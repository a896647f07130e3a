import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BALCONY, BENVOLIO, FRIAR, jid, JULIET, NURSE, PARIS, payload, rejects, ROMEO, setup, subscribers, TYBALT } from './helpers.ts';

describe('publish (XEP-0060 §7.1)', () => {
  it('auto-creates a missing node with PEP defaults and generates an id', async () => {
    const { engine } = setup();
    const r = await engine.service(JULIET).publish('tune', jid(BALCONY), { payload: payload(1) });
    assert.equal(r.created, true);
    assert.equal(r.id, 'gen1');
    assert.deepEqual(r.evicted, []);
    assert.ok(r.event);
    assert.equal(r.event.type, 'items');
    assert.deepEqual(r.event.items, [{ id: 'gen1', payload: payload(1) }]);
    assert.equal(r.event.messageType, 'headline');
    assert.equal(r.event.access.accessModel, 'presence');
    assert.deepEqual(await engine.service(JULIET).configuration('tune', jid(BALCONY)), engine.defaultConfig());
    const again = await engine.service(JULIET).publish('tune', jid(BALCONY), { payload: payload(2) });
    assert.equal(again.created, false);
  });

  it('only the owner (or a publisher) may publish; strangers cannot create nodes', async () => {
    const { engine } = setup();
    // Only the owner auto-creates: to anyone else the node does not exist (XEP-0060 §7.1.3.3).
    await rejects(engine.service(JULIET).publish('tune', jid(ROMEO), { payload: payload(1) }), 'item-not-found', undefined, { type: 'cancel' });
    await engine.service(JULIET).publish('tune', jid(BALCONY), { payload: payload(1) });
    await rejects(engine.service(JULIET).publish('tune', jid(`${ROMEO}/orchard`), { payload: payload(2) }), 'forbidden');
    await engine.service(JULIET).setNodeAffiliations('tune', jid(BALCONY), [{ jid: ROMEO, affiliation: 'publisher' }]);
    const r = await engine.service(JULIET).publish('tune', jid(`${ROMEO}/orchard`), { id: 'r', payload: payload(2) });
    assert.equal(r.id, 'r');
  });

  it('republishing an id overwrites it and moves it to newest', async () => {
    const { engine } = setup();
    await engine.service(JULIET).publish('n', jid(BALCONY), { id: 'a', payload: payload('a1') });
    await engine.service(JULIET).publish('n', jid(BALCONY), { id: 'b', payload: payload('b') });
    await engine.service(JULIET).publish('n', jid(BALCONY), { id: 'a', payload: payload('a2') });
    const r = await engine.service(JULIET).items('n', jid(BALCONY));
    assert.deepEqual(r.items.map((i) => [i.id, i.payload]), [['a', payload('a2')], ['b', payload('b')]]);
  });

  it('trims to max_items (oldest first) and to the service limit for max', async () => {
    const { engine } = setup();
    for (let i = 1; i <= 3; i++) await engine.service(JULIET).publish('two', jid(BALCONY), { id: `i${i}`, payload: payload(i) }, { options: { max_items: '2' } });
    assert.deepEqual((await engine.service(JULIET).items('two', jid(BALCONY))).items.map((i) => i.id), ['i3', 'i2']);
    let evicted: string[] = [];
    for (let i = 1; i <= 7; i++) ({ evicted } = await engine.service(JULIET).publish('max', jid(BALCONY), { id: `m${i}`, payload: payload(i) }));
    assert.deepEqual(evicted, ['m2']);
    assert.equal((await engine.service(JULIET).items('max', jid(BALCONY))).items.length, 5); // limits.maxItemsPerNode
  });

  it('payload-too-big, payload-required, item-required, item-forbidden (§7.1.3.4, §7.1.3.6)', async () => {
    const { engine } = setup();
    await rejects(engine.service(JULIET).publish('n', jid(BALCONY), { payload: `<x xmlns="y">${'a'.repeat(1000)}</x>` }), 'not-acceptable', 'payload-too-big', { type: 'modify' });
    assert.deepEqual(await engine.service(JULIET).nodes(jid(BALCONY)), [], 'nothing created');
    await rejects(engine.service(JULIET).publish('n', jid(BALCONY), { id: 'x' }), 'bad-request', 'payload-required');
    await rejects(engine.service(JULIET).publish('n', jid(BALCONY)), 'bad-request', 'item-required');
    // Transient notification-only node: items are forbidden, publishing without one notifies.
    const transient = { persist_items: 'false', deliver_payloads: 'false' };
    await rejects(engine.service(JULIET).publish('t', jid(BALCONY), { payload: payload(1) }, { options: transient }), 'bad-request', 'item-forbidden');
    const r = await engine.service(JULIET).publish('t', jid(BALCONY), undefined, { options: transient });
    assert.equal(r.id, undefined);
    assert.deepEqual(r.event?.items, []);
  });

  it('notification-only nodes omit payloads; itemreply=publisher exposes the publisher', async () => {
    const { engine } = setup();
    const a = await engine.service(JULIET).publish('n', jid(BALCONY), { id: 'a', payload: payload(1) }, { options: { deliver_payloads: 'false', persist_items: 'true' } });
    assert.deepEqual(a.event?.items, [{ id: 'a' }]);
    const b = await engine.service(JULIET).publish('p', jid(BALCONY), { id: 'b', payload: payload(1) }, { options: { itemreply: 'publisher' } });
    assert.deepEqual(b.event?.items, [{ id: 'b', publisher: BALCONY, payload: payload(1) }]);
    const items = await engine.service(JULIET).items('p', jid(BALCONY));
    assert.equal(items.items[0].publisher, BALCONY);
    assert.equal((await engine.service(JULIET).items('n', jid(BALCONY))).items[0].publisher, undefined);
  });

  it('deliver_notifications=false produces no event', async () => {
    const { engine } = setup();
    const quiet = await engine.service(JULIET).publish('q', jid(BALCONY), { payload: payload(1) }, { options: { deliver_notifications: 'false' } });
    assert.equal(quiet.event, undefined);
    const loud = await engine.service(JULIET).publish('l', jid(BALCONY), { payload: payload(1) });
    assert.equal(loud.event?.type, 'items');
  });

  it('concurrent auto-creating publishes both succeed, one creates', async () => {
    const { engine } = setup();
    const [a, b] = await Promise.all([
      engine.service(JULIET).publish('race', jid(BALCONY), { id: 'a', payload: payload(1) }),
      engine.service(JULIET).publish('race', jid(BALCONY), { id: 'b', payload: payload(2) }),
    ]);
    assert.deepEqual([a.created, b.created].sort(), [false, true]);
    assert.equal((await engine.service(JULIET).items('race', jid(BALCONY))).items.length, 2);
  });

  it('requires a node id (nodeid-required)', async () => {
    const { engine } = setup();
    await rejects(engine.service(JULIET).publish('', jid(BALCONY), { payload: payload(1) }), 'bad-request', 'nodeid-required');
  });
});

describe('retract (§7.2)', () => {
  it('deletes and notifies per notify_retract; notify=true always notifies', async () => {
    const { engine } = setup();
    await engine.service(JULIET).publish('n', jid(BALCONY), { id: 'a', payload: payload(1) });
    const r = await engine.service(JULIET).retract('n', jid(BALCONY), 'a');
    assert.deepEqual(r.event?.retracts, ['a']);
    assert.deepEqual(r.event?.items, []);
    assert.deepEqual((await engine.service(JULIET).items('n', jid(BALCONY))).items, []);

    await engine.service(JULIET).publish('quiet', jid(BALCONY), { id: 'a', payload: payload(1) }, { options: { notify_retract: 'false' } });
    await engine.service(JULIET).publish('quiet', jid(BALCONY), { id: 'b', payload: payload(1) });
    assert.equal((await engine.service(JULIET).retract('quiet', jid(BALCONY), 'a')).event, undefined);
    assert.deepEqual((await engine.service(JULIET).retract('quiet', jid(BALCONY), 'b', true)).event?.retracts, ['b']);
  });

  it('errors: item-not-found, forbidden, item-required, persistent-items unsupported', async () => {
    const { engine } = setup();
    await rejects(engine.service(JULIET).retract('missing', jid(BALCONY), 'a'), 'item-not-found');
    await engine.service(JULIET).publish('n', jid(BALCONY), { id: 'a', payload: payload(1) });
    await rejects(engine.service(JULIET).retract('n', jid(BALCONY), 'zzz'), 'item-not-found');
    await rejects(engine.service(JULIET).retract('n', jid(ROMEO), 'a'), 'forbidden');
    await rejects(engine.service(JULIET).retract('n', jid(BALCONY), ''), 'bad-request', 'item-required');
    await engine.service(JULIET).publish('t', jid(BALCONY), { id: 'a', payload: payload(1) }, { options: { persist_items: 'false' } });
    const e = await rejects(engine.service(JULIET).retract('t', jid(BALCONY), 'a'), 'feature-not-implemented', 'unsupported');
    assert.equal(e.feature, 'persistent-items');
  });

  it('publish-only entities retract only their own items', async () => {
    const { engine } = setup();
    await engine.service(JULIET).publish('n', jid(BALCONY), { id: 'mine', payload: payload(1) });
    await engine.service(JULIET).setNodeAffiliations('n', jid(BALCONY), [{ jid: ROMEO, affiliation: 'publish-only' }]);
    await engine.service(JULIET).publish('n', jid(`${ROMEO}/a`), { id: 'his', payload: payload(2) });
    await rejects(engine.service(JULIET).retract('n', jid(ROMEO), 'mine'), 'forbidden');
    await engine.service(JULIET).retract('n', jid(`${ROMEO}/b`), 'his');
  });
});

describe('purge (§8.5)', () => {
  it('removes every item and sends one purge event', async () => {
    const { engine } = setup();
    await engine.service(JULIET).publish('n', jid(BALCONY), { id: 'a', payload: payload(1) });
    await engine.service(JULIET).publish('n', jid(BALCONY), { id: 'b', payload: payload(2) });
    await rejects(engine.service(JULIET).purge('n', jid(ROMEO)), 'forbidden');
    const r = await engine.service(JULIET).purge('n', jid(BALCONY));
    assert.equal(r.event?.type, 'purge');
    assert.deepEqual((await engine.service(JULIET).items('n', jid(BALCONY))).items, []);
    await rejects(engine.service(JULIET).purge('missing', jid(BALCONY)), 'item-not-found');
    await engine.service(JULIET).publish('t', jid(BALCONY), { id: 'a', payload: payload(1) }, { options: { persist_items: 'false' } });
    await rejects(engine.service(JULIET).purge('t', jid(BALCONY)), 'feature-not-implemented', 'unsupported', { feature: 'persistent-items' });
  });
});

describe('create / delete (§8.1, §8.4)', () => {
  it('creates with default or given config; conflicts; instant nodes; owner only', async () => {
    const { engine } = setup();
    const r = await engine.service(JULIET).create('n', jid(BALCONY));
    assert.deepEqual(r, { node: 'n', config: engine.defaultConfig() });
    await rejects(engine.service(JULIET).create('n', jid(BALCONY)), 'conflict', undefined, { type: 'cancel' });
    await rejects(engine.service(JULIET).create('x', jid(ROMEO)), 'forbidden');
    const instant = await engine.service(JULIET).create(undefined, jid(BALCONY));
    assert.equal(instant.node, 'gen1');
    const configured = await engine.service(JULIET).create('c', jid(BALCONY), { FORM_TYPE: 'x', access_model: 'whitelist', max_items: '3' });
    assert.equal(configured.config.access_model, 'whitelist');
    assert.equal(configured.config.max_items, '3');
  });

  it('create errors: not-acceptable for bad config, unsupported-access-model, max-nodes-exceeded', async () => {
    const { engine } = setup({ limits: { maxNodesPerService: 2, maxItemsPerNode: 5, maxPayloadBytes: 1000 } });
    await rejects(engine.service(JULIET).create('a', jid(BALCONY), { bogus: '1' }), 'not-acceptable');
    await rejects(engine.service(JULIET).create('a', jid(BALCONY), { max_items: 'x' }), 'not-acceptable');
    await rejects(engine.service(JULIET).create('a', jid(BALCONY), { access_model: 'authorize' }), 'not-acceptable', 'unsupported-access-model', { type: 'modify' });
    await engine.service(JULIET).create('a', jid(BALCONY));
    await engine.service(JULIET).publish('b', jid(BALCONY), { payload: payload(1) });
    await rejects(engine.service(JULIET).create('c', jid(BALCONY)), 'not-allowed', 'max-nodes-exceeded');
    await rejects(engine.service(JULIET).publish('c', jid(BALCONY), { payload: payload(1) }), 'not-allowed', 'max-nodes-exceeded');
  });

  it('deletes with a redirect and a snapshot that still decides recipients afterwards', async () => {
    const { engine } = setup();
    await engine.service(JULIET).publish('n', jid(BALCONY), { id: 'a', payload: payload(1) }, { options: { access_model: 'open' } });
    await engine.service(JULIET).subscribe('n', jid(`${BENVOLIO}/x`), `${BENVOLIO}/x`);
    await engine.service(JULIET).setNodeAffiliations('n', jid(BALCONY), [{ jid: PARIS, affiliation: 'outcast' }]);
    await rejects(engine.service(JULIET).delete('n', jid(ROMEO)), 'forbidden');
    const r = await engine.service(JULIET).delete('n', jid(BALCONY), 'xmpp:juliet@capulet.lit?;node=blog');
    assert.ok(r.event);
    assert.equal(r.event.type, 'delete');
    assert.equal(r.event.redirect, 'xmpp:juliet@capulet.lit?;node=blog');
    assert.deepEqual(r.event.subscribers, [`${BENVOLIO}/x`]);
    assert.equal(await engine.mayReceiveEvent(r.event, BENVOLIO), true);
    assert.equal(await engine.mayReceiveEvent(r.event, PARIS), false);
    assert.equal(await engine.service(JULIET).mayReceive('n', jid(BENVOLIO)), false, 'the node is gone');
    await rejects(engine.service(JULIET).items('n', jid(BALCONY)), 'item-not-found');
    await rejects(engine.service(JULIET).delete('n', jid(BALCONY)), 'item-not-found');
  });

  it('notify_delete=false suppresses the event', async () => {
    const { engine } = setup();
    await engine.service(JULIET).create('n', jid(BALCONY), { notify_delete: '0' });
    assert.equal((await engine.service(JULIET).delete('n', jid(BALCONY))).event, undefined);
  });
});

describe('configure (§8.2, §8.3)', () => {
  it('owner only; partial submissions keep other values; validation errors are not-acceptable', async () => {
    const { engine } = setup();
    await engine.service(JULIET).create('n', jid(BALCONY), { title: 'Keys' });
    await rejects(engine.service(JULIET).configuration('n', jid(ROMEO)), 'forbidden');
    await rejects(engine.service(JULIET).configure('n', jid(ROMEO), { access_model: 'open' }), 'forbidden');
    await rejects(engine.service(JULIET).configuration('missing', jid(BALCONY)), 'item-not-found');
    const r = await engine.service(JULIET).configure('n', jid(BALCONY), { access_model: 'open' });
    assert.equal(r.config.access_model, 'open');
    assert.equal(r.config.title, 'Keys');
    assert.equal(r.event, undefined, 'notify_config defaults to false');
    await rejects(engine.service(JULIET).configure('n', jid(BALCONY), { notify_sub: '1' }), 'not-acceptable');
    await rejects(engine.service(JULIET).configure('n', jid(BALCONY), { access_model: 'authorize' }), 'not-acceptable', 'unsupported-access-model');
    assert.equal((await engine.service(JULIET).configuration('n', jid(BALCONY))).access_model, 'open');
  });

  it('notify_config sends a config event (with the form only for payload nodes)', async () => {
    const { engine } = setup();
    await engine.service(JULIET).create('n', jid(BALCONY), { notify_config: 'true' });
    const r = await engine.service(JULIET).configure('n', jid(BALCONY), { title: 'T' });
    assert.equal(r.event?.type, 'config');
    assert.equal(r.event?.includeConfig, true);
    assert.equal(r.event?.config.title, 'T');
  });

  it('lowering max_items trims at once; losing access cancels subscriptions (XEP-0163 §9.1)', async () => {
    const { engine } = setup();
    for (let i = 1; i <= 4; i++) await engine.service(JULIET).publish('n', jid(BALCONY), { id: `i${i}`, payload: payload(i) }, { options: { access_model: 'open' } });
    await engine.service(JULIET).subscribe('n', jid(BENVOLIO), BENVOLIO);
    await engine.service(JULIET).subscribe('n', jid(ROMEO), ROMEO);
    const r = await engine.service(JULIET).configure('n', jid(BALCONY), { max_items: '2', access_model: 'presence' });
    assert.deepEqual(r.cancelled, [{ node: 'n', jid: BENVOLIO }]);
    assert.deepEqual(await subscribers(engine, 'n'), [ROMEO]);
    assert.deepEqual((await engine.service(JULIET).items('n', jid(BALCONY))).items.map((i) => i.id), ['i4', 'i3']);
  });

  it('defaultConfig is the PEP default', () => {
    const { engine } = setup();
    const d = engine.defaultConfig();
    assert.equal(d.access_model, 'presence');
    assert.equal(d.send_last_published_item, 'on_sub_and_presence');
    assert.equal(d.persist_items, 'true');
  });

  it('deployment defaults override the PEP defaults and are validated', () => {
    const { engine } = setup({ defaults: { access_model: 'roster' } });
    assert.equal(engine.defaultConfig().access_model, 'roster');
    assert.throws(() => setup({ defaults: { access_model: 'nope' } }), /invalid pubsub default configuration/);
  });
});

describe('getItems (§6.5) and RSM (XEP-0059)', () => {
  async function fiveItems() {
    const f = setup();
    for (let i = 1; i <= 5; i++) await f.engine.service(JULIET).publish('n', jid(BALCONY), { id: `i${i}`, payload: payload(i) });
    return f;
  }

  it('all, max_items (most recent N), and by id', async () => {
    const { engine } = await fiveItems();
    assert.deepEqual((await engine.service(JULIET).items('n', jid(ROMEO))).items.map((i) => i.id), ['i5', 'i4', 'i3', 'i2', 'i1']);
    assert.deepEqual((await engine.service(JULIET).items('n', jid(ROMEO), { max: 2 })).items.map((i) => i.id), ['i5', 'i4']);
    assert.deepEqual((await engine.service(JULIET).items('n', jid(ROMEO), { ids: ['i2', 'nope', 'i4'] })).items.map((i) => i.id), ['i2', 'i4']);
    const one = (await engine.service(JULIET).items('n', jid(ROMEO), { ids: ['i3'] })).items[0];
    assert.equal(one.payload, payload(3));
    assert.equal(typeof one.publishedAt, 'number');
    await rejects(engine.service(JULIET).items('missing', jid(ROMEO)), 'item-not-found');
  });

  it('pages forward with after, backward with before, last page with empty before, by index', async () => {
    const { engine } = await fiveItems();
    const p1 = await engine.service(JULIET).items('n', jid(ROMEO), { rsm: { max: 2 } });
    assert.deepEqual(p1.items.map((i) => i.id), ['i5', 'i4']);
    assert.deepEqual(p1.rsm, { count: 5, first: 'i5', firstIndex: 0, last: 'i4' });
    const p2 = await engine.service(JULIET).items('n', jid(ROMEO), { rsm: { max: 2, after: 'i4' } });
    assert.deepEqual(p2.rsm, { count: 5, first: 'i3', firstIndex: 2, last: 'i2' });
    const p3 = await engine.service(JULIET).items('n', jid(ROMEO), { rsm: { max: 2, after: 'i2' } });
    assert.deepEqual(p3.items.map((i) => i.id), ['i1']);
    const back = await engine.service(JULIET).items('n', jid(ROMEO), { rsm: { max: 2, before: 'i2' } });
    assert.deepEqual(back.rsm, { count: 5, first: 'i4', firstIndex: 1, last: 'i3' });
    const last = await engine.service(JULIET).items('n', jid(ROMEO), { rsm: { max: 2, before: '' } });
    assert.deepEqual(last.rsm, { count: 5, first: 'i2', firstIndex: 3, last: 'i1' });
    const byIndex = await engine.service(JULIET).items('n', jid(ROMEO), { rsm: { max: 1, index: 3 } });
    assert.deepEqual(byIndex.rsm, { count: 5, first: 'i2', firstIndex: 3, last: 'i2' });
    const count = await engine.service(JULIET).items('n', jid(ROMEO), { rsm: { max: 0 } });
    assert.deepEqual(count, { node: 'n', items: [], rsm: { count: 5 } });
    const bounded = await engine.service(JULIET).items('n', jid(ROMEO), { max: 3, rsm: { max: 2, after: 'i4' } });
    assert.deepEqual(bounded.rsm, { count: 3, first: 'i3', firstIndex: 2, last: 'i3' });
    await rejects(engine.service(JULIET).items('n', jid(ROMEO), { rsm: { max: 2, after: 'gone' } }), 'item-not-found');
  });

  it('a transient node returns its cached last item', async () => {
    const { engine } = setup();
    await engine.service(JULIET).publish('t', jid(BALCONY), { id: 'a', payload: payload(1) }, { options: { persist_items: 'false' } });
    await engine.service(JULIET).publish('t', jid(BALCONY), { id: 'b', payload: payload(2) });
    assert.deepEqual((await engine.service(JULIET).items('t', jid(ROMEO))).items.map((i) => i.id), ['b']);
  });
});

describe('listNodes (XEP-0163 §7.2 disco#items)', () => {
  it('lists only nodes the requester may access, with titles', async () => {
    const { engine, relationshipCalls } = setup();
    await engine.service(JULIET).create('open', jid(BALCONY), { access_model: 'open', title: 'Open' });
    await engine.service(JULIET).create('presence', jid(BALCONY));
    await engine.service(JULIET).create('friends', jid(BALCONY), { access_model: 'roster', roster_groups_allowed: 'Friends' });
    await engine.service(JULIET).create('secret', jid(BALCONY), { access_model: 'whitelist' });
    const names = async (who: string) => (await engine.service(JULIET).nodes(jid(who))).map((n) => n.node);
    assert.deepEqual(await names(BALCONY), ['friends', 'open', 'presence', 'secret']);
    const before = relationshipCalls();
    assert.deepEqual(await names(ROMEO), ['friends', 'open', 'presence']);
    assert.equal(relationshipCalls() - before, 1, 'one roster lookup per listing');
    assert.deepEqual(await names(NURSE), ['open', 'presence']);
    assert.deepEqual(await names(BENVOLIO), ['open']);
    assert.deepEqual(await engine.service(JULIET).nodes(jid(BENVOLIO)), [{ node: 'open', title: 'Open' }]);
  });
});

describe('may (one decision for every action)', () => {
  it('answers from the capability table and the access model; false for a missing node', async () => {
    const { engine } = setup();
    const juliet = engine.service(JULIET);
    await juliet.create('n', jid(BALCONY), { access_model: 'open' });
    await juliet.setNodeAffiliations('n', jid(BALCONY), [{ jid: ROMEO, affiliation: 'publisher' }, { jid: PARIS, affiliation: 'publish-only' }]);
    assert.equal(await juliet.may('n', jid(`${ROMEO}/orchard`), 'purge'), true);
    assert.equal(await juliet.may('n', jid(ROMEO), 'configure'), false);
    assert.equal(await juliet.may('n', jid(PARIS), 'publish'), true);
    assert.equal(await juliet.may('n', jid(PARIS), 'purge'), false);
    assert.equal(await juliet.may('n', jid(BENVOLIO), 'retrieve'), true, 'open: everyone is a member');
    assert.equal(await juliet.may('n', jid(BENVOLIO), 'publish'), false);
    assert.equal(await juliet.may('n', jid(BALCONY), 'delete'), true);
    assert.equal(await juliet.may('missing', jid(BALCONY), 'retrieve'), false);
    assert.equal(await juliet.may('', jid(BALCONY), 'retrieve'), false);
  });
});

describe('affiliations (§5.7, §8.9)', () => {
  it('owner lists and modifies; the account owner is always listed and cannot be demoted', async () => {
    const { engine } = setup();
    await engine.service(JULIET).create('n', jid(BALCONY), { access_model: 'whitelist' });
    await rejects(engine.service(JULIET).nodeAffiliations('n', jid(ROMEO)), 'forbidden');
    await rejects(engine.service(JULIET).setNodeAffiliations('n', jid(ROMEO), [{ jid: ROMEO, affiliation: 'member' }]), 'forbidden');
    await engine.service(JULIET).setNodeAffiliations('n', jid(BALCONY), [
      { jid: `${FRIAR}/cell`, affiliation: 'member' }, { jid: PARIS, affiliation: 'outcast' },
    ]);
    assert.deepEqual(await engine.service(JULIET).nodeAffiliations('n', jid(BALCONY)), [
      { jid: JULIET, affiliation: 'owner' }, { jid: FRIAR, affiliation: 'member' }, { jid: PARIS, affiliation: 'outcast' },
    ]);
    await rejects(engine.service(JULIET).setNodeAffiliations('n', jid(BALCONY), [{ jid: JULIET, affiliation: 'none' }]), 'not-acceptable');
    await rejects(engine.service(JULIET).setNodeAffiliations('n', jid(BALCONY), [{ jid: ROMEO, affiliation: 'owner' }]), 'not-acceptable');
    // All-or-nothing: the valid first entry is not applied when the second is invalid.
    await rejects(engine.service(JULIET).setNodeAffiliations('n', jid(BALCONY), [
      { jid: ROMEO, affiliation: 'member' }, { jid: 'not a jid@@', affiliation: 'member' },
    ]), 'not-acceptable');
    assert.equal((await engine.service(JULIET).nodeAffiliations('n', jid(BALCONY))).length, 3);
    await engine.service(JULIET).setNodeAffiliations('n', jid(BALCONY), [{ jid: PARIS, affiliation: 'none' }]);
    assert.equal((await engine.service(JULIET).nodeAffiliations('n', jid(BALCONY))).length, 2);
  });

  it('entity view of its own affiliations', async () => {
    const { engine } = setup();
    await engine.service(JULIET).create('a', jid(BALCONY));
    await engine.service(JULIET).create('b', jid(BALCONY));
    await engine.service(JULIET).setNodeAffiliations('b', jid(BALCONY), [{ jid: FRIAR, affiliation: 'member' }]);
    assert.deepEqual(await engine.service(JULIET).affiliations(jid(`${FRIAR}/cell`)), [{ node: 'b', affiliation: 'member' }]);
    assert.deepEqual(await engine.service(JULIET).affiliations(jid(BALCONY), { node: 'a' }), [{ node: 'a', affiliation: 'owner' }]);
    assert.deepEqual(await engine.service(JULIET).affiliations(jid(ROMEO)), []);
  });

  it('making someone an outcast cancels their subscription', async () => {
    const { engine } = setup();
    await engine.service(JULIET).create('n', jid(BALCONY), { access_model: 'open' });
    await engine.service(JULIET).subscribe('n', jid(PARIS), PARIS);
    const r = await engine.service(JULIET).setNodeAffiliations('n', jid(BALCONY), [{ jid: PARIS, affiliation: 'outcast' }]);
    assert.deepEqual(r.cancelled, [{ node: 'n', jid: PARIS }]);
    await rejects(engine.service(JULIET).subscribe('n', jid(PARIS), PARIS), 'forbidden', undefined, { type: 'auth' });
  });
});

describe('subscriptions (§6.1, §6.2, §5.6, §8.8)', () => {
  it('subscribe and unsubscribe on an open node, with their errors', async () => {
    const { engine } = setup();
    await engine.service(JULIET).publish('n', jid(BALCONY), { id: 'a', payload: payload(1) }, { options: { access_model: 'open' } });
    const s = await engine.service(JULIET).subscribe('n', jid(`${BENVOLIO}/x`), BENVOLIO);
    assert.equal(s.subscription, 'subscribed');
    assert.equal(s.jid, BENVOLIO);
    // §6.1.7 / XEP-0163: on_sub_and_presence by default → the last item comes with the subscription.
    assert.deepEqual(s.lastItem?.items, [{ id: 'a', payload: payload(1) }]);
    await rejects(engine.service(JULIET).subscribe('n', jid(BENVOLIO), ROMEO), 'bad-request', 'invalid-jid', { type: 'modify' });
    await rejects(engine.service(JULIET).subscribe('missing', jid(BENVOLIO), BENVOLIO), 'item-not-found');
    assert.deepEqual(await subscribers(engine, 'n'), [BENVOLIO]);
    assert.deepEqual(await engine.service(JULIET).subscriptions(jid(`${BENVOLIO}/y`)), [{ node: 'n', jid: BENVOLIO, subscription: 'subscribed' }]);
    await rejects(engine.service(JULIET).unsubscribe('n', jid(ROMEO), BENVOLIO), 'forbidden');
    await rejects(engine.service(JULIET).unsubscribe('n', jid(ROMEO), ROMEO), 'unexpected-request', 'not-subscribed', { type: 'cancel' });
    await rejects(engine.service(JULIET).unsubscribe('missing', jid(ROMEO), ROMEO), 'item-not-found');
    await engine.service(JULIET).unsubscribe('n', jid(BENVOLIO), BENVOLIO);
    assert.deepEqual(await subscribers(engine, 'n'), []);
  });

  it('send_last_published_item=never sends nothing on subscription', async () => {
    const { engine } = setup();
    await engine.service(JULIET).publish('n', jid(BALCONY), { id: 'a', payload: payload(1) }, { options: { access_model: 'open', send_last_published_item: 'never' } });
    assert.equal((await engine.service(JULIET).subscribe('n', jid(BENVOLIO), BENVOLIO)).lastItem, undefined);
  });

  it('owner manages node subscriptions', async () => {
    const { engine } = setup();
    await engine.service(JULIET).create('n', jid(BALCONY), { access_model: 'open' });
    await engine.service(JULIET).subscribe('n', jid(BENVOLIO), BENVOLIO);
    await rejects(engine.service(JULIET).nodeSubscriptions('n', jid(ROMEO)), 'forbidden');
    await engine.service(JULIET).setNodeSubscriptions('n', jid(BALCONY), [
      { jid: ROMEO, subscription: 'subscribed' }, { jid: BENVOLIO, subscription: 'none' },
    ]);
    assert.deepEqual(await engine.service(JULIET).nodeSubscriptions('n', jid(BALCONY)), [{ jid: ROMEO, subscription: 'subscribed' }]);
    await rejects(engine.service(JULIET).setNodeSubscriptions('n', jid(BALCONY), [{ jid: ROMEO, subscription: 'pending' }]), 'not-acceptable');
  });
});

describe('notification filtering: mayReceive, invalidateAccess, recheckSubscriptions', () => {
  it('caches decisions until the roster changes and the wiring invalidates', async () => {
    const f = setup();
    await f.engine.service(JULIET).publish('n', jid(BALCONY), { payload: payload(1) });
    assert.equal(await f.engine.service(JULIET).mayReceive('n', jid(TYBALT)), true);
    const calls = f.relationshipCalls();
    assert.equal(await f.engine.service(JULIET).mayReceive('n', jid(`${TYBALT}/home`)), true);
    assert.equal(f.relationshipCalls(), calls, 'cached');
    // Juliet revokes Tybalt's presence subscription.
    f.roster.set(TYBALT, { subscription: 'none', groups: [] });
    assert.equal(await f.engine.service(JULIET).mayReceive('n', jid(TYBALT)), true, 'still cached');
    await f.engine.service(JULIET).relationshipChanged(TYBALT);
    assert.equal(await f.engine.service(JULIET).mayReceive('n', jid(TYBALT)), false);
    f.roster.set(TYBALT, { subscription: 'both', groups: [] });
    await f.engine.service(JULIET).relationshipChanged();
    assert.equal(await f.engine.service(JULIET).mayReceive('n', jid(TYBALT)), true);
  });

  it('configuration and affiliation changes invalidate by themselves', async () => {
    const { engine } = setup();
    await engine.service(JULIET).publish('n', jid(BALCONY), { payload: payload(1) }, { options: { access_model: 'open' } });
    assert.equal(await engine.service(JULIET).mayReceive('n', jid(BENVOLIO)), true);
    await engine.service(JULIET).configure('n', jid(BALCONY), { access_model: 'presence' });
    assert.equal(await engine.service(JULIET).mayReceive('n', jid(BENVOLIO)), false);
    await engine.service(JULIET).setNodeAffiliations('n', jid(BALCONY), [{ jid: BENVOLIO, affiliation: 'member' }]);
    assert.equal(await engine.service(JULIET).mayReceive('n', jid(BENVOLIO)), true);
  });

  it('mayReceiveEvent decides from the event snapshot', async () => {
    const { engine } = setup();
    const r = await engine.service(JULIET).publish('n', jid(BALCONY), { payload: payload(1) }, { options: { access_model: 'roster', roster_groups_allowed: ['Friends'] } });
    assert.ok(r.event);
    assert.equal(await engine.mayReceiveEvent(r.event, `${ROMEO}/orchard`), true);
    assert.equal(await engine.mayReceiveEvent(r.event, NURSE), false);
    assert.equal(await engine.mayReceiveEvent(r.event, BALCONY), true);
  });

  it('a tiny cache still answers correctly', async () => {
    const { engine } = setup({ accessCacheSize: 1 });
    await engine.service(JULIET).publish('n', jid(BALCONY), { payload: payload(1) });
    for (const [who, ok] of [[ROMEO, true], [BENVOLIO, false], [ROMEO, true], [TYBALT, true], [BENVOLIO, false]] as const) {
      assert.equal(await engine.service(JULIET).mayReceive('n', jid(who)), ok, who);
    }
  });

  it('recheckSubscriptions cancels subscriptions that lost access after a roster change', async () => {
    const f = setup();
    await f.engine.service(JULIET).create('n', jid(BALCONY));
    await f.engine.service(JULIET).subscribe('n', jid(`${ROMEO}/orchard`), `${ROMEO}/orchard`);
    await f.engine.service(JULIET).subscribe('n', jid(NURSE), NURSE);
    f.roster.set(ROMEO, { subscription: 'to', groups: ['Friends'] });
    assert.deepEqual(await f.engine.service(JULIET).relationshipChanged(ROMEO), [{ node: 'n', jid: `${ROMEO}/orchard` }]);
    assert.deepEqual(await subscribers(f.engine, 'n'), [NURSE]);
    assert.deepEqual(await f.engine.service(JULIET).relationshipChanged(), []);
  });
});

describe('deleteService', () => {
  it('removes every node and cached decision of the account', async () => {
    const { engine } = setup();
    await engine.service(JULIET).publish('a', jid(BALCONY), { payload: payload(1) });
    await engine.service(JULIET).publish('b', jid(BALCONY), { payload: payload(1) });
    assert.equal(await engine.service(JULIET).mayReceive('a', jid(ROMEO)), true);
    await engine.service(JULIET).deleteAll();
    assert.deepEqual(await engine.service(JULIET).nodes(jid(BALCONY)), []);
    assert.equal(await engine.service(JULIET).mayReceive('a', jid(ROMEO)), false);
  });
});
