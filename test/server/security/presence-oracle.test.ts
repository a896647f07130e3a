// Issue 19, finding 11: a direct XEP-0189 key request (§7, an IQ get to a full JID) must not tell a stranger
// whether the contact is online. The stranger compares the answer for a resource that is online (and whose
// client refuses) with the answer for one that is not there: the stanzas must be the same bytes (after the
// id), and the request must not reach the online client at all, so there is no round trip to time either.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { RawClient } from '../../helpers/raw-client.ts';
import { befriend } from '../../helpers/roster-setup.ts';
import { XmppClient, KeysClient } from '../../../src/client/index.ts';
import { TrustStore, MemoryTrustBackend, generateKeyPair, createPubkey } from '../../../src/keys/index.ts';
import type { Element } from '../../../src/xml/index.ts';

const users = { 'juliet@capulet.lit': 'juliet-pw', 'romeo@montague.lit': 'romeo-pw', 'nurse@capulet.lit': 'nurse-pw' };
const NS = ['urn:xmpp:pubkey:2', 'urn:xmpp:pubkey:1'];

describe('finding 11: direct key requests are no presence oracle', () => {
  let t: TestServer;
  const raws: RawClient[] = [];
  const clients: XmppClient[] = [];
  /** Direct requests that reached Juliet's online client. */
  const reached: Element[] = [];
  let nurse: RawClient;
  let romeo: RawClient;

  before(async () => {
    t = await startTestServer({ hosts: ['capulet.lit', 'montague.lit'], users });
    const conn = { host: '127.0.0.1', port: t.port, tls: { rejectUnauthorized: false } };
    // Romeo is Juliet's contact (both ways, group Friends); the Nurse has no relationship with her at all.
    await befriend(conn, { jid: 'juliet@capulet.lit', password: users['juliet@capulet.lit'] }, { jid: 'romeo@montague.lit', password: users['romeo@montague.lit'] }, ['Friends'], []);
    const jc = await XmppClient.connect({ ...conn, jid: 'juliet@capulet.lit', password: users['juliet@capulet.lit'], resource: 'balcony' });
    clients.push(jc);
    jc.on('stanza', (el) => {
      if (el.name === 'iq' && el.elements[0]?.local === 'pubkey') reached.push(el);
    });
    // The SDK with a policy that refuses everyone: every direct request that reaches it is refused.
    const keys = new KeysClient(jc, { trust: new TrustStore(new MemoryTrustBackend()), directAccess: () => false });
    await keys.onlineAndReady();
    const pair = await generateKeyPair({ type: 'ed25519' });
    const pk = createPubkey({ publicKey: pair.publicKey, jid: 'juliet@capulet.lit', begin: new Date(), end: new Date(Date.now() + 864e5) });
    await keys.publishKey(pk, { accessModel: 'roster', rosterGroups: ['Friends'] });
    nurse = await RawClient.connect(t.port);
    raws.push(nurse);
    await nurse.login('nurse@capulet.lit', users['nurse@capulet.lit'], 'r');
    nurse.send('<presence/>');
    romeo = await RawClient.connect(t.port);
    raws.push(romeo);
    await romeo.login('romeo@montague.lit', users['romeo@montague.lit'], 'r');
    romeo.send('<presence/>');
  });

  after(async () => {
    for (const c of clients) await c.close();
    for (const r of raws) r.destroy();
    await t?.stop();
  });

  /** The raw bytes answering one direct request, with the id replaced. */
  async function ask(c: RawClient, to: string, ns: string, id: string): Promise<string> {
    const start = c.text.length;
    c.send(`<iq type='get' id='${id}' to='${to}'><pubkey xmlns='${ns}'/></iq>`);
    await c.waitStanza((e) => e.name === 'iq' && e.attrs.id === id);
    return c.text.slice(start).split(id).join('ID');
  }

  it('answers a stranger the same bytes for an online resource as for a missing one, without asking the client', async () => {
    for (const ns of NS) {
      const before = reached.length;
      const online = await ask(nurse, 'juliet@capulet.lit/balcony', ns, `on-${ns}`);
      const missing = await ask(nurse, 'juliet@capulet.lit/nowhere', ns, `off-${ns}`);
      assert.match(missing, /service-unavailable/);
      assert.equal(online.replace('/balcony', '/R'), missing.replace('/nowhere', '/R'), `${ns}: online vs missing resource`);
      // The server answered for the client: no round trip through it that a stranger could time.
      assert.equal(reached.length, before, `${ns}: the stranger's request reached the client`);
    }
  });

  it("also for a stranger who asks an account that published no key node", async () => {
    // Romeo published no key node; a raw client of his refuses as the SDK does.
    const r2 = await RawClient.connect(t.port);
    raws.push(r2);
    await r2.login('romeo@montague.lit', users['romeo@montague.lit'], 'other');
    r2.send('<presence/>');
    const seen: string[] = [];
    r2.respond((e) => e.name === 'iq' && e.elements[0]?.local === 'pubkey', (e) => {
      seen.push(e.attrs.id!);
      return `<iq type='error' id='${e.attrs.id}' to='${e.attrs.from}'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`;
    });
    await r2.iq(`<iq type='get' to='montague.lit'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const online = await ask(nurse, 'romeo@montague.lit/other', NS[0]!, 'n-on');
    const missing = await ask(nurse, 'romeo@montague.lit/nowhere', NS[0]!, 'n-off');
    assert.equal(online.replace('/other', '/R'), missing.replace('/nowhere', '/R'));
    assert.deepEqual(seen, []);
  });

  it("serialises the SDK's refusal exactly like the server's bounce (for contacts, who see presence anyway)", async () => {
    const before = reached.length;
    const online = await ask(romeo, 'juliet@capulet.lit/balcony', NS[0]!, 'c-on');
    const missing = await ask(romeo, 'juliet@capulet.lit/nowhere', NS[0]!, 'c-off');
    // A contact's request does reach the client (its policy decides), and its refusal is the same stanza.
    assert.equal(reached.length, before + 1);
    assert.equal(online.replace('/balcony', '/R'), missing.replace('/nowhere', '/R'));
  });

  it('still forwards direct requests from entities the access model admits', async () => {
    // Romeo may read Juliet's key node (roster model, group Friends): his request reaches her client.
    const n = reached.length;
    await ask(romeo, 'juliet@capulet.lit/balcony', NS[1]!, 'c-fwd');
    assert.equal(reached.length, n + 1);
  });
});
