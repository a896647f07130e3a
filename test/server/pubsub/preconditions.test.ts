// XEP-0060 §7.1.5 publish-options, with the XEP-0222 §1.2 / §3 listing: persist_items=true,
// send_last_published_item=never, access_model=roster, roster_groups_allowed=Friends.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkPreconditions, preparePublishOptions, unmetPrecondition } from '../../../src/server/pubsub/preconditions.ts';
import { BALCONY, jid, JULIET, NURSE, payload, rejects, ROMEO, setup } from './helpers.ts';

const NODE = 'urn:xmpp:tmp:pubkey';
const XEP0222_OPTIONS = {
  FORM_TYPE: 'http://jabber.org/protocol/pubsub#publish-options',
  persist_items: 'true',
  send_last_published_item: 'never',
  access_model: 'roster',
  roster_groups_allowed: ['Friends'],
};

describe('preparePublishOptions / unmetPrecondition (pure)', () => {
  it('drops FORM_TYPE and canonicalises values', () => {
    const p = preparePublishOptions({ ...XEP0222_OPTIONS, persist_items: '1' });
    assert.deepEqual(p, {
      ok: true,
      options: { persist_items: 'true', send_last_published_item: 'never', access_model: 'roster', roster_groups_allowed: ['Friends'] },
    });
  });

  it('unknown fields and bad values are invalid options (bad-request)', () => {
    const unknown = preparePublishOptions({ 'frob': 'x' });
    assert.equal(unknown.ok, false);
    if (!unknown.ok) assert.deepEqual([unknown.error.condition, unknown.error.pubsubCondition], ['bad-request', 'invalid-options']);
    const bad = preparePublishOptions({ max_items: 'lots' });
    if (!bad.ok) assert.deepEqual([bad.error.condition, bad.error.pubsubCondition], ['bad-request', 'invalid-options']);
    else assert.fail('expected failure');
  });

  it('compares canonical values: 1 equals true, list-multi order does not matter', () => {
    assert.equal(unmetPrecondition({ persist_items: 'true', roster_groups_allowed: ['a', 'b'] }, { persist_items: 'true', roster_groups_allowed: ['b', 'a'] }), undefined);
    assert.equal(unmetPrecondition({ access_model: 'open' }, { access_model: 'presence' }), 'access_model');
    const err = checkPreconditions(preparePublishOptions({ access_model: 'authorize' }), { access_model: 'presence' });
    assert.deepEqual([err?.condition, err?.pubsubCondition], ['conflict', 'precondition-not-met']);
  });
});

describe('publish with options (engine)', () => {
  it('XEP-0222 listing on a new node: auto-creates it with those options over the PEP defaults', async () => {
    const { engine } = setup();
    const r = await engine.service(JULIET).publish(NODE, jid(BALCONY), { id: 'julietRSAkey1hash', payload: payload('key') }, { options: XEP0222_OPTIONS });
    assert.equal(r.created, true);
    assert.equal(r.id, 'julietRSAkey1hash');
    const config = await engine.service(JULIET).configuration(NODE, jid(BALCONY));
    assert.equal(config.persist_items, 'true');
    assert.equal(config.send_last_published_item, 'never');
    assert.equal(config.access_model, 'roster');
    assert.deepEqual(config.roster_groups_allowed, ['Friends']);
    // The rest are PEP defaults.
    assert.equal(config.deliver_payloads, 'true');
    assert.equal(config.notify_retract, 'true');
    // XEP-0222 §1.2: "pushed out to all appropriate individuals (in this case only Romeo)".
    assert.equal(await engine.service(JULIET).mayReceive(NODE, jid(ROMEO)), true);
    assert.equal(await engine.service(JULIET).mayReceive(NODE, jid(NURSE)), false);
    assert.equal(await engine.service(JULIET).mayReceive(NODE, jid('benvolio@montague.lit')), false);
    assert.equal(await engine.service(JULIET).mayReceive(NODE, jid(JULIET)), true);
  });

  it('XEP-0222 listing on an existing node with the same config: preconditions met, publish succeeds', async () => {
    const { engine } = setup();
    await engine.service(JULIET).publish(NODE, jid(BALCONY), { id: 'k1', payload: payload(1) }, { options: XEP0222_OPTIONS });
    const r = await engine.service(JULIET).publish(NODE, jid(BALCONY), { id: 'k2', payload: payload(2) }, { options: { ...XEP0222_OPTIONS, persist_items: '1' } });
    assert.equal(r.created, false);
    const items = await engine.service(JULIET).items(NODE, jid(BALCONY));
    assert.deepEqual(items.items.map((i) => i.id), ['k2', 'k1']);
  });

  it('a mismatching option on an existing node: conflict + precondition-not-met, nothing stored', async () => {
    const { engine } = setup();
    await engine.service(JULIET).publish(NODE, jid(BALCONY), { id: 'k1', payload: payload(1) }); // PEP defaults: presence
    await rejects(engine.service(JULIET).publish(NODE, jid(BALCONY), { id: 'k2', payload: payload(2) }, { options: XEP0222_OPTIONS }), 'conflict', 'precondition-not-met', { type: 'cancel' });
    const items = await engine.service(JULIET).items(NODE, jid(BALCONY));
    assert.deepEqual(items.items.map((i) => i.id), ['k1']);
    // Configuration unchanged.
    assert.equal((await engine.service(JULIET).configuration(NODE, jid(BALCONY))).access_model, 'presence');
  });

  it('other roster groups are a different precondition', async () => {
    const { engine } = setup();
    await engine.service(JULIET).publish(NODE, jid(BALCONY), { id: 'k1', payload: payload(1) }, { options: XEP0222_OPTIONS });
    await rejects(
      engine.service(JULIET).publish(NODE, jid(BALCONY), { id: 'k2', payload: payload(2) }, { options: { ...XEP0222_OPTIONS, roster_groups_allowed: ['Friends', 'Servants'] } }),
      'conflict', 'precondition-not-met');
  });

  it('unknown option fields reject the publication on new and existing nodes', async () => {
    const { engine } = setup();
    await rejects(engine.service(JULIET).publish('fresh', jid(BALCONY), { payload: payload(1) }, { options: { frobnicate: '1' } }), 'bad-request', 'invalid-options');
    assert.deepEqual(await engine.service(JULIET).nodes(jid(BALCONY)), [], 'no node was created');
    await engine.service(JULIET).publish(NODE, jid(BALCONY), { payload: payload(1) });
    await rejects(engine.service(JULIET).publish(NODE, jid(BALCONY), { payload: payload(2) }, { options: { frobnicate: '1' } }), 'bad-request', 'invalid-options');
  });

  it('authorize: unsupported-access-model when creating, precondition-not-met on an existing node', async () => {
    const { engine } = setup();
    await rejects(engine.service(JULIET).publish('fresh', jid(BALCONY), { payload: payload(1) }, { options: { access_model: 'authorize' } }), 'not-acceptable', 'unsupported-access-model');
    await engine.service(JULIET).publish(NODE, jid(BALCONY), { payload: payload(1) });
    await rejects(engine.service(JULIET).publish(NODE, jid(BALCONY), { payload: payload(2) }, { options: { access_model: 'authorize' } }), 'conflict', 'precondition-not-met');
  });

  it('options are checked only after publish permission (no config leak to strangers)', async () => {
    const { engine } = setup();
    await engine.service(JULIET).publish(NODE, jid(BALCONY), { payload: payload(1) });
    await rejects(engine.service(JULIET).publish(NODE, jid(ROMEO), { payload: payload(2) }, { options: { access_model: 'open' } }), 'forbidden');
  });
});
