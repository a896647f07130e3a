// Issue 19, finding 12: no node-existence or access-model oracle for strangers. An entity with no relationship
// to the owner (not in the owner's roster, no affiliation) gets, for every pubsub operation on a node it may
// not read, exactly the bytes it gets for a node that does not exist (item-not-found). Contacts and affiliated
// entities are still told why (XEP-0060 §6.5.9; access-matrix.test.ts pins those answers), and a node the
// stranger may read (open) is answered as usual.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { RawClient } from '../../helpers/raw-client.ts';

import { NS_PUBSUB as PUBSUB, NS_PUBSUB_OWNER as OWNER_NS, NS_PUBSUB_ERRORS as ERRORS } from '../../../src/protocol/xep0060.ts';
import { NS_DISCO_INFO as DISCO_INFO, NS_DISCO_ITEMS as DISCO_ITEMS } from '../../../src/protocol/xep0030.ts';

const OWNER = 'owner@localhost';
const RESTRICTED = ['presence', 'roster', 'whitelist'] as const;
const node = (m: string) => `urn:test:oracle:${m}`;
const ABSENT = node('absent');

const form = (type: string, fields: Record<string, string>) =>
  `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#${type}</value></field>` +
  Object.entries(fields).map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`).join('') + `</x>`;

/** Every pubsub operation that names a node, as [name, IQ type, namespace, element] for node N and requester J. */
const OPERATIONS: [string, 'get' | 'set', string, (n: string, j: string) => string][] = [
  ['items', 'get', PUBSUB, (n) => `<items node='${n}'/>`],
  ['items by id', 'get', PUBSUB, (n) => `<items node='${n}'><item id='current'/></items>`],
  ['items max', 'get', PUBSUB, (n) => `<items node='${n}' max_items='1'/>`],
  ['subscribe', 'set', PUBSUB, (n, j) => `<subscribe node='${n}' jid='${j}'/>`],
  ['unsubscribe', 'set', PUBSUB, (n, j) => `<unsubscribe node='${n}' jid='${j}'/>`],
  ['subscriptions', 'get', PUBSUB, (n) => `<subscriptions node='${n}'/>`],
  ['affiliations', 'get', PUBSUB, (n) => `<affiliations node='${n}'/>`],
  ['publish', 'set', PUBSUB, (n) => `<publish node='${n}'><item id='x'><v xmlns='urn:test:oracle'/></item></publish>`],
  ['publish with options', 'set', PUBSUB, (n) => `<publish node='${n}'><item id='x'><v xmlns='urn:test:oracle'/></item></publish><publish-options>${form('publish-options', { 'pubsub#access_model': 'open' })}</publish-options>`],
  ['retract', 'set', PUBSUB, (n) => `<retract node='${n}'><item id='current'/></retract>`],
  ['retract absent item', 'set', PUBSUB, (n) => `<retract node='${n}'><item id='nope'/></retract>`],
  ['configure get', 'get', OWNER_NS, (n) => `<configure node='${n}'/>`],
  ['configure set', 'set', OWNER_NS, (n) => `<configure node='${n}'>${form('node_config', { 'pubsub#access_model': 'open' })}</configure>`],
  ['purge', 'set', OWNER_NS, (n) => `<purge node='${n}'/>`],
  ['delete', 'set', OWNER_NS, (n) => `<delete node='${n}'/>`],
  ['owner affiliations get', 'get', OWNER_NS, (n) => `<affiliations node='${n}'/>`],
  ['owner affiliations set', 'set', OWNER_NS, (n, j) => `<affiliations node='${n}'><affiliation jid='${j.split('/')[0]}' affiliation='publisher'/></affiliations>`],
  ['owner subscriptions get', 'get', OWNER_NS, (n) => `<subscriptions node='${n}'/>`],
  ['owner subscriptions set', 'set', OWNER_NS, (n, j) => `<subscriptions node='${n}'><subscription jid='${j}' subscription='subscribed'/></subscriptions>`],
];

function outcome(iq: string): string {
  if (/type="result"/.test(iq.slice(0, 200))) return 'result';
  const cond = /<([a-z-]+) xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/>/.exec(iq)?.[1] ?? '?';
  const app = new RegExp(`<([a-z-]+) xmlns="${ERRORS}"`).exec(iq)?.[1];
  return app ? `${cond}/${app}` : cond;
}

describe('finding 12: nodes a stranger may not read look exactly like absent ones', () => {
  let t: TestServer;
  let owner: RawClient;
  const clients: RawClient[] = [];
  const seen = new Map<string, RawClient>();

  before(async () => {
    t = await startTestServer({
      hosts: ['localhost', 'example.com'],
      users: { [OWNER]: 'pw', 'stranger@localhost': 'pw', 'alien@example.com': 'pw', 'colleague@localhost': 'pw', 'watcher@localhost': 'pw', 'member@localhost': 'pw' },
    });
    const r = t.storage.roster;
    await r.putItem(OWNER, { jid: 'colleague@localhost', subscription: 'both', groups: ['Work'] });
    await r.putItem('colleague@localhost', { jid: OWNER, subscription: 'both', groups: [] });
    await r.putItem(OWNER, { jid: 'watcher@localhost', subscription: 'from', groups: [] });
    await r.putItem('watcher@localhost', { jid: OWNER, subscription: 'to', groups: [] });
    owner = await login(OWNER, 'a');
    for (const m of [...RESTRICTED, 'open']) {
      const fields: Record<string, string> = { 'pubsub#access_model': m };
      if (m === 'roster') fields['pubsub#roster_groups_allowed'] = 'Friends';
      const p = await owner.iq(`<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='${node(m)}'><item id='current'><v xmlns='urn:test:oracle'>SECRET</v></item></publish><publish-options>${form('publish-options', fields)}</publish-options></pubsub></iq>`);
      assert.equal(p.attrs.type, 'result', p.toString());
    }
    // An affiliated member of the whitelist node: not a stranger there.
    const a = await owner.iq(`<iq type='set'><pubsub xmlns='${OWNER_NS}'><affiliations node='${node('whitelist')}'><affiliation jid='member@localhost' affiliation='member'/></affiliations></pubsub></iq>`);
    assert.equal(a.attrs.type, 'result', a.toString());
  });

  after(async () => {
    for (const c of clients) c.destroy();
    await t?.stop();
  });

  async function login(jid: string, resource: string): Promise<RawClient> {
    const c = await RawClient.connect(t.port);
    clients.push(c);
    await c.login(jid, 'pw', resource);
    return c;
  }
  async function as(jid: string): Promise<RawClient> {
    let c = seen.get(jid);
    if (!c) seen.set(jid, (c = await login(jid, 'r')));
    return c;
  }

  let seq = 0;
  /** The raw answer to one operation, with id and node name normalised. */
  async function answer(c: RawClient, full: string, op: (typeof OPERATIONS)[number], n: string): Promise<string> {
    const [, type, ns, el] = op;
    const id = `o${++seq}`;
    const start = c.text.length;
    c.send(`<iq type='${type}' id='${id}' to='${OWNER}'><pubsub xmlns='${ns}'>${el(n, full)}</pubsub></iq>`);
    await c.waitStanza((e) => e.name === 'iq' && e.attrs.id === id);
    return c.text.slice(start).split(id).join('ID').split(n).join('N');
  }

  for (const who of ['stranger@localhost', 'alien@example.com']) {
    it(`${who}: every operation on every restricted node answers as for an absent node`, async () => {
      const c = await as(who);
      const full = `${who}/r`;
      const differ: string[] = [];
      for (const op of OPERATIONS) {
        const absent = await answer(c, full, op, ABSENT);
        assert.equal(outcome(absent), 'item-not-found', `${op[0]} on an absent node: ${absent}`);
        for (const m of RESTRICTED) {
          const got = await answer(c, full, op, node(m));
          assert.ok(!got.includes('SECRET') && !got.includes('access_model'), `${op[0]}/${m} leaks: ${got}`);
          if (got !== absent) differ.push(`${op[0]} on ${m}: ${got}\n   absent: ${absent}`);
        }
      }
      assert.deepEqual(differ, []);
      // disco#info on the node: the same (already so before); disco#items on a node: an empty result alike.
      for (const q of [DISCO_INFO, DISCO_ITEMS]) {
        const ask = async (n: string) => {
          const id = `d${++seq}`;
          const start = c.text.length;
          c.send(`<iq type='get' id='${id}' to='${OWNER}'><query xmlns='${q}' node='${n}'/></iq>`);
          await c.waitStanza((e) => e.attrs.id === id);
          return c.text.slice(start).split(id).join('ID').split(n).join('N');
        };
        const absent = await ask(ABSENT);
        for (const m of RESTRICTED) assert.equal(await ask(node(m)), absent, `${q} on ${m}`);
      }
      // The account's disco#items lists no node the stranger may not read.
      const items = await c.iq(`<iq type='get' to='${OWNER}'><query xmlns='${DISCO_ITEMS}'/></iq>`);
      assert.deepEqual(items.getChild('query')!.getChildren('item').map((i) => i.attrs.node), [node('open')]);
    });
  }

  it('nothing a stranger sent changed the nodes', async () => {
    for (const m of RESTRICTED) {
      const r = await owner.iq(`<iq type='get'><pubsub xmlns='${PUBSUB}'><items node='${node(m)}'/></pubsub></iq>`);
      assert.deepEqual(r.getChild('pubsub')!.getChild('items')!.getChildren('item').map((i) => i.attrs.id), ['current'], m);
      const cfg = await owner.iq(`<iq type='get'><pubsub xmlns='${OWNER_NS}'><configure node='${node(m)}'/></pubsub></iq>`);
      assert.match(cfg.toString(), new RegExp(`<value>${m}</value>`));
      const subs = await owner.iq(`<iq type='get'><pubsub xmlns='${OWNER_NS}'><subscriptions node='${node(m)}'/></pubsub></iq>`);
      assert.equal(subs.getChild('pubsub')!.getChild('subscriptions')!.getChildren('subscription').length, 0, m);
      const affs = await owner.iq(`<iq type='get'><pubsub xmlns='${OWNER_NS}'><affiliations node='${node(m)}'/></pubsub></iq>`);
      const list = affs.getChild('pubsub')!.getChild('affiliations')!.getChildren('affiliation').map((a) => `${a.attrs.jid}=${a.attrs.affiliation}`);
      assert.deepEqual(list, m === 'whitelist' ? [`${OWNER}=owner`, 'member@localhost=member'] : [`${OWNER}=owner`], m);
    }
  });

  it('a stranger is answered as usual on a node it may read (open)', async () => {
    const c = await as('stranger@localhost');
    const get = OPERATIONS.find((o) => o[0] === 'items')!;
    assert.equal(outcome(await answer(c, 'stranger@localhost/r', get, node('open'))), 'result');
    const pub = OPERATIONS.find((o) => o[0] === 'publish')!;
    assert.equal(outcome(await answer(c, 'stranger@localhost/r', pub, node('open'))), 'forbidden');
    const cfg = OPERATIONS.find((o) => o[0] === 'configure get')!;
    assert.equal(outcome(await answer(c, 'stranger@localhost/r', cfg, node('open'))), 'forbidden');
  });

  it('contacts and affiliated entities are still told why', async () => {
    const items = OPERATIONS.find((o) => o[0] === 'items')!;
    const cfg = OPERATIONS.find((o) => o[0] === 'configure get')!;
    const cases: [string, string, string, string][] = [
      // [who, node model, operation, outcome]
      ['colleague@localhost', 'roster', 'items', 'not-authorized/not-in-roster-group'],
      ['colleague@localhost', 'whitelist', 'items', 'not-allowed/closed-node'],
      ['colleague@localhost', 'roster', 'configure get', 'forbidden'],
      ['watcher@localhost', 'roster', 'items', 'not-authorized/not-in-roster-group'],
      ['watcher@localhost', 'presence', 'items', 'result'],
      ['member@localhost', 'whitelist', 'items', 'result'],
      ['member@localhost', 'whitelist', 'configure get', 'forbidden'],
    ];
    for (const [who, m, opName, expected] of cases) {
      const c = await as(who);
      const op = opName === 'items' ? items : cfg;
      assert.equal(outcome(await answer(c, `${who}/r`, op, node(m))), expected, `${who} ${opName} on ${m}`);
    }
  });
});
