// `pepkeys roster add|del|list` against a running server (issue 18): the change is pushed to the owner's
// interested resources (RFC 6121 §2.1.6), the local contact's side is set to match, presence follows, and
// PEP roster-group access sees the new group at once. Without a server the same commands work on the store.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '../../../src/xml/index.ts';
import { NS_PUBSUB as PUBSUB } from '../../../src/protocol/xep0060.ts';
import { NS_ROSTER as ROSTER } from '../../../src/protocol/rfc6121.ts';
import { RawClient } from '../../helpers/raw-client.ts';
import { lines, runCli } from '../../cli/run-cli.ts';
import { startRunningServer, type RunningServer } from './running-server.ts';

const JULIET = 'juliet@capulet.lit';
const ROMEO = 'romeo@montague.lit';

const isPush = (contact: string) => (e: Element) => e.name === 'iq' && e.attrs.type === 'set' && e.getChild('query', ROSTER)?.getChild('item')?.attrs.jid === contact;
const retrieve = `<iq type='get' to='${JULIET}'><pubsub xmlns='${PUBSUB}'><items node='diary'/></pubsub></iq>`;

describe('pepkeys roster on a running server', () => {
  let t: RunningServer;
  let juliet: RawClient;
  let romeo: RawClient;
  before(async () => {
    t = await startRunningServer(['capulet.lit', 'montague.lit']);
    await t.addUser(JULIET, 'jpw');
    await t.addUser(ROMEO, 'rpw');
    juliet = await RawClient.connect(t.port);
    await juliet.login(JULIET, 'jpw', 'balcony');
    // Only a resource that asked for the roster gets pushes (RFC 6121 §2.1.6).
    await juliet.iq(`<iq type='get'><query xmlns='${ROSTER}'/></iq>`);
    juliet.send('<presence/>');
    await juliet.waitStanza((e) => e.name === 'presence');
    romeo = await RawClient.connect(t.port);
    await romeo.login(ROMEO, 'rpw', 'orchard');
    await romeo.iq(`<iq type='get'><query xmlns='${ROSTER}'/></iq>`);
    romeo.send('<presence/>');
    await romeo.waitStanza((e) => e.name === 'presence');
    const published = await juliet.iq(`<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='diary'><item id='1'><entry xmlns='urn:test:diary'>Romeo!</entry></item></publish>` +
      `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#publish-options</value></field>` +
      `<field var='pubsub#access_model'><value>roster</value></field><field var='pubsub#roster_groups_allowed'><value>Friends</value></field></x></publish-options></pubsub></iq>`);
    assert.equal(published.attrs.type, 'result', published.toString());
  });
  after(async () => {
    juliet?.destroy();
    romeo?.destroy();
    await t.stop();
  });

  it('adds Romeo to Friends with subscription both: pushed to both, presence exchanged, and the roster-group node readable at once', async () => {
    const before = await romeo.iq(retrieve);
    assert.equal(before.attrs.type, 'error', 'not in Friends yet');
    const r = await t.cli(['roster', 'add', JULIET, ROMEO, '--group', 'Friends', '--name', 'Romeo', '--subscription', 'both']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout), [`${JULIET}: ${ROMEO} "Romeo" [Friends] subscription both`, `${ROMEO}: ${JULIET} subscription both`]);
    assert.equal(r.stderr, '');
    const push = (await juliet.waitStanza(isPush(ROMEO))).getChild('query', ROSTER)!.getChild('item')!;
    assert.deepEqual([push.attrs.subscription, push.attrs.name, push.getChildren('group').map((g) => g.text())], ['both', 'Romeo', ['Friends']]);
    const theirs = (await romeo.waitStanza(isPush(JULIET))).getChild('query', ROSTER)!.getChild('item')!;
    assert.equal(theirs.attrs.subscription, 'both');
    // Each now sees the other's presence (RFC 6121 §3.1.5: current presence to the new subscriber).
    await romeo.waitStanza((e) => e.name === 'presence' && e.attrs.from === `${JULIET}/balcony`);
    await juliet.waitStanza((e) => e.name === 'presence' && e.attrs.from === `${ROMEO}/orchard`);
    const after = await romeo.iq(retrieve);
    assert.equal(after.attrs.type, 'result', after.toString());
    assert.match(after.toString(), /Romeo!/);
  });

  it('lists the roster, as text and JSON', async () => {
    const r = await t.cli(['roster', 'list', JULIET, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [{ jid: ROMEO, name: 'Romeo', subscription: 'both', ask: null, approved: false, groups: ['Friends'] }]);
  });

  it('moving Romeo out of Friends closes the node to him at once', async () => {
    const r = await t.cli(['roster', 'add', JULIET, ROMEO, '--group', 'Others']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout), [`${JULIET}: ${ROMEO} "Romeo" [Others] subscription both`]);
    const denied = await romeo.iq(retrieve);
    assert.equal(denied.attrs.type, 'error');
  });

  it('del removes the item and cancels both subscriptions: the contact keeps it with none, and each sees the other go', async () => {
    const r = await t.cli(['roster', 'del', JULIET, ROMEO]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout), [`${JULIET}: removed ${ROMEO}`, `${ROMEO}: ${JULIET} subscription none`]);
    const removed = (await juliet.waitStanza((e) => isPush(ROMEO)(e) && e.getChild('query', ROSTER)!.getChild('item')!.attrs.subscription === 'remove'));
    assert.ok(removed);
    await romeo.waitStanza((e) => isPush(JULIET)(e) && e.getChild('query', ROSTER)!.getChild('item')!.attrs.subscription === 'none');
    await romeo.waitStanza((e) => e.name === 'presence' && e.attrs.type === 'unavailable' && e.attrs.from === `${JULIET}/balcony`);
    await juliet.waitStanza((e) => e.name === 'presence' && e.attrs.type === 'unavailable' && e.attrs.from === `${ROMEO}/orchard`);
    const l = await t.cli(['roster', 'list', ROMEO]);
    assert.deepEqual(lines(l.stdout), [`${JULIET} subscription none`]);
  });

  it('refuses an unknown owner, a missing item, and the owner as its own contact, in one line', async () => {
    for (const [args, re] of [
      [['roster', 'add', 'nobody@capulet.lit', ROMEO], /^pepkeys: no account nobody@capulet\.lit$/],
      [['roster', 'del', JULIET, ROMEO], /^pepkeys: romeo@montague\.lit is not in the roster of juliet@capulet\.lit$/],
      [['roster', 'add', JULIET, JULIET], /^pepkeys: an account cannot be in its own roster$/],
    ] as const) {
      const r = await t.cli([...args]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(lines(r.stderr).join('\n'), re);
    }
  });

  it('without a server, works on the database and says so', async () => {
    juliet.destroy();
    romeo.destroy();
    await t.server.stop();
    const r = await runCli(['roster', 'add', JULIET, ROMEO, '--group', 'Friends', '--subscription', 'to', '--data', t.data]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout), [`${JULIET}: ${ROMEO} [Friends] subscription to`, `${ROMEO}: ${JULIET} subscription from`]);
    assert.match(r.stderr, /no server is running: written to the database/);
  });
});
