// Access-control matrix over real TCP (issue 5): every access model × every relationship to the owner ×
// every operation, each outcome compared with a table written out below from XEP-0060 §4.1/§4.5/§6.5.9/
// §7.1.3/§7.2.3/§8.2.3/§8.4.3 and XEP-0163 §4.3/§5 (see docs/pep.md). Nothing may leak: refused retrievals
// carry no item or payload and do not tell an existing item id from an absent one, disco lists and
// describes only readable nodes, notifications and last-item pushes at login follow the same decision.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawClient, NS_HEADER } from '../helpers/raw-client.ts';
import type { CapsService } from '../../src/server/modules/caps/index.ts';
import type { Element } from '../../src/xml/index.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const OWNER_NS = 'http://jabber.org/protocol/pubsub#owner';
const EVENT = 'http://jabber.org/protocol/pubsub#event';
const ERRORS = 'http://jabber.org/protocol/pubsub#errors';
const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
const DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const NS_STREAM = 'http://etherx.jabber.org/streams';

const MODELS = ['open', 'presence', 'roster', 'whitelist'] as const;
type Model = (typeof MODELS)[number];
const RELS = ['owner', 'ownerOther', 'friend', 'otherGroup', 'presenceOnly', 'stranger', 'otherDomain', 'unauth'] as const;
type Rel = (typeof RELS)[number];
const OPS = ['retrieve', 'retrieveById', 'discoItems', 'discoInfo', 'notification', 'lastItemAtLogin', 'publish', 'retract', 'configure', 'delete'] as const;
type Op = (typeof OPS)[number];

const OWNER = 'owner@localhost';
const ACCOUNTS: Record<Exclude<Rel, 'unauth'>, { jid: string; resource: string }> = {
  owner: { jid: OWNER, resource: 'a' },
  ownerOther: { jid: OWNER, resource: 'b' },
  friend: { jid: 'friend@localhost', resource: 'r' },
  otherGroup: { jid: 'colleague@localhost', resource: 'r' },
  presenceOnly: { jid: 'watcher@localhost', resource: 'r' },
  stranger: { jid: 'stranger@localhost', resource: 'r' },
  otherDomain: { jid: 'alien@example.com', resource: 'r' },
};

const node = (m: Model) => `urn:test:matrix:${m}`;
const secret = (m: Model) => `SECRET-${m}-payload`;

// Outcomes. Errors are "condition/pubsub-condition" as the XEP-0060 sections name them.
const OK = 'ok';
const PRES = 'not-authorized/presence-subscription-required'; // §6.5.9.7
const GROUP = 'not-authorized/not-in-roster-group'; // §6.5.9.8
const CLOSED = 'not-allowed/closed-node'; // §6.5.9.9
const FORB = 'forbidden'; // §7.1.3.1, §7.2.3.1, §8.2.3.2, §8.4.3.1
const STREAM = 'stream:not-authorized'; // RFC 6120 §4.9.3.12: no stanza before authentication
const LISTED = 'listed';
const HIDDEN = 'hidden';
const SENT = 'sent';
const NONE = 'none';
const INFO = 'info';
const NOT_FOUND = 'item-not-found'; // as if the node did not exist (disco#info for everyone refused; any operation for strangers)

type Row = [open: string, presence: string, roster: string, whitelist: string];
// Strangers (stranger, otherDomain: not in the owner's roster, no affiliation) get item-not-found for every
// operation on a node they may not read, exactly as for an absent node (issue 19 finding 12; see
// test/server/security/node-oracle.test.ts); contacts are told why (§6.5.9).
/** The expected table: EXPECTED[op][relationship] = outcome per access model (open, presence, roster, whitelist). */
const EXPECTED: Record<Op, Record<Rel, Row>> = {
  // XEP-0060 §6.5.1 owner always; §4.5 models; roster = subscription AND group (docs/pep.md).
  retrieve: {
    owner: [OK, OK, OK, OK],
    ownerOther: [OK, OK, OK, OK],
    friend: [OK, OK, OK, CLOSED],
    otherGroup: [OK, OK, GROUP, CLOSED],
    presenceOnly: [OK, OK, GROUP, CLOSED],
    stranger: [OK, NOT_FOUND, NOT_FOUND, NOT_FOUND],
    otherDomain: [OK, NOT_FOUND, NOT_FOUND, NOT_FOUND],
    unauth: [STREAM, STREAM, STREAM, STREAM],
  },
  // Retrieving one item by id: the same decision, and a refused one gives the same error for an existing
  // and an absent id (checked separately below).
  retrieveById: {
    owner: [OK, OK, OK, OK],
    ownerOther: [OK, OK, OK, OK],
    friend: [OK, OK, OK, CLOSED],
    otherGroup: [OK, OK, GROUP, CLOSED],
    presenceOnly: [OK, OK, GROUP, CLOSED],
    stranger: [OK, NOT_FOUND, NOT_FOUND, NOT_FOUND],
    otherDomain: [OK, NOT_FOUND, NOT_FOUND, NOT_FOUND],
    unauth: [STREAM, STREAM, STREAM, STREAM],
  },
  // XEP-0163 §5 (docs/pep.md "Discovering support"): disco#items lists only readable nodes.
  discoItems: {
    owner: [LISTED, LISTED, LISTED, LISTED],
    ownerOther: [LISTED, LISTED, LISTED, LISTED],
    friend: [LISTED, LISTED, LISTED, HIDDEN],
    otherGroup: [LISTED, LISTED, HIDDEN, HIDDEN],
    presenceOnly: [LISTED, LISTED, HIDDEN, HIDDEN],
    stranger: [LISTED, HIDDEN, HIDDEN, HIDDEN],
    otherDomain: [LISTED, HIDDEN, HIDDEN, HIDDEN],
    unauth: [STREAM, STREAM, STREAM, STREAM],
  },
  // disco#info on the node: described to readers, item-not-found (as for an absent node) to everyone else.
  discoInfo: {
    owner: [INFO, INFO, INFO, INFO],
    ownerOther: [INFO, INFO, INFO, INFO],
    friend: [INFO, INFO, INFO, NOT_FOUND],
    otherGroup: [INFO, INFO, NOT_FOUND, NOT_FOUND],
    presenceOnly: [INFO, INFO, NOT_FOUND, NOT_FOUND],
    stranger: [INFO, NOT_FOUND, NOT_FOUND, NOT_FOUND],
    otherDomain: [INFO, NOT_FOUND, NOT_FOUND, NOT_FOUND],
    unauth: [STREAM, STREAM, STREAM, STREAM],
  },
  // XEP-0163 §4.3: owner's resources, and contacts with a from/both subscription the model admits, each
  // with +notify. No subscription means no notification even for an open node.
  notification: {
    owner: [SENT, SENT, SENT, SENT],
    ownerOther: [SENT, SENT, SENT, SENT],
    friend: [SENT, SENT, SENT, NONE],
    otherGroup: [SENT, SENT, NONE, NONE],
    presenceOnly: [SENT, SENT, NONE, NONE],
    stranger: [NONE, NONE, NONE, NONE],
    otherDomain: [NONE, NONE, NONE, NONE],
    unauth: [NONE, NONE, NONE, NONE],
  },
  // XEP-0163 §4.3.4 / send_last_published_item = on_sub_and_presence: a resource coming online gets the
  // last item of each node it may read and is interested in, from the same set of entities.
  lastItemAtLogin: {
    owner: [SENT, SENT, SENT, SENT],
    ownerOther: [SENT, SENT, SENT, SENT],
    friend: [SENT, SENT, SENT, NONE],
    otherGroup: [SENT, SENT, NONE, NONE],
    presenceOnly: [SENT, SENT, NONE, NONE],
    stranger: [NONE, NONE, NONE, NONE],
    otherDomain: [NONE, NONE, NONE, NONE],
    unauth: [NONE, NONE, NONE, NONE],
  },
  // XEP-0163 §3.2 / XEP-0060 §4.1: only the owner publishes, retracts, configures and deletes, whatever the
  // access model; everyone else gets forbidden — but a stranger, on a node it may not read, item-not-found.
  publish: {
    owner: [OK, OK, OK, OK],
    ownerOther: [OK, OK, OK, OK],
    friend: [FORB, FORB, FORB, FORB],
    otherGroup: [FORB, FORB, FORB, FORB],
    presenceOnly: [FORB, FORB, FORB, FORB],
    stranger: [FORB, NOT_FOUND, NOT_FOUND, NOT_FOUND],
    otherDomain: [FORB, NOT_FOUND, NOT_FOUND, NOT_FOUND],
    unauth: [STREAM, STREAM, STREAM, STREAM],
  },
  retract: {
    owner: [OK, OK, OK, OK],
    ownerOther: [OK, OK, OK, OK],
    friend: [FORB, FORB, FORB, FORB],
    otherGroup: [FORB, FORB, FORB, FORB],
    presenceOnly: [FORB, FORB, FORB, FORB],
    stranger: [FORB, NOT_FOUND, NOT_FOUND, NOT_FOUND],
    otherDomain: [FORB, NOT_FOUND, NOT_FOUND, NOT_FOUND],
    unauth: [STREAM, STREAM, STREAM, STREAM],
  },
  configure: {
    owner: [OK, OK, OK, OK],
    ownerOther: [OK, OK, OK, OK],
    friend: [FORB, FORB, FORB, FORB],
    otherGroup: [FORB, FORB, FORB, FORB],
    presenceOnly: [FORB, FORB, FORB, FORB],
    stranger: [FORB, NOT_FOUND, NOT_FOUND, NOT_FOUND],
    otherDomain: [FORB, NOT_FOUND, NOT_FOUND, NOT_FOUND],
    unauth: [STREAM, STREAM, STREAM, STREAM],
  },
  delete: {
    owner: [OK, OK, OK, OK],
    ownerOther: [OK, OK, OK, OK],
    friend: [FORB, FORB, FORB, FORB],
    otherGroup: [FORB, FORB, FORB, FORB],
    presenceOnly: [FORB, FORB, FORB, FORB],
    stranger: [FORB, NOT_FOUND, NOT_FOUND, NOT_FOUND],
    otherDomain: [FORB, NOT_FOUND, NOT_FOUND, NOT_FOUND],
    unauth: [STREAM, STREAM, STREAM, STREAM],
  },
};

function errorOutcome(iq: Element): string {
  const err = iq.getChild('error');
  if (!err) return iq.attrs.type === 'result' ? OK : `unexpected ${iq.toString()}`;
  const cond = err.elements.find((e) => e.ns === STANZAS && e.local !== 'text')?.local ?? '?';
  const ps = err.elements.find((e) => e.ns === ERRORS)?.local;
  return ps ? `${cond}/${ps}` : cond;
}

const publishIq = (m: Model, id: string, payload: string, withOptions: boolean) =>
  `<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='${node(m)}'><item id='${id}'><v xmlns='urn:test:matrix'>${payload}</v></item></publish>` +
  (withOptions
    ? `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#publish-options</value></field>` +
      `<field var='pubsub#access_model'><value>${m}</value></field>` +
      (m === 'roster' ? `<field var='pubsub#roster_groups_allowed'><value>Friends</value></field>` : '') +
      `</x></publish-options>`
    : '') +
  `</pubsub></iq>`;

const isEventFor = (n: string) => (el: Element) => el.name === 'message' && el.getChild('event', EVENT)?.getChild('items')?.attrs.node === n;

describe('access-control matrix: model × relationship × operation', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  const sessions = new Map<Rel, RawClient>();
  const actual: Record<string, Record<string, string[]>> = {};
  const record = (op: Op, rel: Rel, m: Model, outcome: string) => {
    ((actual[op] ??= {})[rel] ??= ['', '', '', ''])[MODELS.indexOf(m)] = outcome;
  };
  let leakChecks = 0;

  before(async () => {
    t = await startTestServer({
      hosts: ['localhost', 'example.com'],
      users: Object.fromEntries([...new Set(Object.values(ACCOUNTS).map((a) => a.jid))].map((j) => [j, 'pw'])),
      config: { limits: { max_connections_per_ip: 0 } },
    });
    const r = t.storage.roster;
    // The owner's roster decides; each contact's roster mirrors it.
    await r.putItem(OWNER, { jid: 'friend@localhost', subscription: 'both', groups: ['Friends'] });
    await r.putItem('friend@localhost', { jid: OWNER, subscription: 'both', groups: [] });
    await r.putItem(OWNER, { jid: 'colleague@localhost', subscription: 'both', groups: ['Work'] });
    await r.putItem('colleague@localhost', { jid: OWNER, subscription: 'both', groups: [] });
    await r.putItem(OWNER, { jid: 'watcher@localhost', subscription: 'from', groups: [] });
    await r.putItem('watcher@localhost', { jid: OWNER, subscription: 'to', groups: [] });
  });

  after(async () => {
    for (const c of clients) c.destroy();
    await t?.stop();
  });

  async function login(rel: Exclude<Rel, 'unauth'>, resource: string): Promise<RawClient> {
    const a = ACCOUNTS[rel];
    const c = await RawClient.connect(t.port);
    clients.push(c);
    await c.login(a.jid, 'pw', resource);
    c.sendPresenceWithCaps(MODELS.map((m) => `${node(m)}+notify`));
    const caps = t.server.service<CapsService>('caps')!;
    const full = `${a.jid}/${resource}`;
    for (let i = 0; i < 300 && !caps.features(full); i++) await new Promise((res) => setTimeout(res, 10));
    assert.ok(caps.features(full), `caps of ${full} verified`);
    // A round trip makes sure the initial presence (and any last-item push it causes) has been processed.
    await c.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    return c;
  }

  /** An unauthenticated stream sending `xml`: must be closed with not-authorized. */
  async function unauth(xml: string): Promise<string> {
    const c = await RawClient.connect(t.port);
    clients.push(c);
    c.send(NS_HEADER('localhost'));
    await c.waitStanza((e) => e.local === 'features');
    c.send(xml.replace(/^<iq /, `<iq id='u1' `));
    const err = await c.waitStanza((e) => (e.local === 'error' && e.ns === NS_STREAM) || e.attrs.id === 'u1');
    await c.waitClosed();
    assert.ok(!c.text.includes('SECRET'), 'nothing leaks to an unauthenticated stream');
    const cond = err.elements.find((e) => e.ns === 'urn:ietf:params:xml:ns:xmpp-streams')?.local;
    return `stream:${cond}`;
  }

  /** Waits a little and pings, then returns the notifications for `n` that arrived (and removes them). */
  async function drainEvents(c: RawClient, n: string): Promise<Element[]> {
    await new Promise((res) => setTimeout(res, 150));
    await c.iq(`<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const got = c.stanzas.filter(isEventFor(n));
    for (const g of got) c.stanzas.splice(c.stanzas.indexOf(g), 1);
    return got;
  }

  it('delivers notifications of a first publish exactly as the table says', async () => {
    for (const rel of RELS) if (rel !== 'unauth') sessions.set(rel, await login(rel, ACCOUNTS[rel].resource));
    const owner = sessions.get('owner')!;
    for (const m of MODELS) {
      const r = await owner.iq(publishIq(m, 'current', secret(m), true));
      assert.equal(r.attrs.type, 'result', r.toString());
    }
    for (const m of MODELS) {
      // Expected receivers first, so a slow delivery is waited for rather than missed.
      for (const rel of RELS) {
        if (rel === 'unauth') {
          record('notification', rel, m, NONE);
          continue;
        }
        const c = sessions.get(rel)!;
        if (EXPECTED.notification[rel][MODELS.indexOf(m)] === SENT) {
          const e = await c.waitStanza(isEventFor(node(m)), 5000).catch(() => undefined);
          if (e) c.stanzas.push(e);
        }
      }
      for (const rel of RELS) {
        if (rel === 'unauth') continue;
        const got = await drainEvents(sessions.get(rel)!, node(m));
        assert.ok(got.length <= 1, `${rel} got ${got.length} copies of one notification`);
        if (got.length) assert.match(got[0]!.toString(), new RegExp(secret(m)));
        record('notification', rel, m, got.length ? SENT : NONE);
      }
    }
    assert.deepEqual(actual.notification, EXPECTED.notification);
  });

  it('answers retrieval (all items and by id) as the table says, leaking nothing when refusing', async () => {
    for (const m of MODELS) {
      for (const rel of RELS) {
        const all = `<iq type='get' to='${OWNER}'><pubsub xmlns='${PUBSUB}'><items node='${node(m)}'/></pubsub></iq>`;
        const byId = (id: string) => `<iq type='get' to='${OWNER}'><pubsub xmlns='${PUBSUB}'><items node='${node(m)}'><item id='${id}'/></items></pubsub></iq>`;
        if (rel === 'unauth') {
          record('retrieve', rel, m, await unauth(all));
          record('retrieveById', rel, m, await unauth(byId('current')));
          continue;
        }
        const c = sessions.get(rel)!;
        const r = await c.iq(all);
        const outcome = errorOutcome(r);
        record('retrieve', rel, m, outcome);
        if (outcome === OK) {
          assert.deepEqual(r.getChild('pubsub')!.getChild('items')!.getChildren('item').map((i) => i.attrs.id), ['current']);
          assert.match(r.toString(), new RegExp(secret(m)));
        } else {
          assert.ok(!r.toString().includes(secret(m)) && !r.toString().includes("current"), `${rel}/${m}: refusal leaks ${r.toString()}`);
          leakChecks++;
        }
        const existing = await c.iq(byId('current'));
        const absent = await c.iq(byId('no-such-item'));
        record('retrieveById', rel, m, errorOutcome(existing));
        if (errorOutcome(existing) !== OK) {
          // No item-existence oracle: an existing and an absent id are refused alike.
          assert.equal(errorOutcome(absent), errorOutcome(existing), `${rel}/${m}: existing vs absent id`);
          assert.ok(!existing.toString().includes(secret(m)));
          leakChecks++;
        } else {
          // An absent id is answered without any item (an empty <items/>).
          assert.equal(absent.getChild('pubsub')?.getChild('items')?.getChildren('item').length ?? 0, 0, absent.toString());
        }
      }
    }
    assert.deepEqual(actual.retrieve, EXPECTED.retrieve);
    assert.deepEqual(actual.retrieveById, EXPECTED.retrieveById);
  });

  it('lists and describes nodes in disco only to those who may read them', async () => {
    const absentAnswers: string[] = [];
    const hiddenVsAbsent: string[] = [];
    for (const rel of RELS) {
      const items = `<iq type='get' to='${OWNER}'><query xmlns='${DISCO_ITEMS}'/></iq>`;
      const info = (m: Model | string) => `<iq type='get' to='${OWNER}'><query xmlns='${DISCO_INFO}' node='${m.startsWith('urn:') ? m : node(m as Model)}'/></iq>`;
      if (rel === 'unauth') {
        const s = await unauth(items);
        for (const m of MODELS) {
          record('discoItems', rel, m, s);
          record('discoInfo', rel, m, await unauth(info(m)));
        }
        continue;
      }
      const c = sessions.get(rel)!;
      const r = await c.iq(items);
      assert.equal(r.attrs.type, 'result', r.toString());
      const listed = new Set(r.getChild('query')!.getChildren('item').map((i) => i.attrs.node));
      for (const m of MODELS) record('discoItems', rel, m, listed.has(node(m)) ? LISTED : HIDDEN);
      const absent = errorOutcome(await c.iq(info('urn:test:matrix:absent')));
      absentAnswers.push(`${rel}: ${absent}`);
      for (const m of MODELS) {
        const d = await c.iq(info(m));
        const o = errorOutcome(d);
        record('discoInfo', rel, m, o === OK ? INFO : o);
        if (o !== OK) {
          // Indistinguishable from the absent node.
          if (o !== absent) hiddenVsAbsent.push(`${rel}/${m}: ${o} vs absent ${absent}`);
          leakChecks++;
        }
      }
    }
    assert.deepEqual(actual.discoItems, EXPECTED.discoItems);
    assert.deepEqual(actual.discoInfo, EXPECTED.discoInfo);
    assert.deepEqual(hiddenVsAbsent, [], 'a refused node looks exactly like an absent one');
    // XEP-0030 §3.1 / XEP-0060 §5.4: disco#info on a node that does not exist is item-not-found.
    assert.deepEqual(absentAnswers, RELS.filter((r) => r !== 'unauth').map((r) => `${r}: ${NOT_FOUND}`), 'disco#info on an absent node');
  });

  it('pushes the last item at login only where the table says', async () => {
    for (const rel of RELS) {
      if (rel === 'unauth') {
        for (const m of MODELS) record('lastItemAtLogin', rel, m, NONE);
        continue;
      }
      const c = await login(rel, `late-${rel}`);
      for (const m of MODELS) {
        const got = await drainEvents(c, node(m));
        assert.ok(got.length <= 1, `${rel}: ${got.length} last-item pushes for ${m}`);
        record('lastItemAtLogin', rel, m, got.length ? SENT : NONE);
      }
      c.destroy();
    }
    assert.deepEqual(actual.lastItemAtLogin, EXPECTED.lastItemAtLogin);
  });

  it('lets only the owner publish, retract, configure and delete, and changes nothing on refusal', async () => {
    const owner = sessions.get('owner')!;
    const itemsOf = async (m: Model, n = node(m)) => {
      const r = await owner.iq(`<iq type='get' to='${OWNER}'><pubsub xmlns='${PUBSUB}'><items node='${n}'/></pubsub></iq>`);
      return r.attrs.type === 'result' ? r.getChild('pubsub')!.getChild('items')!.getChildren('item').map((i) => i.attrs.id!).sort() : [errorOutcome(r)];
    };
    for (const m of MODELS) {
      for (const rel of RELS) {
        const pub = `<iq type='set' to='${OWNER}'><pubsub xmlns='${PUBSUB}'><publish node='${node(m)}'><item id='by-${rel}'><v xmlns='urn:test:matrix'>x</v></item></publish></pubsub></iq>`;
        // Owner-side setup for the retract and delete cells.
        assert.equal((await owner.iq(publishIq(m, `victim-${rel}`, 'v', false))).attrs.type, 'result');
        const scratch = `${node(m)}:scratch:${rel}`;
        const cr = await owner.iq(`<iq type='set'><pubsub xmlns='${PUBSUB}'><create node='${scratch}'/><configure><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#node_config</value></field><field var='pubsub#access_model'><value>${m}</value></field></x></configure></pubsub></iq>`);
        assert.equal(cr.attrs.type, 'result', cr.toString());
        const ret = `<iq type='set' to='${OWNER}'><pubsub xmlns='${PUBSUB}'><retract node='${node(m)}'><item id='victim-${rel}'/></retract></pubsub></iq>`;
        const cfg = `<iq type='get' to='${OWNER}'><pubsub xmlns='${OWNER_NS}'><configure node='${node(m)}'/></pubsub></iq>`;
        const del = `<iq type='set' to='${OWNER}'><pubsub xmlns='${OWNER_NS}'><delete node='${scratch}'/></pubsub></iq>`;
        if (rel === 'unauth') {
          record('publish', rel, m, await unauth(pub));
          record('retract', rel, m, await unauth(ret));
          record('configure', rel, m, await unauth(cfg));
          record('delete', rel, m, await unauth(del));
        } else {
          const c = sessions.get(rel)!;
          record('publish', rel, m, errorOutcome(await c.iq(pub)));
          record('retract', rel, m, errorOutcome(await c.iq(ret)));
          const cr2 = await c.iq(cfg);
          record('configure', rel, m, errorOutcome(cr2));
          if (errorOutcome(cr2) !== OK) {
            assert.ok(!cr2.toString().includes('access_model'), `${rel}/${m}: configuration leaked`);
            leakChecks++;
          }
          record('delete', rel, m, errorOutcome(await c.iq(del)));
        }
        // Nothing changed where the requester was refused.
        const ids = await itemsOf(m);
        const allowed = rel === 'owner' || rel === 'ownerOther';
        assert.equal(ids.includes(`by-${rel}`), allowed, `${rel}/${m}: publish took effect = ${allowed}`);
        assert.equal(ids.includes(`victim-${rel}`), !allowed, `${rel}/${m}: retract took effect = ${allowed}`);
        const scratchItems = await itemsOf(m, scratch);
        assert.deepEqual(scratchItems, allowed ? ['item-not-found'] : [], `${rel}/${m}: delete took effect = ${allowed}`);
        if (!allowed) await owner.iq(`<iq type='set'><pubsub xmlns='${OWNER_NS}'><delete node='${scratch}'/></pubsub></iq>`);
      }
    }
    for (const op of ['publish', 'retract', 'configure', 'delete'] as const) assert.deepEqual(actual[op], EXPECTED[op], op);
    // Absent nodes: only the owner auto-creates, so a publish by anyone else names the missing node
    // (XEP-0060 §7.1.3.3), as every other operation does.
    const stranger = sessions.get('stranger')!;
    const absent = 'urn:test:matrix:absent';
    assert.equal(errorOutcome(await stranger.iq(`<iq type='set' to='${OWNER}'><pubsub xmlns='${PUBSUB}'><publish node='${absent}'><item id='x'/></publish></pubsub></iq>`)), NOT_FOUND);
    assert.equal(errorOutcome(await owner.iq(`<iq type='get' to='${OWNER}'><pubsub xmlns='${PUBSUB}'><items node='${absent}'/></pubsub></iq>`)), 'item-not-found');
  });

  it('matches the whole expected table', (tc) => {
    let cells = 0;
    let mismatches = 0;
    const lines: string[] = [];
    for (const op of OPS) {
      for (const rel of RELS) {
        const row = actual[op]?.[rel] ?? [];
        const exp = EXPECTED[op][rel];
        cells += exp.length;
        exp.forEach((e, i) => {
          if (row[i] !== e) mismatches++;
        });
        lines.push(`${op.padEnd(16)} ${rel.padEnd(13)} ${row.map((v) => v.padEnd(44)).join(' ')}`);
      }
    }
    tc.diagnostic(`access matrix: ${MODELS.length} models × ${RELS.length} relationships × ${OPS.length} operations = ${cells} cells, ${cells - mismatches} as expected, ${mismatches} mismatches, ${leakChecks} refusals checked for leaks`);
    tc.diagnostic(`${''.padEnd(30)} ${MODELS.map((m) => m.padEnd(44)).join(' ')}`);
    for (const l of lines) tc.diagnostic(l);
    assert.equal(mismatches, 0);
  });
});
