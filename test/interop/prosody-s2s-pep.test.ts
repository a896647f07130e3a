// PEP between pepkeys and a real Prosody 0.12 over s2s, both directions, filtered by entity caps: each server
// learns the other's user's caps by disco#info across the federation link and notifies only the nodes it
// asked for (+notify); a new resource gets the contact's last item when its presence arrives.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startProsody, skipProsody, type ProsodyServer } from '../helpers/prosody.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { befriendAcross } from '../helpers/roster-setup.ts';
import type { CapsService } from '../../src/server/modules/caps/index.ts';
import type { Element } from '../../src/xml/index.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const EVENT = 'http://jabber.org/protocol/pubsub#event';

const publish = (node: string, id: string) => `<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='${node}'><item id='${id}'><v xmlns='urn:test'>${id}</v></item></publish></pubsub></iq>`;
const eventItem = (e: Element, node: string) => {
  const items = e.name === 'message' ? e.getChild('event', EVENT)?.getChild('items') : undefined;
  return items?.attrs.node === node ? items.getChild('item')?.attrs.id : undefined;
};

describe('PEP with Prosody across s2s, filtered by caps', { skip: skipProsody() && 'prosody not installed and PEPKEYS_SKIP_PROSODY=1' }, () => {
  let cap: TestServer;
  let p: ProsodyServer;
  const opened: RawClient[] = [];
  let juliet: RawClient;
  let romeo: RawClient;
  const withLog = (err: unknown): never => {
    throw new Error(`${(err as Error).message}\nprosody log:\n${p.log().slice(-3000)}`);
  };

  async function connect(port: number, jid: string, pw: string, resource: string): Promise<RawClient> {
    const c = await RawClient.connect(port);
    opened.push(c);
    await c.login(jid, pw, resource);
    return c;
  }

  before(async () => {
    cap = await startTestServer({ hosts: ['capulet.lit'], users: { 'juliet@capulet.lit': 'pw' }, config: { s2s: { listen: ['127.0.0.1:0'] } } });
    p = await startProsody({ hosts: ['montague.lit'], users: { 'romeo@montague.lit': 'romeo-pw' }, s2s: { routes: { 'capulet.lit': `127.0.0.1:${cap.s2sPort}` } } });
    cap.server.s2s!.routes['montague.lit'] = `127.0.0.1:${p.s2sPort}`;
    const tls = { rejectUnauthorized: false };
    await befriendAcross({ host: '127.0.0.1', port: cap.port, tls }, { host: '127.0.0.1', port: p.port, tls }, { jid: 'juliet@capulet.lit', password: 'pw' }, { jid: 'romeo@montague.lit', password: 'romeo-pw' }, ['Friends'], [], 20_000);
  });
  after(async () => {
    for (const c of opened) c.destroy();
    await cap?.stop();
    await p?.stop();
  });

  it('pepkeys learns the Prosody user\'s caps over s2s and notifies him only of the nodes he wants', async () => {
    juliet = await connect(cap.port, 'juliet@capulet.lit', 'pw', 'balcony');
    juliet.sendPresenceWithCaps(['urn:test:r+notify']);
    romeo = await connect(p.port, 'romeo@montague.lit', 'romeo-pw', 'orchard');
    romeo.sendPresenceWithCaps(['urn:test:a+notify']);
    const caps = cap.server.service<CapsService>('caps')!;
    for (let i = 0; i < 1500 && !caps.remoteFeatures('romeo@montague.lit/orchard'); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(caps.remoteFeatures('romeo@montague.lit/orchard')?.has('urn:test:a+notify'), `caps of the Prosody user not learnt\n${p.log().slice(-3000)}`);
    assert.equal((await juliet.iq(publish('urn:test:b', 'b1'))).attrs.type, 'result');
    assert.equal((await juliet.iq(publish('urn:test:a', 'a1'))).attrs.type, 'result');
    const ev = await romeo.waitStanza((e) => eventItem(e, 'urn:test:a') === 'a1', 15_000).catch(withLog);
    assert.equal(ev.attrs.from, 'juliet@capulet.lit');
    assert.ok(!romeo.stanzas.some((e) => eventItem(e, 'urn:test:b') !== undefined), 'no urn:test:b notification without +notify');
  });

  it('a new Prosody resource gets the pepkeys user\'s last item when its presence arrives', async () => {
    const tomb = await connect(p.port, 'romeo@montague.lit', 'romeo-pw', 'tomb');
    tomb.sendPresenceWithCaps(['urn:test:a+notify']);
    await tomb.waitStanza((e) => eventItem(e, 'urn:test:a') === 'a1', 15_000).catch(withLog);
  });

  it('Prosody notifies the pepkeys user, filtered by the caps it learnt from pepkeys over s2s', async () => {
    assert.equal((await romeo.iq(publish('urn:test:s', 's1'), 15_000)).attrs.type, 'result');
    assert.equal((await romeo.iq(publish('urn:test:r', 'r1'), 15_000)).attrs.type, 'result');
    const ev = await juliet.waitStanza((e) => eventItem(e, 'urn:test:r') === 'r1', 15_000).catch(withLog);
    assert.equal(ev.attrs.from, 'romeo@montague.lit');
    assert.ok(!juliet.stanzas.some((e) => eventItem(e, 'urn:test:s') !== undefined), 'no urn:test:s notification without +notify');
  });

  it('a new pepkeys resource gets the Prosody user\'s last item', async () => {
    const nurse = await connect(cap.port, 'juliet@capulet.lit', 'pw', 'chamber');
    nurse.sendPresenceWithCaps(['urn:test:r+notify']);
    await nurse.waitStanza((e) => eventItem(e, 'urn:test:r') === 'r1', 15_000).catch(withLog);
  });
});
