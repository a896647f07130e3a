// Issue 13 "Account lifecycle": `pepkeys user passwd` and `user del` on a running server end the account's
// live sessions with the RFC 6120 stream error (<reset/> for a password change, <not-authorized/> for a
// deletion); deletion removes the PEP nodes with XEP-0060 <delete/> notifications to their subscribers,
// cancels the subscriptions with contacts (who keep their item, with none), and drops offline messages and
// the message archive.
// `user unlock` ends a login lockout early.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '../../../src/xml/index.ts';
import { NS_PUBSUB as PUBSUB, NS_PUBSUB_EVENT as EVENT } from '../../../src/protocol/xep0060.ts';
import { NS_ROSTER as ROSTER } from '../../../src/protocol/rfc6121.ts';
import { NS_STREAM_ERRORS as STREAMS } from '../../../src/protocol/rfc6120.ts';
import { RawClient } from '../../helpers/raw-client.ts';
import { lines } from '../../cli/run-cli.ts';
import { startRunningServer, type RunningServer } from './running-server.ts';

const JULIET = 'juliet@capulet.lit';
const ROMEO = 'romeo@montague.lit';
const NURSE = 'nurse@capulet.lit';

const streamError = (c: RawClient) => c.stanzas.find((e) => e.local === 'error')?.elements.find((e) => e.ns === STREAMS)?.local;

async function online(t: RunningServer, jid: string, password: string, resource: string): Promise<RawClient> {
  const c = await RawClient.connect(t.port);
  await c.login(jid, password, resource);
  await c.iq(`<iq type='get'><query xmlns='${ROSTER}'/></iq>`);
  c.send('<presence/>');
  await c.waitStanza((e) => e.name === 'presence' && e.attrs.from === `${jid}/${resource}`);
  return c;
}

async function loginFails(t: RunningServer, jid: string, password: string): Promise<boolean> {
  const c = await RawClient.connect(t.port);
  try {
    await c.login(jid, password, 'probe');
    return false;
  } catch {
    return true;
  } finally {
    c.destroy();
  }
}

describe('account lifecycle on a running server', () => {
  let t: RunningServer;
  const clients: RawClient[] = [];
  const track = (c: RawClient) => (clients.push(c), c);
  before(async () => {
    t = await startRunningServer(['capulet.lit', 'montague.lit'], { limits: { auth_failure_delay_ms: 0 } });
    for (const [j, p] of [[JULIET, 'jpw'], [ROMEO, 'rpw'], [NURSE, 'npw']]) await t.addUser(j!, p!);
    assert.equal((await t.cli(['roster', 'add', JULIET, ROMEO, '--group', 'Friends', '--subscription', 'both'])).code, 0);
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t.stop();
  });

  it('user passwd ends the sessions with <reset/>; the new password works and the old one no longer does', async () => {
    const a = track(await online(t, JULIET, 'jpw', 'a'));
    const b = track(await online(t, JULIET, 'jpw', 'b'));
    const r = await t.cli(['user', 'passwd', JULIET, '--password', 'jpw2']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `password changed for ${JULIET} (2 live sessions ended)\n`);
    await a.waitClosed();
    await b.waitClosed();
    assert.equal(streamError(a), 'reset');
    assert.equal(streamError(b), 'reset');
    assert.equal(await loginFails(t, JULIET, 'jpw'), true);
    assert.equal(await loginFails(t, JULIET, 'jpw2'), false);
  });

  it('user del ends the sessions with <not-authorized/>, notifies node subscribers, cancels subscriptions and drops everything', async () => {
    const juliet = track(await online(t, JULIET, 'jpw2', 'balcony'));
    const romeo = track(await online(t, ROMEO, 'rpw', 'orchard'));
    const nurse = track(await online(t, NURSE, 'npw', 'sewing'));
    const pub = await juliet.iq(`<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='diary'><item id='1'><entry xmlns='urn:test:diary'>x</entry></item></publish>` +
      `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#publish-options</value></field>` +
      `<field var='pubsub#access_model'><value>open</value></field></x></publish-options></pubsub></iq>`);
    assert.equal(pub.attrs.type, 'result', pub.toString());
    const sub = await nurse.iq(`<iq type='set' to='${JULIET}'><pubsub xmlns='${PUBSUB}'><subscribe node='diary' jid='${NURSE}/sewing'/></pubsub></iq>`);
    assert.equal(sub.attrs.type, 'result', sub.toString());
    await t.server.storage.offline.push(JULIET, { stanza: `<message to='${JULIET}' from='${NURSE}/sewing'><body>wake up</body></message>`, storedAt: Date.now() });

    romeo.send(`<message to='${JULIET}' type='chat' id='m1'><body>Wherefore art thou</body></message>`);
    await juliet.waitStanza((e) => e.name === 'message' && e.attrs.id === 'm1');
    assert.equal((await t.server.storage.archive.query(JULIET, { max: 10 })).count, 1, 'archived for Juliet (XEP-0313)');
    const r = await t.cli(['user', 'del', JULIET]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `deleted ${JULIET} (1 live session ended)\n`);
    await juliet.waitClosed();
    assert.equal(streamError(juliet), 'not-authorized');
    // XEP-0060 §8.4.2: the subscriber learns that the node is gone.
    const del = await nurse.waitStanza((e: Element) => e.name === 'message' && e.getChild('event', EVENT)?.getChild('delete') !== undefined);
    assert.equal(del.attrs.from, JULIET);
    assert.equal(del.getChild('event', EVENT)!.getChild('delete')!.attrs.node, 'diary');
    // Romeo keeps Juliet in his roster, with the subscriptions cancelled (as if she had removed him).
    await romeo.waitStanza((e) => e.name === 'iq' && e.getChild('query', ROSTER)?.getChild('item')?.attrs.subscription === 'none');
    const rl = await t.cli(['roster', 'list', ROMEO]);
    assert.deepEqual(lines(rl.stdout), [`${JULIET} subscription none`]);
    // Nothing of hers is left, and she cannot log in.
    assert.deepEqual(lines((await t.cli(['user', 'list'])).stdout), [ROMEO, NURSE].sort());
    assert.deepEqual(await t.server.storage.pubsub.listNodes(JULIET), []);
    assert.equal(await t.server.storage.offline.count(JULIET), 0);
    assert.deepEqual((await t.server.storage.roster.get(JULIET)).items, []);
    assert.equal((await t.server.storage.archive.query(JULIET, { max: 10 })).count, 0);
    assert.equal((await t.server.storage.archive.query(ROMEO, { max: 10 })).count, 1, "Romeo's archive is his");
    assert.equal(await loginFails(t, JULIET, 'jpw2'), true);
    // Deleting again: the account is gone.
    const again = await t.cli(['user', 'del', JULIET]);
    assert.equal(again.code, 1);
    assert.deepEqual(lines(again.stderr), [`pepkeys: no account ${JULIET}`]);
  });
});

describe('pepkeys user unlock', () => {
  let t: RunningServer;
  before(async () => {
    t = await startRunningServer(['capulet.lit'], { limits: { auth_failure_delay_ms: 0, max_failed_logins: 2 } });
    await t.addUser(NURSE, 'npw');
  });
  after(() => t.stop());

  it('ends a lockout of an address early, and says how many failures it forgot', async () => {
    assert.equal(await loginFails(t, 'ghost@capulet.lit', 'guess1'), true);
    assert.equal(await loginFails(t, 'ghost@capulet.lit', 'guess2'), true);
    // Locked out: even the right password of another account is refused from this address.
    assert.equal(await loginFails(t, NURSE, 'npw'), true);
    const r = await t.cli(['user', 'unlock', '127.0.0.1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'unlocked 127.0.0.1 (2 recent failed logins forgotten)\n');
    assert.equal(await loginFails(t, NURSE, 'npw'), false);
    const j = await t.cli(['user', 'unlock', 'Ghost@Capulet.lit']);
    assert.equal(j.stdout, 'unlocked ghost@capulet.lit (2 recent failed logins forgotten)\n');
  });
});
