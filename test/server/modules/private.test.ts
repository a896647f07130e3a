// XEP-0049 Private XML Storage over TCP, with the stanzas profanity 0.13 sends for its XEP-0048 bookmarks:
// empty answer before anything is stored, store and read back from another resource, only the account itself,
// reserved namespaces refused, never written into a PEP node that others may read, and durable across a
// restart on SQLite.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, rawSessions, type TestServer } from '../../helpers/server.ts';
import { openSqliteStorage } from '../../../src/storage/sqlite/index.ts';
import type { Element } from '../../../src/xml/index.ts';

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const condition = (iq: Element) => iq.getChild('error')?.elements.find((e) => e.ns === STANZAS && e.local !== 'text')?.local;
const BOOKMARKS =
  `<storage xmlns='storage:bookmarks'><conference name='Council of Oberon' autojoin='true' jid='council@conference.localhost'>` +
  `<nick>Puck</nick></conference><url name='Complete Works of Shakespeare' url='http://the-tech.mit.edu/Shakespeare/'/></storage>`;

describe('XEP-0049 private XML storage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pepkeys-private-'));
  const open = () => openSqliteStorage({ path: join(dir, 'db.sqlite') });
  let t: TestServer;
  const sessions = rawSessions(() => t);
  before(async () => {
    t = await startTestServer({ storage: await open(), users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' } });
  });
  after(async () => {
    sessions.destroyAll();
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers profanity's first bookmark request with an empty storage element", async () => {
    const c = await sessions.login('juliet', 'profanity');
    const r = await c.iq(`<iq type='get'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`);
    assert.equal(r.attrs.type, 'result', r.toString());
    const storage = r.getChild('query', 'jabber:iq:private')!.getChild('storage', 'storage:bookmarks')!;
    assert.equal(storage.elements.length, 0);
  });

  it('stores bookmarks and gives them back to another resource of the account', async () => {
    const a = await sessions.login('juliet', 'laptop');
    assert.equal((await a.iq(`<iq type='set'><query xmlns='jabber:iq:private'>${BOOKMARKS}</query></iq>`)).attrs.type, 'result');
    const b = await sessions.login('juliet', 'phone');
    const r = await b.iq(`<iq type='get' to='juliet@localhost'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`);
    const conf = r.getChild('query', 'jabber:iq:private')!.getChild('storage', 'storage:bookmarks')!.getChild('conference')!;
    assert.equal(conf.attrs.jid, 'council@conference.localhost');
    assert.equal(conf.getChildText('nick'), 'Puck');
  });

  it("refuses another account's request with forbidden and keeps the PEP node from strangers", async () => {
    const romeo = await sessions.login('romeo', 'snoop');
    const r = await romeo.iq(`<iq type='get' to='juliet@localhost'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`);
    assert.equal(condition(r), 'forbidden');
    const pep = await romeo.iq(`<iq type='get' to='juliet@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='storage:bookmarks'/></pubsub></iq>`);
    assert.equal(pep.attrs.type, 'error');
  });

  it('refuses reserved jabber: namespaces and an empty query', async () => {
    const c = await sessions.login('juliet', 'bad');
    const reserved = await c.iq(`<iq type='set'><query xmlns='jabber:iq:private'><query xmlns='jabber:iq:roster'/></query></iq>`);
    assert.equal(condition(reserved), 'not-acceptable');
    const empty = await c.iq(`<iq type='get'><query xmlns='jabber:iq:private'/></iq>`);
    assert.equal(condition(empty), 'bad-request');
  });

  it('does not write private data into an existing node that others may read', async () => {
    const c = await sessions.login('juliet', 'open-node');
    const pub = await c.iq(
      `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:example:notes'><item id='current'><notes xmlns='urn:example:notes'>public</notes></item></publish>` +
        `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#access_model'><value>open</value></field></x></publish-options></pubsub></iq>`,
    );
    assert.equal(pub.attrs.type, 'result');
    const r = await c.iq(`<iq type='set'><query xmlns='jabber:iq:private'><notes xmlns='urn:example:notes'>secret</notes></query></iq>`);
    assert.equal(condition(r), 'conflict');
    const items = await t.storage.pubsub.getItems('juliet@localhost', 'urn:example:notes');
    assert.ok(!items.some((i) => i.payload.includes('secret')));
  });

  it('keeps what was stored across a restart on SQLite', async () => {
    sessions.destroyAll();
    await t.stop();
    t = await startTestServer({ storage: await open() });
    const c = await sessions.login('juliet', 'after-restart');
    const r = await c.iq(`<iq type='get'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`);
    assert.equal(r.getChild('query', 'jabber:iq:private')!.getChild('storage', 'storage:bookmarks')!.getChild('conference')!.attrs.name, 'Council of Oberon');
  });
});
