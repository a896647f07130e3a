// Issue 20: the publish-options form real clients send with every publish is parsed once per distinct form
// and checked once per node configuration. These tests pin what must not change with the caches: a form
// differing in any value is a different form, a reconfigured node is checked afresh, and bad forms are
// refused every time.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml, type Element } from '../../../src/xml/index.ts';
import { handlePubsubIq, parsePubsubRequest } from '../../../src/server/pubsub/xml.ts';
import { formKey } from '../../../src/server/pubsub/options-form-xml.ts';
import { PubsubError } from '../../../src/server/pubsub/errors.ts';
import type { PubsubEngine } from '../../../src/server/pubsub/engine.ts';
import { BALCONY, jid, JULIET, setup } from './helpers.ts';

const PS = 'http://jabber.org/protocol/pubsub';
const NODE = 'urn:xmpp:pubkey:1';

const form = (fields: Record<string, string>, extra = '') =>
  `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PS}#publish-options</value></field>` +
  Object.entries(fields).map(([k, v]) => `<field var='pubsub#${k}'><value>${v}</value></field>`).join('') + `${extra}</x>`;

const publish = (id: string, fields: Record<string, string>, extra = '') =>
  parseXml(`<iq type='set' id='${id}'><pubsub xmlns='${PS}'><publish node='${NODE}'><item id='${id}'><pubkey xmlns='urn:xmpp:pubkey:1'><key>AAAA</key></pubkey></item></publish><publish-options>${form(fields, extra)}</publish-options></pubsub></iq>`);

const formOf = (iq: Element) => iq.getChild('pubsub', PS)!.getChild('publish-options', PS)!.getChild('x', 'jabber:x:data')!;

async function condition(engine: PubsubEngine, el: Element): Promise<string> {
  try {
    await handlePubsubIq(engine, { stanza: el, from: jid(BALCONY), to: jid(JULIET) });
  } catch (e) {
    assert.ok(e instanceof PubsubError, String(e));
    return `${e.condition}/${e.pubsubCondition ?? ''}`;
  }
  return 'ok';
}

const KEYS = { persist_items: 'true', access_model: 'presence', send_last_published_item: 'on_sub_and_presence', max_items: '10' };

describe('publish-options caches (issue 20)', () => {
  it('the form key covers every value, var and type, and forms with anything else get none', () => {
    const a = formKey(formOf(publish('a', KEYS)));
    assert.ok(a);
    assert.equal(formKey(formOf(publish('b', KEYS))), a, 'the same form in another publish');
    assert.notEqual(formKey(formOf(publish('c', { ...KEYS, max_items: '11' }))), a);
    assert.notEqual(formKey(formOf(publish('d', { ...KEYS, access_model: 'open' }))), a);
    assert.notEqual(formKey(formOf(publish('e', { ...KEYS, access_modelx: 'presence' }))), a);
    assert.equal(formKey(formOf(publish('f', KEYS, `<field var='pubsub#title' label='T'><value>t</value></field>`))), undefined);
    assert.equal(formKey(formOf(publish('g', KEYS, `<title>t</title>`))), undefined);
  });

  it('the same form on every publish: the options of the first create the node, the rest are met', async () => {
    const { engine } = setup();
    for (let i = 0; i < 5; i++) assert.equal(await condition(engine, publish(`k${i}`, KEYS)), 'ok');
    const config = await engine.service(JULIET).configuration(NODE, jid(BALCONY));
    assert.equal(config.max_items, '10');
    assert.equal(config.access_model, 'presence');
  });

  it('a reconfigured node is checked afresh: the form that was met is now precondition-not-met', async () => {
    const { engine } = setup();
    assert.equal(await condition(engine, publish('k1', KEYS)), 'ok');
    assert.equal(await condition(engine, publish('k2', KEYS)), 'ok');
    await engine.service(JULIET).configure(NODE, jid(BALCONY), { access_model: 'open' });
    assert.equal(await condition(engine, publish('k3', KEYS)), 'conflict/precondition-not-met');
    assert.equal(await condition(engine, publish('k4', { ...KEYS, access_model: 'open' })), 'ok');
    await engine.service(JULIET).configure(NODE, jid(BALCONY), { access_model: 'presence' });
    assert.equal(await condition(engine, publish('k5', KEYS)), 'ok');
  });

  it('a bad form is refused on every publish, not only the first', async () => {
    const { engine } = setup();
    assert.equal(await condition(engine, publish('k1', KEYS)), 'ok');
    for (let i = 0; i < 3; i++) assert.equal(await condition(engine, publish(`u${i}`, { ...KEYS, frob: 'x' })), 'bad-request/invalid-options');
    for (let i = 0; i < 3; i++) assert.equal(await condition(engine, publish(`m${i}`, { ...KEYS, max_items: 'lots' })), 'bad-request/invalid-options');
  });

  it('the cached options are shared read-only: the parsed request cannot be changed by a caller', () => {
    const a = parsePubsubRequest(publish('a', KEYS));
    const b = parsePubsubRequest(publish('b', KEYS));
    assert.equal(a.kind, 'publish');
    if (a.kind !== 'publish' || b.kind !== 'publish') return;
    assert.equal(a.options, b.options);
    assert.ok(Object.isFrozen(a.options));
  });
});
