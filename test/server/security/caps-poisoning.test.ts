// Issue 19 finding 5: entity-caps poisoning. An attacker advertises a victim's not-yet-cached `ver` and then
// answers the server's disco#info with a lie, with an error, or not at all. XEP-0115 §5.4: an answer whose
// hash does not verify is never applied to another entity; the server asks each advertiser until one answer
// verifies, and a session whose own query failed is asked again at its next presence. The victim must get
// its PEP notifications in every case.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rawSessions, startTestServer, type TestServer } from '../../helpers/server.ts';
import type { CapsService } from '../../../src/server/modules/caps/index.ts';
import type { Element } from '../../../src/xml/index.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const EVENT = 'http://jabber.org/protocol/pubsub#event';
const DISCO = 'http://jabber.org/protocol/disco#info';
const CAPS_NODE = 'https://pepkeys.example/raw';

/** The `ver` RawClient.sendPresenceWithCaps computes for these features (identity client/pc//raw). */
function verOf(features: string[]): string {
  const all = [...new Set([DISCO, ...features])].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return createHash('sha1').update(`client/pc//raw<${all.map((f) => `${f}<`).join('')}`).digest('base64');
}

const capsPresence = (ver: string) => `<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='${CAPS_NODE}' ver='${ver}'/></presence>`;
const isDiscoQuery = (ver: string) => (el: Element) => el.name === 'iq' && el.attrs.type === 'get' && el.getChild('query', DISCO)?.attrs.node === `${CAPS_NODE}#${ver}`;
const discoAnswer = (q: Element, ver: string, features: string[]) =>
  `<iq type='result' id='${q.attrs.id}' to='${q.attrs.from}'><query xmlns='${DISCO}' node='${CAPS_NODE}#${ver}'><identity category='client' type='pc' name='raw'/>${[DISCO, ...features].map((f) => `<feature var='${f}'/>`).join('')}</query></iq>`;
const isEvent = (node: string) => (el: Element) => el.name === 'message' && el.getChild('event', EVENT)?.getChild('items')?.attrs.node === node;
const publish = (node: string, id: string) => `<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='${node}'><item id='${id}'><v xmlns='${node}'/></item></publish></pubsub></iq>`;
const ping = `<iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>`;

describe('entity-caps poisoning (issue 19 finding 5)', () => {
  let t: TestServer;
  const sessions = rawSessions(() => t);
  const login = sessions.login;

  before(async () => {
    t = await startTestServer({ users: { 'victim@localhost': 'pw', 'mallory@localhost': 'pw' } });
  });
  after(async () => {
    sessions.destroyAll();
    await t.stop();
  });


  /**
   * Mallory advertises the victim's `ver` first and holds the server's query open; the victim advertises the
   * same `ver` while it is in flight; then Mallory answers with `answer` (or never). The victim publishes to
   * its own node and must get the notification.
   */
  async function attack(node: string, answer: (q: Element, ver: string) => string | undefined): Promise<void> {
    const ver = verOf([`${node}+notify`]);
    const mallory = await login('mallory', node);
    mallory.send(capsPresence(ver));
    const q = await mallory.waitStanza(isDiscoQuery(ver));
    const victim = await login('victim', node);
    victim.sendPresenceWithCaps([`${node}+notify`]);
    // Sessions handle their stanzas in order: once the ping is answered, the presence (and its caps) was seen.
    await victim.iq(ping);
    const lie = answer(q, ver);
    if (lie !== undefined) {
      mallory.send(lie);
      await mallory.iq(ping);
    }
    const caps = t.server.service<CapsService>('caps')!;
    for (let i = 0; i < 200 && !caps.features(`victim@localhost/${node}`)?.has(`${node}+notify`); i++) await new Promise((r) => setTimeout(r, 10));
    await victim.iq(publish(node, 'k1'));
    const ev = await victim.waitStanza(isEvent(node));
    assert.equal(ev.attrs.from, 'victim@localhost');
    victim.end();
    mallory.end();
  }

  it('a lying answer to the shared query is not applied to the victim', async () => {
    await attack('urn:test:lie', (q, ver) => discoAnswer(q, ver, ['urn:test:nothing']));
  });

  it('an error answer to the shared query does not leave the victim without caps', async () => {
    await attack('urn:test:error', (q) => `<iq type='error' id='${q.attrs.id}' to='${q.attrs.from}'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`);
  });

  it('a silent attacker does not hold the victim back', async () => {
    await attack('urn:test:silent', () => undefined);
  });

  it('a session whose own query failed is asked again at its next presence', async () => {
    const node = 'urn:test:retry';
    const ver = verOf([`${node}+notify`]);
    const c = await login('victim', 'retry');
    c.send(capsPresence(ver));
    const q1 = await c.waitStanza(isDiscoQuery(ver));
    c.send(`<iq type='error' id='${q1.attrs.id}' to='${q1.attrs.from}'><error type='wait'><resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`);
    await c.iq(ping);
    // Same caps again (e.g. a status change): the server asks again, and this time the answer verifies.
    c.send(capsPresence(ver));
    const q2 = await c.waitStanza(isDiscoQuery(ver));
    c.send(discoAnswer(q2, ver, [`${node}+notify`]));
    await c.iq(ping);
    await c.iq(publish(node, 'r1'));
    await c.waitStanza(isEvent(node));
    c.end();
  });

  it('a liar gets its own answer, and the verified one once an honest advertiser answers', async () => {
    const node = 'urn:test:own';
    const ver = verOf([`${node}+notify`]);
    const caps = t.server.service<CapsService>('caps')!;
    const mallory = await login('mallory', 'own');
    mallory.send(capsPresence(ver));
    const q = await mallory.waitStanza(isDiscoQuery(ver));
    mallory.send(discoAnswer(q, ver, ['urn:test:claimed']));
    await mallory.iq(ping);
    for (let i = 0; i < 200 && !caps.features('mallory@localhost/own'); i++) await new Promise((r) => setTimeout(r, 10));
    // Nothing was cached: the hash did not verify.
    assert.equal(await t.storage.caps.get(`sha-1:${ver}`), undefined);
    const victim = await login('victim', 'own');
    victim.sendPresenceWithCaps([`${node}+notify`]);
    for (let i = 0; i < 200 && !caps.features('victim@localhost/own')?.has(`${node}+notify`); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(caps.features('victim@localhost/own')?.has(`${node}+notify`));
    assert.deepEqual((await t.storage.caps.get(`sha-1:${ver}`))?.features.sort(), [DISCO, `${node}+notify`].sort());
    // The verified answer is a fact about the hash, so it now holds for every advertiser of it.
    for (let i = 0; i < 200 && !caps.features('mallory@localhost/own')?.has(`${node}+notify`); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(caps.features('mallory@localhost/own')?.has(`${node}+notify`));
    victim.end();
    mallory.end();
  });
});
