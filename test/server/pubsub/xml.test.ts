import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml, type Element } from '../../../src/xml/index.ts';
import { buildEventElement, handlePubsubIq, parsePubsubRequest, runPubsubRequest, serializePayload } from '../../../src/server/pubsub/xml.ts';
import { StanzaError } from '../../../src/protocol/rfc6120.ts';
import { errors, PubsubError } from '../../../src/server/pubsub/errors.ts';
import { PUBSUB_FEATURES } from '../../../src/server/pubsub/features.ts';
import type { PubsubEngine } from '../../../src/server/pubsub/engine.ts';
import { BALCONY, BENVOLIO, jid, JULIET, MERCUTIO, payload, ROMEO, setup } from './helpers.ts';

const PS = 'http://jabber.org/protocol/pubsub';
const OWNER = 'http://jabber.org/protocol/pubsub#owner';

// XEP-0222 §1.2 "Publishing a key", verbatim.
const XEP0222_PUBLISH = `<iq from='juliet@capulet.lit/balcony' type='set' id='pub1'>
  <pubsub xmlns='http://jabber.org/protocol/pubsub'>
    <publish node='urn:xmpp:tmp:pubkey'>
      <item id='julietRSAkey1hash'>
        <key xmlns='urn:xmpp:tmp:pubkey'>
          <x509cert>
            der-encoded-cert
          </x509cert>
        </key>
      </item>
    </publish>
    <publish-options>
      <x xmlns='jabber:x:data' type='submit'>
        <field var='FORM_TYPE' type='hidden'>
          <value>http://jabber.org/protocol/pubsub#publish-options</value>
        </field>
        <field var='pubsub#persist_items'>
          <value>true</value>
        </field>
        <field var='pubsub#send_last_published_item'>
          <value>never</value>
        </field>
        <field var='pubsub#access_model'>
          <value>roster</value>
        </field>
        <field var='pubsub#roster_groups_allowed'>
          <value>Friends</value>
        </field>
      </x>
    </publish-options>
  </pubsub>
</iq>`;

const KEY = `<key xmlns="urn:xmpp:tmp:pubkey">
          <x509cert>
            der-encoded-cert
          </x509cert>
        </key>`;

function iq(type: 'get' | 'set', inner: string, ns = PS): Element {
  return parseXml(`<iq type='${type}' id='x'><pubsub xmlns='${ns}'>${inner}</pubsub></iq>`);
}

function run(engine: PubsubEngine, requester: string, el: Element) {
  return handlePubsubIq(engine, { stanza: el, from: jid(requester), to: jid(JULIET) });
}

/** The <error/> the router would answer with: the thrown error serialised once, by itself. */
async function fails(engine: PubsubEngine, requester: string, el: Element): Promise<string> {
  try {
    await run(engine, requester, el);
  } catch (e) {
    assert.ok(e instanceof PubsubError, String(e));
    return e.toElement().toString();
  }
  return assert.fail('expected an error');
}

/** The XEP-0086 legacy codes the conditions below carry (src/protocol/xep0086.ts). */
const LEGACY: Record<string, string> = { conflict: '409', 'not-authorized': '401', 'item-not-found': '404', forbidden: '403', 'bad-request': '400', 'not-acceptable': '406', 'not-allowed': '405', 'unexpected-request': '400', 'feature-not-implemented': '501' };

const err = (type: string, cond: string, pubsub?: string, text?: string) =>
  `<error code="${LEGACY[cond]}" type="${type}"><${cond} xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>` +
  (text ? `<text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">${text}</text>` : '') +
  (pubsub ? `<${pubsub} xmlns="http://jabber.org/protocol/pubsub#errors"/>` : '') + '</error>';

describe('parsePubsubRequest', () => {
  it('XEP-0222 publish with publish-options (FORM_TYPE, list-multi groups)', () => {
    const parsed = parsePubsubRequest(parseXml(XEP0222_PUBLISH));
    assert.deepEqual(parsed, {
      kind: 'publish',
      node: 'urn:xmpp:tmp:pubkey',
      item: { id: 'julietRSAkey1hash', payload: KEY },
      options: { persist_items: 'true', send_last_published_item: 'never', access_model: 'roster', roster_groups_allowed: ['Friends'] },
    });
  });

  it('payloads carry the namespaces they inherit', () => {
    const el = parseXml(`<iq type='set' xmlns='jabber:client'><pubsub xmlns='${PS}' xmlns:k='urn:k'><publish node='n'><item><k:key a='1'><k:v/></k:key></item></publish></pubsub></iq>`);
    const req = parsePubsubRequest(el);
    assert.equal(req.kind === 'publish' && req.item?.payload, '<k:key xmlns:k="urn:k" a="1"><k:v/></k:key>');
    const plain = parsePubsubRequest(iq('set', `<publish node='n'><item><foo><bar/></foo></item></publish>`));
    assert.equal(plain.kind === 'publish' && plain.item?.payload, `<foo xmlns="${PS}"><bar/></foo>`);
    assert.equal(serializePayload(parseXml(`<a xmlns='urn:a'><b/></a>`)), '<a xmlns="urn:a"><b/></a>');
  });

  it('retract, items (ids, max_items, RSM), subscribe, unsubscribe, entity lists, create+configure', () => {
    assert.deepEqual(parsePubsubRequest(iq('set', `<retract node='n' notify='1'><item id='a'/></retract>`)), { kind: 'retract', node: 'n', id: 'a', notify: true });
    assert.deepEqual(parsePubsubRequest(iq('get', `<items node='n' max_items='2'/><set xmlns='http://jabber.org/protocol/rsm'><max>1</max><before/></set>`)),
      { kind: 'items', node: 'n', max: 2, rsm: { max: 1, before: '' } });
    assert.deepEqual(parsePubsubRequest(iq('get', `<items node='n'><item id='a'/><item id='b'/></items>`)), { kind: 'items', node: 'n', ids: ['a', 'b'] });
    assert.deepEqual(parsePubsubRequest(iq('set', `<subscribe node='n' jid='a@b'/>`)), { kind: 'subscribe', node: 'n', jid: 'a@b' });
    assert.deepEqual(parsePubsubRequest(iq('set', `<unsubscribe node='n' jid='a@b'/>`)), { kind: 'unsubscribe', node: 'n', jid: 'a@b' });
    assert.deepEqual(parsePubsubRequest(iq('get', `<subscriptions/>`)), { kind: 'subscriptions' });
    assert.deepEqual(parsePubsubRequest(iq('get', `<affiliations node='n'/>`)), { kind: 'affiliations', node: 'n' });
    assert.deepEqual(parsePubsubRequest(iq('set', `<create node='n'/><configure><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field><field var='pubsub#access_model'><value>whitelist</value></field></x></configure>`)),
      { kind: 'create', node: 'n', config: { access_model: 'whitelist' } });
    assert.deepEqual(parsePubsubRequest(iq('set', `<create/>`)), { kind: 'create' });
  });

  it('owner requests', () => {
    assert.deepEqual(parsePubsubRequest(iq('get', `<configure node='n'/>`, OWNER)), { kind: 'configure-get', node: 'n' });
    assert.deepEqual(parsePubsubRequest(iq('set', `<configure node='n'><x xmlns='jabber:x:data' type='cancel'/></configure>`, OWNER)), { kind: 'configure-set', node: 'n', config: undefined });
    assert.deepEqual(parsePubsubRequest(iq('get', `<default/>`, OWNER)), { kind: 'default' });
    assert.deepEqual(parsePubsubRequest(iq('set', `<delete node='n'><redirect uri='xmpp:a@b?;node=c'/></delete>`, OWNER)), { kind: 'delete', node: 'n', redirect: 'xmpp:a@b?;node=c' });
    assert.deepEqual(parsePubsubRequest(iq('set', `<purge node='n'/>`, OWNER)), { kind: 'purge', node: 'n' });
    assert.deepEqual(parsePubsubRequest(iq('set', `<affiliations node='n'><affiliation jid='a@b' affiliation='member'/></affiliations>`, OWNER)),
      { kind: 'owner-affiliations-set', node: 'n', affiliations: [{ jid: 'a@b', affiliation: 'member' }] });
    assert.deepEqual(parsePubsubRequest(iq('set', `<subscriptions node='n'><subscription jid='a@b' subscription='none'/><subscription jid='c@d'/></subscriptions>`, OWNER)),
      { kind: 'owner-subscriptions-set', node: 'n', subscriptions: [{ jid: 'a@b', subscription: 'none' }] });
  });

  it('malformed requests map to XEP-0060 errors', () => {
    const cond = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        const p = e as PubsubError;
        return [p.condition, p.pubsubCondition, p.feature];
      }
      assert.fail('expected an error');
    };
    // §7.2.3.3 / §7.2.3.4
    assert.deepEqual(cond(() => parsePubsubRequest(iq('set', `<retract><item id='a'/></retract>`))), ['bad-request', 'nodeid-required', undefined]);
    assert.deepEqual(cond(() => parsePubsubRequest(iq('set', `<retract node='n'/>`))), ['bad-request', 'item-required', undefined]);
    // §7.1.3.5
    assert.deepEqual(cond(() => parsePubsubRequest(iq('set', `<publish node='n'><item><a xmlns='x'/><b xmlns='x'/></item></publish>`))), ['bad-request', 'invalid-payload', undefined]);
    // §7.1.5: unknown field; wrong FORM_TYPE; non-pubsub field.
    const po = (fields: string) => iq('set', `<publish node='n'><item><a xmlns='x'/></item></publish><publish-options><x xmlns='jabber:x:data' type='submit'>${fields}</x></publish-options>`);
    assert.deepEqual(cond(() => parsePubsubRequest(po(`<field var='FORM_TYPE'><value>urn:other</value></field>`))), ['bad-request', 'invalid-options', undefined]);
    assert.deepEqual(cond(() => parsePubsubRequest(po(`<field var='muc#roomconfig_x'><value>1</value></field>`))), ['bad-request', 'invalid-options', undefined]);
    // §8.1.3
    assert.deepEqual(cond(() => parsePubsubRequest(iq('set', `<create node='n'/><configure node='n'/>`))), ['bad-request', undefined, undefined]);
    // §8.2.5.2
    assert.deepEqual(cond(() => parsePubsubRequest(iq('set', `<configure node='n'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:x</value></field></x></configure>`, OWNER))), ['not-acceptable', undefined, undefined]);
    // Not implemented: subscription options (§6.3).
    assert.deepEqual(cond(() => parsePubsubRequest(iq('get', `<options node='n' jid='a@b'/>`))), ['feature-not-implemented', 'unsupported', 'subscription-options']);
    assert.deepEqual(cond(() => parsePubsubRequest(iq('set', `<subscribe node='n'/>`))), ['bad-request', 'jid-required', undefined]);
    assert.deepEqual(cond(() => parsePubsubRequest(iq('get', `<publish node='n'/>`))), ['bad-request', undefined, undefined]);
    assert.deepEqual(cond(() => parsePubsubRequest(iq('set', `<publish node='n'/><retract node='n'><item id='a'/></retract>`))), ['bad-request', undefined, undefined]);
  });
});

describe('executing requests: results and notifications', () => {
  it('XEP-0222: publish result names the item; the notification matches §1.2', async () => {
    const { engine } = setup();
    const r = await run(engine, BALCONY, parseXml(XEP0222_PUBLISH));
    assert.equal(r.payload?.toString(), `<pubsub xmlns="${PS}"><publish node="urn:xmpp:tmp:pubkey"><item id="julietRSAkey1hash"/></publish></pubsub>`);
    assert.equal(r.events.length, 1);
    assert.equal(buildEventElement(r.events[0]).toString(),
      `<event xmlns="http://jabber.org/protocol/pubsub#event"><items node="urn:xmpp:tmp:pubkey"><item id="julietRSAkey1hash">${KEY}</item></items></event>`);
    // Only Romeo (Friends) among Juliet's contacts, and Juliet herself.
    const allowed = [];
    for (const who of [ROMEO, 'nurse@capulet.lit', 'benvolio@montague.lit', JULIET]) {
      if (await engine.mayReceiveEvent(r.events[0], who)) allowed.push(who);
    }
    assert.deepEqual(allowed, [ROMEO, JULIET]);
    // Republishing with the same options meets the preconditions.
    await run(engine, BALCONY, parseXml(XEP0222_PUBLISH));
  });

  it('items result with item payloads, publisher when exposed, and the RSM set', async () => {
    const { engine } = setup();
    for (let i = 1; i <= 3; i++) await engine.service(JULIET).publish('n', jid(BALCONY), { id: `i${i}`, payload: payload(i) }, { options: { itemreply: 'publisher' } });
    const r = await run(engine, ROMEO, iq('get', `<items node='n'/><set xmlns='http://jabber.org/protocol/rsm'><max>2</max></set>`));
    assert.equal(r.payload?.toString(),
      `<pubsub xmlns="${PS}"><items node="n">` +
      `<item id="i3" publisher="${BALCONY}">${payload(3)}</item><item id="i2" publisher="${BALCONY}">${payload(2)}</item></items>` +
      `<set xmlns="http://jabber.org/protocol/rsm"><first index="0">i3</first><last>i2</last><count>3</count></set></pubsub>`);
    const empty = await run(engine, ROMEO, iq('get', `<items node='n'><item id='zz'/></items>`));
    // §6.5.9.12: no such items → empty <items/>.
    assert.equal(empty.payload?.toString(), `<pubsub xmlns="${PS}"><items node="n"/></pubsub>`);
  });

  it('retract and purge notifications; delete with redirect', async () => {
    const { engine } = setup();
    await engine.service(JULIET).publish('n', jid(BALCONY), { id: 'a', payload: payload(1) });
    const rt = await run(engine, BALCONY, iq('set', `<retract node='n' notify='true'><item id='a'/></retract>`));
    assert.equal(rt.payload, undefined);
    assert.equal(buildEventElement(rt.events[0]).toString(), `<event xmlns="http://jabber.org/protocol/pubsub#event"><items node="n"><retract id="a"/></items></event>`);
    const pg = await run(engine, BALCONY, iq('set', `<purge node='n'/>`, OWNER));
    assert.equal(buildEventElement(pg.events[0]).toString(), `<event xmlns="http://jabber.org/protocol/pubsub#event"><purge node="n"/></event>`);
    const del = await run(engine, BALCONY, iq('set', `<delete node='n'><redirect uri='xmpp:juliet@capulet.lit?;node=m'/></delete>`, OWNER));
    assert.equal(buildEventElement(del.events[0]).toString(),
      `<event xmlns="http://jabber.org/protocol/pubsub#event"><delete node="n"><redirect uri="xmpp:juliet@capulet.lit?;node=m"/></delete></event>`);
  });

  it('configure get/set, default, configuration notification with the form', async () => {
    const { engine } = setup();
    const created = await run(engine, BALCONY, iq('set', `<create node='n'/><configure><x xmlns='jabber:x:data' type='submit'><field var='pubsub#notify_config'><value>1</value></field></x></configure>`));
    assert.equal(created.payload?.toString(), `<pubsub xmlns="${PS}"><create node="n"/></pubsub>`);
    const get = await run(engine, BALCONY, iq('get', `<configure node='n'/>`, OWNER));
    const form = get.payload?.getChild('configure', OWNER)?.getChild('x', 'jabber:x:data');
    assert.ok(form);
    assert.equal(form.attrs.type, 'form');
    const fields = form.getChildren('field', 'jabber:x:data');
    assert.deepEqual(fields[0].attrs, { var: 'FORM_TYPE', type: 'hidden' });
    assert.equal(fields[0].getChildText('value'), 'http://jabber.org/protocol/pubsub#node_config');
    const access = fields.find((f) => f.attrs.var === 'pubsub#access_model');
    assert.equal(access?.attrs.type, 'list-single');
    assert.equal(access?.getChildText('value'), 'presence');
    assert.deepEqual(access?.getChildren('option').map((o) => o.getChildText('value')), ['open', 'presence', 'roster', 'whitelist']);
    assert.equal(fields.find((f) => f.attrs.var === 'pubsub#roster_groups_allowed')?.attrs.type, 'list-multi');

    const set = await run(engine, BALCONY, iq('set', `<configure node='n'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field><field var='pubsub#access_model'><value>roster</value></field><field var='pubsub#roster_groups_allowed'><value>Friends</value><value>Family</value></field></x></configure>`, OWNER));
    assert.equal(set.payload, undefined);
    const ev = buildEventElement(set.events[0]);
    const evForm = ev.getChild('configuration')?.getChild('x', 'jabber:x:data');
    assert.equal(evForm?.attrs.type, 'result');
    assert.deepEqual(evForm?.getChildren('field').find((f) => f.attrs.var === 'pubsub#roster_groups_allowed')?.getChildren('value').map((v) => v.text()), ['Family', 'Friends']);
    const cancel = await run(engine, BALCONY, iq('set', `<configure node='n'><x xmlns='jabber:x:data' type='cancel'/></configure>`, OWNER));
    assert.equal(cancel.events.length, 0);
    const def = await run(engine, ROMEO, iq('get', `<default/>`, OWNER));
    assert.ok(def.payload?.getChild('default', OWNER)?.getChild('x', 'jabber:x:data'));
  });

  it('subscriptions and affiliations, entity and owner views', async () => {
    const { engine } = setup();
    await engine.service(JULIET).publish('n', jid(BALCONY), { id: 'a', payload: payload(1) }, { options: { access_model: 'open' } });
    const sub = await run(engine, `${BENVOLIO}/x`, iq('set', `<subscribe node='n' jid='${BENVOLIO}/x'/>`));
    assert.equal(sub.payload?.toString(), `<pubsub xmlns="${PS}"><subscription node="n" jid="${BENVOLIO}/x" subscription="subscribed"/></pubsub>`);
    assert.equal(sub.sendLast?.to, `${BENVOLIO}/x`);
    assert.deepEqual(sub.sendLast?.event.items.map((i) => i.id), ['a']);
    const mine = await run(engine, BENVOLIO, iq('get', `<subscriptions/>`));
    assert.equal(mine.payload?.toString(), `<pubsub xmlns="${PS}"><subscriptions><subscription node="n" jid="${BENVOLIO}/x" subscription="subscribed"/></subscriptions></pubsub>`);
    const ownerSubs = await run(engine, BALCONY, iq('get', `<subscriptions node='n'/>`, OWNER));
    assert.equal(ownerSubs.payload?.toString(), `<pubsub xmlns="${OWNER}"><subscriptions node="n"><subscription jid="${BENVOLIO}/x" subscription="subscribed"/></subscriptions></pubsub>`);
    await run(engine, BALCONY, iq('set', `<affiliations node='n'><affiliation jid='${ROMEO}' affiliation='publisher'/></affiliations>`, OWNER));
    const affs = await run(engine, BALCONY, iq('get', `<affiliations node='n'/>`, OWNER));
    assert.equal(affs.payload?.toString(), `<pubsub xmlns="${OWNER}"><affiliations node="n"><affiliation jid="${JULIET}" affiliation="owner"/><affiliation jid="${ROMEO}" affiliation="publisher"/></affiliations></pubsub>`);
    const romeo = await run(engine, ROMEO, iq('get', `<affiliations/>`));
    assert.equal(romeo.payload?.toString(), `<pubsub xmlns="${PS}"><affiliations><affiliation node="n" affiliation="publisher"/></affiliations></pubsub>`);
    const un = await run(engine, `${BENVOLIO}/x`, iq('set', `<unsubscribe node='n' jid='${BENVOLIO}/x'/>`));
    assert.equal(un.payload, undefined);
  });

  it('runPubsubRequest can be driven with parsed requests directly', async () => {
    const { engine } = setup();
    const r = await runPubsubRequest(engine, { from: jid(BALCONY), to: jid(JULIET) }, { kind: 'create' });
    assert.equal(r.payload?.toString(), `<pubsub xmlns="${PS}"><create node="gen1"/></pubsub>`);
  });
});

describe('error XML (XEP-0060 error examples)', () => {
  it('builds <error/> with stanza and pubsub conditions', async () => {
    const { engine } = setup();
    await engine.service(JULIET).publish('n', jid(BALCONY), { id: 'a', payload: payload(1) });
    // §7.1.5 precondition-not-met
    const x0222 = parseXml(XEP0222_PUBLISH.replace(/urn:xmpp:tmp:pubkey'>\n {6}<item/, "n'>\n      <item"));
    assert.equal(await fails(engine, BALCONY, x0222), err('cancel', 'conflict', 'precondition-not-met', 'pubsub#send_last_published_item'));
    // §6.5.9.7 presence subscription required (told to a contact; a stranger would get item-not-found)
    assert.equal(await fails(engine, MERCUTIO, iq('get', `<items node='n'/>`)), err('auth', 'not-authorized', 'presence-subscription-required'));
    // §6.5.9.11 node does not exist
    assert.equal(await fails(engine, ROMEO, iq('get', `<items node='zz'/>`)), err('cancel', 'item-not-found'));
    // §7.1.3.1 forbidden
    assert.equal(await fails(engine, ROMEO, iq('set', `<publish node='n'><item><a xmlns='x'/></item></publish>`)), err('auth', 'forbidden', undefined, 'not a publisher'));
    // §6.1.3.1 invalid-jid
    assert.equal(await fails(engine, ROMEO, iq('set', `<subscribe node='n' jid='${BENVOLIO}'/>`)), err('modify', 'bad-request', 'invalid-jid'));
  });

  it('a PubsubError is a StanzaError: <unsupported/> carries its feature; types follow the XEP-0060 examples', () => {
    const e = errors.unsupported('persistent-items');
    assert.ok(e instanceof StanzaError);
    assert.equal(e.toElement().toString(),
      '<error code="501" type="cancel"><feature-not-implemented xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><unsupported xmlns="http://jabber.org/protocol/pubsub#errors" feature="persistent-items"/></error>');
    assert.equal(e.message, 'feature-not-implemented/unsupported(persistent-items)');
    assert.equal(errors.payloadTooBig().toElement().toString(), err('modify', 'not-acceptable', 'payload-too-big'));
    assert.equal(errors.closedNode().toElement().toString(), err('cancel', 'not-allowed', 'closed-node'));
    assert.equal(errors.notInRosterGroup().toElement().toString(), err('auth', 'not-authorized', 'not-in-roster-group'));
    assert.equal(errors.notSubscribed().toElement().toString(), err('cancel', 'unexpected-request', 'not-subscribed'));
  });

  it('handlePubsubIq lets what is not a PubsubError through', async () => {
    const { engine } = setup();
    const broken = Object.create(engine) as PubsubEngine;
    broken.service = (j) => {
      const service = engine.service(j);
      service.items = async () => {
        throw new Error('disk on fire');
      };
      return service;
    };
    await assert.rejects(run(broken, ROMEO, iq('get', `<items node='n'/>`)), /disk on fire/);
    assert.ok(new PubsubError('bad-request') instanceof Error);
  });
});

describe('PUBSUB_FEATURES', () => {
  it('advertises what is implemented and nothing else', () => {
    const f = new Set(PUBSUB_FEATURES);
    for (const name of ['publish', 'publish-options', 'auto-create', 'persistent-items', 'retrieve-items', 'rsm', 'access-presence', 'multi-items']) {
      assert.ok(f.has(`${PS}#${name}`), name);
    }
    for (const name of ['access-authorize', 'subscription-options', 'auto-subscribe', 'last-published', 'filtered-notifications', 'collections', 'meta-data', 'multi-subscribe', 'get-pending']) {
      assert.equal(f.has(`${PS}#${name}`), false, name);
    }
    assert.ok(PUBSUB_FEATURES.every((x) => x.startsWith(`${PS}#`)));
  });
});
