// The PEP nodes that everyday clients publish, sent as those clients send them (stanza shapes taken from
// the XEP examples and from Conversations', Gajim's (nbxmpp) and Dino's publishing code): OMEMO device lists
// and bundles (legacy eu.siacs.conversations.axolotl and XEP-0384 0.8+), XEP-0373 OpenPGP key nodes, XEP-0084
// avatars and XEP-0292 vCard4. Each test checks what the client relies on: the publish is accepted first
// time, the node ends up with the access model and item cap asked for, a stranger or a contact can (or
// cannot) read it, and the client's fallback (reconfigure, then publish again) works when a node already
// exists with another configuration.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import type { RawClient } from '../../helpers/raw-client.ts';
import { loginWithInterests } from '../../helpers/caps-login.ts';
import type { Element } from '../../../src/xml/index.ts';
import { NS_PUBSUB as PUBSUB, NS_PUBSUB_OWNER as OWNER, NS_PUBSUB_EVENT as EVENT, NS_PUBSUB_ERRORS as ERRORS } from '../../../src/protocol/xep0060.ts';
import { NS_STANZAS as STANZAS } from '../../../src/protocol/rfc6120.ts';
const AXOLOTL = 'eu.siacs.conversations.axolotl';
const OMEMO2 = 'urn:xmpp:omemo:2';
const OX = 'urn:xmpp:openpgp:0';

/** A publish-options form as the clients build it (type='submit', FORM_TYPE hidden). */
const publishOptions = (fields: Record<string, string>) =>
  `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#publish-options</value></field>` +
  Object.entries(fields).map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`).join('') +
  `</x></publish-options>`;

const publishIq = (node: string, item: string, options?: Record<string, string>) =>
  `<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='${node}'>${item}</publish>${options ? publishOptions(options) : ''}</pubsub></iq>`;

/**
 * What a stranger (no roster item, no affiliation) is told about a node it may not read: the same as for a node
 * that does not exist, so the answer does not reveal which nodes the owner has (docs/pep.md, "Access").
 */
const STRANGER_REFUSED = { condition: 'item-not-found', pubsub: undefined };

const b64 = (n: number) => randomBytes(n).toString('base64');

/** A legacy OMEMO bundle with `prekeys` one-time keys, as Conversations and Gajim serialise it. */
const axolotlBundle = (prekeys: number) =>
  `<bundle xmlns='${AXOLOTL}'><signedPreKeyPublic signedPreKeyId='1'>${b64(33)}</signedPreKeyPublic>` +
  `<signedPreKeySignature>${b64(64)}</signedPreKeySignature><identityKey>${b64(33)}</identityKey><prekeys>` +
  Array.from({ length: prekeys }, (_, i) => `<preKeyPublic preKeyId='${i + 1}'>${b64(33)}</preKeyPublic>`).join('') +
  `</prekeys></bundle>`;

/** An OMEMO 0.8+ bundle (XEP-0384 §5.3.2). */
const omemo2Bundle = (prekeys: number) =>
  `<bundle xmlns='${OMEMO2}'><spk id='1'>${b64(32)}</spk><spks>${b64(64)}</spks><ik>${b64(32)}</ik><prekeys>` +
  Array.from({ length: prekeys }, (_, i) => `<pk id='${i + 1}'>${b64(32)}</pk>`).join('') +
  `</prekeys></bundle>`;

function errorOf(iq: Element): { condition?: string; pubsub?: string } {
  const err = iq.getChild('error');
  if (!err) return {};
  return { condition: err.elements.find((e) => e.ns === STANZAS && e.local !== 'text')?.local, pubsub: err.elements.find((e) => e.ns === ERRORS)?.local };
}

function assertResult(iq: Element, what: string): void {
  assert.equal(iq.attrs.type, 'result', `${what}: ${iq.toString()}`);
}

const items = (iq: Element) => iq.getChild('pubsub', PUBSUB)?.getChild('items')?.getChildren('item') ?? [];

/** The node's configuration as the owner reads it (XEP-0060 §8.2), field var → value. */
async function nodeConfig(c: RawClient, node: string): Promise<Record<string, string>> {
  const r = await c.iq(`<iq type='get'><pubsub xmlns='${OWNER}'><configure node='${node}'/></pubsub></iq>`);
  assertResult(r, `configure get ${node}`);
  const form = r.getChild('pubsub', OWNER)!.getChild('configure')!.getChild('x', 'jabber:x:data')!;
  return Object.fromEntries(form.getChildren('field').map((f) => [f.attrs.var, f.getChildText('value') ?? '']));
}

describe('PEP nodes as everyday clients publish them', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  const users = ['juliet', 'romeo', 'stranger'];

  before(async () => {
    t = await startTestServer({ users: Object.fromEntries(users.map((u) => [`${u}@localhost`, 'pw'])) });
    // Juliet and Romeo share presence; the stranger is in nobody's roster.
    await t.storage.roster.putItem('juliet@localhost', { jid: 'romeo@localhost', subscription: 'both', groups: [] });
    await t.storage.roster.putItem('romeo@localhost', { jid: 'juliet@localhost', subscription: 'both', groups: [] });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t.stop();
  });

  const login = (user: string, resource: string, notify: string[] = []) => loginWithInterests(t, clients, user, resource, notify);

  it('Conversations: legacy OMEMO device list and bundle with access model open reach a stranger and a watching contact', async () => {
    const romeo = await login('romeo', 'conversations-watch', [`${AXOLOTL}.devicelist`]);
    const juliet = await login('juliet', 'conversations');
    // PublishOptions.openAccess(): access_model open, notify_delete true (Conversations 2.x).
    const open = { 'pubsub#access_model': 'open', 'pubsub#notify_delete': 'true' };
    const list = `<item id='current'><list xmlns='${AXOLOTL}'><device id='1706424129'/></list></item>`;
    assertResult(await juliet.iq(publishIq(`${AXOLOTL}.devicelist`, list, open)), 'device list');
    assertResult(await juliet.iq(publishIq(`${AXOLOTL}.bundles:1706424129`, `<item id='current'>${axolotlBundle(100)}</item>`, open)), 'bundle');

    const event = await romeo.waitStanza((el) => el.getChild('event', EVENT)?.getChild('items')?.attrs.node === `${AXOLOTL}.devicelist`);
    assert.equal(event.attrs.from, 'juliet@localhost');
    assert.equal(event.getChild('event', EVENT)!.getChild('items')!.getChild('item')!.getChild('list', AXOLOTL)!.getChild('device')!.attrs.id, '1706424129');

    // OMEMO needs the bundle readable before any subscription exists (first message to a new contact).
    const stranger = await login('stranger', 'conversations');
    const dl = await stranger.iq(`<iq type='get' to='juliet@localhost'><pubsub xmlns='${PUBSUB}'><items node='${AXOLOTL}.devicelist'/></pubsub></iq>`);
    assertResult(dl, 'stranger reads device list');
    assert.equal(items(dl)[0]!.attrs.id, 'current');
    const bundle = await stranger.iq(`<iq type='get' to='juliet@localhost'><pubsub xmlns='${PUBSUB}'><items node='${AXOLOTL}.bundles:1706424129'/></pubsub></iq>`);
    assertResult(bundle, 'stranger reads bundle');
    assert.equal(items(bundle)[0]!.getChild('bundle', AXOLOTL)!.getChild('prekeys')!.getChildren('preKeyPublic').length, 100);

    // Republishing with the same options (every reconnect does) keeps one item and succeeds again.
    assertResult(await juliet.iq(publishIq(`${AXOLOTL}.devicelist`, `<item id='current'><list xmlns='${AXOLOTL}'><device id='1706424129'/><device id='42'/></list></item>`, open)), 'republish');
    const again = await stranger.iq(`<iq type='get' to='juliet@localhost'><pubsub xmlns='${PUBSUB}'><items node='${AXOLOTL}.devicelist'/></pubsub></iq>`);
    assert.equal(items(again).length, 1);
    assert.equal(items(again)[0]!.getChild('list', AXOLOTL)!.getChildren('device').length, 2);
  });

  it('Gajim: nbxmpp publishes with persist_items and access_model; the node keeps both', async () => {
    const juliet = await login('juliet', 'gajim');
    const options = { 'pubsub#persist_items': 'true', 'pubsub#access_model': 'open' };
    assertResult(await juliet.iq(publishIq(`${AXOLOTL}.bundles:555`, `<item id='current'>${axolotlBundle(25)}</item>`, options)), 'gajim bundle');
    const config = await nodeConfig(juliet, `${AXOLOTL}.bundles:555`);
    assert.equal(config['pubsub#access_model'], 'open');
    assert.ok(['1', 'true'].includes(config['pubsub#persist_items']!), config['pubsub#persist_items']);
  });

  it('a node made by an older client without options: publish-options fail with precondition-not-met, reconfiguring then republishing works (the clients\' fallback)', async () => {
    const juliet = await login('juliet', 'old-then-new');
    const node = `${AXOLOTL}.bundles:777`;
    // An older client (Dino before publish-options) published with the PEP default access model.
    assertResult(await juliet.iq(publishIq(node, `<item id='current'>${axolotlBundle(5)}</item>`)), 'publish without options');
    assert.equal((await nodeConfig(juliet, node))['pubsub#access_model'], 'presence');

    const stranger = await login('stranger', 'fallback');
    const refused = await stranger.iq(`<iq type='get' to='juliet@localhost'><pubsub xmlns='${PUBSUB}'><items node='${node}'/></pubsub></iq>`);
    assert.deepEqual(errorOf(refused), STRANGER_REFUSED);

    // The newer client asks for open: XEP-0060 §7.1.5 says conflict with precondition-not-met.
    const open = { 'pubsub#access_model': 'open' };
    const failed = await juliet.iq(publishIq(node, `<item id='current'>${axolotlBundle(5)}</item>`, open));
    assert.equal(failed.attrs.type, 'error');
    assert.deepEqual(errorOf(failed), { condition: 'conflict', pubsub: 'precondition-not-met' });

    // Conversations' answer: fetch the node configuration, submit it with the option changed, publish again.
    assertResult(
      await juliet.iq(
        `<iq type='set'><pubsub xmlns='${OWNER}'><configure node='${node}'><x xmlns='jabber:x:data' type='submit'>` +
          `<field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#node_config</value></field>` +
          `<field var='pubsub#access_model'><value>open</value></field></x></configure></pubsub></iq>`,
      ),
      'reconfigure',
    );
    assertResult(await juliet.iq(publishIq(node, `<item id='current'>${axolotlBundle(5)}</item>`, open)), 'republish after reconfigure');
    assertResult(await stranger.iq(`<iq type='get' to='juliet@localhost'><pubsub xmlns='${PUBSUB}'><items node='${node}'/></pubsub></iq>`), 'stranger reads after reconfigure');
  });

  it('XEP-0384 0.8+: device list and a multi-item bundles node (max_items=max, open) hold one bundle per device', async () => {
    const romeo = await login('romeo', 'omemo2-watch', [`${OMEMO2}:devices`]);
    const juliet = await login('juliet', 'omemo2');
    const devices = ['31415', '12345', '4223'];
    const list = `<item id='current'><devices xmlns='${OMEMO2}'>${devices.map((d) => `<device id='${d}'/>`).join('')}</devices></item>`;
    assertResult(await juliet.iq(publishIq(`${OMEMO2}:devices`, list, { 'pubsub#access_model': 'open' })), 'devices (Example 4)');
    const notified = await romeo.waitStanza((el) => el.getChild('event', EVENT)?.getChild('items')?.attrs.node === `${OMEMO2}:devices`);
    assert.equal(notified.getChild('event', EVENT)!.getChild('items')!.getChild('item')!.getChild('devices', OMEMO2)!.getChildren('device').length, 3);

    // Example 6: each device publishes its own item, id = device id, max_items=max and access model open.
    const options = { 'pubsub#max_items': 'max', 'pubsub#access_model': 'open' };
    for (const d of devices) assertResult(await juliet.iq(publishIq(`${OMEMO2}:bundles`, `<item id='${d}'>${omemo2Bundle(100)}</item>`, options)), `bundle ${d}`);
    // A device renews its prekeys: only its own item is replaced.
    assertResult(await juliet.iq(publishIq(`${OMEMO2}:bundles`, `<item id='12345'>${omemo2Bundle(99)}</item>`, options)), 'bundle renewed');

    const stranger = await login('stranger', 'omemo2');
    const all = await stranger.iq(`<iq type='get' to='juliet@localhost'><pubsub xmlns='${PUBSUB}'><items node='${OMEMO2}:bundles'/></pubsub></iq>`);
    assertResult(all, 'stranger reads bundles');
    assert.deepEqual(items(all).map((i) => i.attrs.id).sort(), [...devices].sort());
    // The sender of a first message fetches just the bundle it needs (XEP-0384 §5.4).
    const one = await stranger.iq(`<iq type='get' to='juliet@localhost'><pubsub xmlns='${PUBSUB}'><items node='${OMEMO2}:bundles'><item id='12345'/></items></pubsub></iq>`);
    assertResult(one, 'one bundle by id');
    assert.equal(items(one).length, 1);
    assert.equal(items(one)[0]!.getChild('bundle', OMEMO2)!.getChild('prekeys')!.getChildren('pk').length, 99);

    const config = await nodeConfig(juliet, `${OMEMO2}:bundles`);
    assert.equal(config['pubsub#max_items'], 'max');
    assert.equal(config['pubsub#access_model'], 'open');
  });

  it('XEP-0384 Example 5 then 6: a bundles node made with max_items only fails the open precondition until reconfigured', async () => {
    const juliet = await login('juliet', 'omemo2-ex5');
    // Another account, so this node is new: the 0.8 spec's first example publishes with max_items only.
    await t.addUser('nurse@localhost', 'pw');
    const nurse = await login('nurse', 'omemo2-ex5');
    assertResult(await nurse.iq(publishIq(`${OMEMO2}:bundles`, `<item id='1'>${omemo2Bundle(10)}</item>`, { 'pubsub#max_items': 'max' })), 'Example 5');
    const failed = await nurse.iq(publishIq(`${OMEMO2}:bundles`, `<item id='1'>${omemo2Bundle(10)}</item>`, { 'pubsub#max_items': 'max', 'pubsub#access_model': 'open' }));
    assert.deepEqual(errorOf(failed), { condition: 'conflict', pubsub: 'precondition-not-met' });
    // Meanwhile Juliet, a stranger to the nurse, cannot read the presence-model node.
    const refused = await juliet.iq(`<iq type='get' to='nurse@localhost'><pubsub xmlns='${PUBSUB}'><items node='${OMEMO2}:bundles'/></pubsub></iq>`);
    assert.deepEqual(errorOf(refused), STRANGER_REFUSED);
    assert.equal((await nodeConfig(nurse, `${OMEMO2}:bundles`))['pubsub#access_model'], 'presence');
  });

  it('XEP-0373: public key data node, metadata node and a whitelist secret-key node', async () => {
    const romeo = await login('romeo', 'ox-watch', [`${OX}:public-keys`]);
    const juliet = await login('juliet', 'ox');
    const fpr = '1357B01865B2503C18453D208CAC2A9678548E35';
    const open = { 'pubsub#access_model': 'open' };
    // Example 2: the key under a node named by its fingerprint, item id = the publication date.
    assertResult(
      await juliet.iq(publishIq(`${OX}:public-keys:${fpr}`, `<item id='2020-01-21T10:46:21Z'><pubkey xmlns='${OX}'><data>${b64(1200)}</data></pubkey></item>`, open)),
      'public key data node',
    );
    // Example 3: the metadata item carries no id; the service makes one.
    assertResult(
      await juliet.iq(
        publishIq(`${OX}:public-keys`, `<item><public-keys-list xmlns='${OX}'><pubkey-metadata v4-fingerprint='${fpr}' date='2020-01-21T10:46:21Z'/></public-keys-list></item>`, open),
      ),
      'metadata node',
    );
    const event = await romeo.waitStanza((el) => el.getChild('event', EVENT)?.getChild('items')?.attrs.node === `${OX}:public-keys`);
    assert.equal(event.getChild('event', EVENT)!.getChild('items')!.getChild('item')!.getChild('public-keys-list', OX)!.getChild('pubkey-metadata')!.attrs['v4-fingerprint'], fpr);

    const stranger = await login('stranger', 'ox');
    const meta = await stranger.iq(`<iq type='get' to='juliet@localhost'><pubsub xmlns='${PUBSUB}'><items node='${OX}:public-keys' max_items='1'/></pubsub></iq>`);
    assertResult(meta, 'stranger reads metadata');
    assert.ok(items(meta)[0]!.attrs.id, 'the service assigned an item id');
    const key = await stranger.iq(`<iq type='get' to='juliet@localhost'><pubsub xmlns='${PUBSUB}'><items node='${OX}:public-keys:${fpr}' max_items='1'/></pubsub></iq>`);
    assertResult(key, 'stranger reads key');
    assert.equal(items(key)[0]!.attrs.id, '2020-01-21T10:46:21Z');

    // §5.4: the secret key backup lives in a whitelist node created with its configuration.
    assertResult(
      await juliet.iq(
        `<iq type='set'><pubsub xmlns='${PUBSUB}'><create node='${OX}:secret-key'/><configure><x xmlns='jabber:x:data' type='submit'>` +
          `<field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#node_config</value></field>` +
          `<field var='pubsub#access_model'><value>whitelist</value></field>` +
          `<field var='pubsub#send_last_published_item'><value>on_sub</value></field></x></configure></pubsub></iq>`,
      ),
      'create secret-key node',
    );
    assertResult(await juliet.iq(publishIq(`${OX}:secret-key`, `<item><secretkey xmlns='${OX}'>${b64(2000)}</secretkey></item>`)), 'publish secret key');
    const own = await juliet.iq(`<iq type='get'><pubsub xmlns='${PUBSUB}'><items node='${OX}:secret-key' max_items='1'/></pubsub></iq>`);
    assertResult(own, 'owner reads own secret key');
    assert.equal(items(own).length, 1);
    // Even a contact with a mutual subscription is refused: whitelist means only the owner.
    const denied = await romeo.iq(`<iq type='get' to='juliet@localhost'><pubsub xmlns='${PUBSUB}'><items node='${OX}:secret-key'/></pubsub></iq>`);
    assert.deepEqual(errorOf(denied), { condition: 'not-allowed', pubsub: 'closed-node' });
  });

  it('XEP-0084: avatar data then metadata, item id = SHA-1 of the image, readable as the access model says', async () => {
    const romeo = await login('romeo', 'avatar-watch', ['urn:xmpp:avatar:metadata']);
    const juliet = await login('juliet', 'avatar');
    // A 24 KiB PNG-sized image: the base64 payload alone is 32 KiB, well within a default server's limits.
    const image = randomBytes(24 * 1024);
    const sha1 = createHash('sha1').update(image).digest('hex');
    // Gajim's default: persist_items and access model presence (contacts only).
    const presence = { 'pubsub#persist_items': 'true', 'pubsub#access_model': 'presence' };
    assertResult(await juliet.iq(publishIq('urn:xmpp:avatar:data', `<item id='${sha1}'><data xmlns='urn:xmpp:avatar:data'>${image.toString('base64')}</data></item>`, presence)), 'avatar data');
    assertResult(
      await juliet.iq(
        publishIq('urn:xmpp:avatar:metadata', `<item id='${sha1}'><metadata xmlns='urn:xmpp:avatar:metadata'><info bytes='${image.length}' id='${sha1}' height='64' width='64' type='image/png'/></metadata></item>`, presence),
      ),
      'avatar metadata',
    );
    const event = await romeo.waitStanza((el) => el.getChild('event', EVENT)?.getChild('items')?.attrs.node === 'urn:xmpp:avatar:metadata');
    assert.equal(event.getChild('event', EVENT)!.getChild('items')!.getChild('item')!.attrs.id, sha1);
    // Romeo fetches the image by the id the metadata names (Conversations' retrievePepAvatar).
    const data = await romeo.iq(`<iq type='get' to='juliet@localhost'><pubsub xmlns='${PUBSUB}'><items node='urn:xmpp:avatar:data'><item id='${sha1}'/></items></pubsub></iq>`);
    assertResult(data, 'contact reads avatar');
    assert.equal(createHash('sha1').update(Buffer.from(items(data)[0]!.getChildText('data', 'urn:xmpp:avatar:data')!, 'base64')).digest('hex'), sha1);

    const stranger = await login('stranger', 'avatar');
    const refused = await stranger.iq(`<iq type='get' to='juliet@localhost'><pubsub xmlns='${PUBSUB}'><items node='urn:xmpp:avatar:metadata'/></pubsub></iq>`);
    assert.deepEqual(errorOf(refused), STRANGER_REFUSED);

    // Conversations publishes the same nodes with access model open: the precondition differs, so it
    // reconfigures; after that the stranger can see the avatar too.
    const open = { 'pubsub#access_model': 'open' };
    const failed = await juliet.iq(publishIq('urn:xmpp:avatar:metadata', `<item id='${sha1}'><metadata xmlns='urn:xmpp:avatar:metadata'/></item>`, open));
    assert.deepEqual(errorOf(failed), { condition: 'conflict', pubsub: 'precondition-not-met' });
  });

  it('XEP-0292: vCard4 under urn:xmpp:vcard4, item current, readable by contacts only with access model presence', async () => {
    const juliet = await login('juliet', 'vcard4');
    const vcard =
      `<item id='current'><vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><fn><text>Juliet Capulet</text></fn>` +
      `<nickname><text>J</text></nickname><impp><uri>xmpp:juliet@localhost</uri></impp></vcard></item>`;
    assertResult(await juliet.iq(publishIq('urn:xmpp:vcard4', vcard, { 'pubsub#persist_items': 'true', 'pubsub#access_model': 'presence' })), 'vcard4');
    const romeo = await login('romeo', 'vcard4');
    const got = await romeo.iq(`<iq type='get' to='juliet@localhost'><pubsub xmlns='${PUBSUB}'><items node='urn:xmpp:vcard4' max_items='1'/></pubsub></iq>`);
    assertResult(got, 'contact reads vcard4');
    assert.equal(items(got)[0]!.getChild('vcard', 'urn:ietf:params:xml:ns:vcard-4.0')!.getChild('fn')!.getChildText('text'), 'Juliet Capulet');
    const stranger = await login('stranger', 'vcard4');
    const refused = await stranger.iq(`<iq type='get' to='juliet@localhost'><pubsub xmlns='${PUBSUB}'><items node='urn:xmpp:vcard4'/></pubsub></iq>`);
    assert.deepEqual(errorOf(refused), STRANGER_REFUSED);
  });
});
