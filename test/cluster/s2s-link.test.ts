// Federation from a cluster: two capulet.lit nodes (n1 in this process, the other a `pepkeys serve` child)
// on one PostgreSQL and NATS, and montague.lit, a single pepkeys server. montague.lit's route to capulet.lit
// names n1, so its streams (and its dialback verifications of the cluster's keys) land on n1, while the
// outbound link to montague.lit is held by the child: users on both nodes talk to Romeo over that one link,
// Romeo's stanzas reach users on both nodes, and montague.lit sees one inbound stream from capulet.lit.
// Then the holder stops answering on the bus (SIGSTOP): a sender gets an error, not silence; and it is
// killed (kill -9): n1 takes the link over and delivery carries on.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { clusterAvailability, startClusterEnv, type ClusterEnv } from '../helpers/cluster.ts';
import { startChildNode, type ChildNode } from '../helpers/cluster-child.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { until } from '../helpers/until.ts';
import { freePort } from '../helpers/nats.ts';
import { linkHolder } from '../../src/server/s2s/cluster-links.ts';
import type { CapsService } from '../../src/server/modules/caps/index.ts';
import type { Element } from '../../src/xml/index.ts';

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const PUBSUB = 'http://jabber.org/protocol/pubsub';
const EVENT = 'http://jabber.org/protocol/pubsub#event';
const NODE = 'urn:xmpp:test:s2s-cluster';
const availability = clusterAvailability();

const condition = (el: Element) => el.getChild('error')?.elements.find((e) => e.ns === STANZAS && e.local !== 'text')?.local;
const body = (id: string) => (e: Element) => e.name === 'message' && e.attrs.id === id;
const eventItem = (e: Element) => (e.name === 'message' ? e.getChild('event', EVENT)?.getChild('items')?.getChild('item')?.attrs.id : undefined);

describe('outbound federation from a cluster: one link per remote domain, held by one node', { skip: availability === 'skip' }, () => {
  let env: ClusterEnv | undefined;
  let n1: TestServer;
  let child: ChildNode | undefined;
  let mon: TestServer | undefined;
  const opened: RawClient[] = [];
  let juliet: RawClient;
  let nurse: RawClient;
  let romeo: RawClient;
  let benvolio: RawClient;
  let mercutio: RawClient;
  // A lease long enough that a stopped holder is still a member while its request times out.
  const cluster = { heartbeat_ms: 200, lease_ms: 20_000, request_timeout_ms: 1500 };
  const secret = randomBytes(32);
  // The child holds capulet.lit → montague.lit: pick its id so that it does.
  const holderId = ['n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8'].find((id) => linkHolder(['n1', id], 'capulet.lit', 'montague.lit') === id)!;

  // A remote domain whose link the child holds too, routed to a port where nobody listens.
  const deadDomain = ['gone1.lit', 'gone2.lit', 'gone3.lit', 'gone4.lit', 'gone5.lit', 'gone6.lit', 'gone7.lit', 'gone8.lit']
    .find((d) => linkHolder(['n1', holderId], 'capulet.lit', d) === holderId)!;

  const inboundFromCapulet = () => mon!.server.s2s!.status().inbound.filter((s) => s.domains.includes('capulet.lit')).length;

  async function login(port: number, jid: string, resource: string): Promise<RawClient> {
    const c = await RawClient.connect(port);
    opened.push(c);
    await c.login(jid, 'pw', resource);
    return c;
  }

  before(async () => {
    const users = { 'juliet@capulet.lit': 'pw', 'nurse@capulet.lit': 'pw', 'benvolio@capulet.lit': 'pw' };
    env = await startClusterEnv({ ids: ['n1'], hosts: ['capulet.lit'], users, cluster, saslSecret: secret, config: { s2s: { listen: ['127.0.0.1:0'] } } });
    n1 = env.nodes[0]!;
    mon = await startTestServer({ hosts: ['montague.lit'], users: { 'romeo@montague.lit': 'pw', 'mercutio@montague.lit': 'pw' }, config: { s2s: { listen: ['127.0.0.1:0'] } } });
    n1.server.s2s!.routes['montague.lit'] = `127.0.0.1:${mon.s2sPort}`;
    mon.server.s2s!.routes['capulet.lit'] = `127.0.0.1:${n1.s2sPort}`;
    child = await startChildNode({ id: holderId, host: 'capulet.lit', dbUrl: env.url, busUrl: env.nats.url, cluster, saslSecret: secret, s2s: { routes: { 'montague.lit': `127.0.0.1:${mon.s2sPort}`, [deadDomain]: `127.0.0.1:${await freePort()}` } } });
    await until(() => {
      if (child!.process.exitCode !== null) throw new Error(`${holderId} exited: ${child!.output()}`);
      return n1.server.cluster!.status().nodes.length === 2;
    }, `n1 sees ${holderId}`, 90_000);
    // Mutual subscriptions, written before anyone logs in (no cache to invalidate); the handshake itself,
    // both directions at once on two nodes, is roster-pair-race.test.ts's.
    for (const user of ['juliet@capulet.lit', 'nurse@capulet.lit']) {
      await n1.storage.roster.putItem(user, { jid: 'romeo@montague.lit', subscription: 'both', groups: [] });
      await mon.storage.roster.putItem('romeo@montague.lit', { jid: user, subscription: 'both', groups: [] });
    }
    juliet = await login(n1.port, 'juliet@capulet.lit', 'balcony');
    nurse = await login(child.port, 'nurse@capulet.lit', 'chamber');
    romeo = await login(mon.port, 'romeo@montague.lit', 'orchard');
  });

  after(async () => {
    for (const c of opened) c.destroy();
    await child?.kill();
    await mon?.stop();
    await env?.stop();
  });

  it('carries messages both ways for users on both nodes over one stream', { timeout: 120_000 }, async () => {
    juliet.send(`<message to='romeo@montague.lit/orchard' type='chat' id='j1'><body>from n1</body></message>`);
    nurse.send(`<message to='romeo@montague.lit/orchard' type='chat' id='n1'><body>from the holder</body></message>`);
    assert.equal((await romeo.waitStanza(body('j1'), 30_000)).attrs.from, 'juliet@capulet.lit/balcony');
    assert.equal((await romeo.waitStanza(body('n1'), 30_000)).attrs.from, 'nurse@capulet.lit/chamber');
    // Inbound s2s lands on n1; the nurse's session is on the other node.
    romeo.send(`<message to='juliet@capulet.lit/balcony' type='chat' id='r1'><body>to n1</body></message>`);
    romeo.send(`<message to='nurse@capulet.lit/chamber' type='chat' id='r2'><body>to the holder</body></message>`);
    assert.equal((await juliet.waitStanza(body('r1'), 30_000)).attrs.from, 'romeo@montague.lit/orchard');
    assert.equal((await nurse.waitStanza(body('r2'), 30_000)).attrs.from, 'romeo@montague.lit/orchard');
    assert.equal(inboundFromCapulet(), 1, JSON.stringify(mon!.server.s2s!.status().inbound));
    assert.deepEqual(n1.server.s2s!.status().outbound.filter((l) => l.remote === 'montague.lit'), [], 'n1 opened its own link');
  });

  it("returns the holder's link failure to a sender on another node", { timeout: 120_000 }, async () => {
    juliet.send(`<message to='someone@${deadDomain}' type='chat' id='dead'><body>hello?</body></message>`);
    const err = await juliet.waitStanza((e) => e.name === 'message' && e.attrs.id === 'dead' && e.attrs.type === 'error', 60_000);
    assert.equal(condition(err), 'remote-server-not-found', err.toString());
    assert.equal(n1.server.s2s!.status().outbound.length, 0, 'n1 tried the link itself');
  });

  it('notifies a remote contact of PEP items published on either node', { timeout: 120_000 }, async () => {
    const romeoPep = await login(mon!.port, 'romeo@montague.lit', 'pep');
    romeoPep.sendPresenceWithCaps([`${NODE}+notify`]);
    // n1 receives Romeo's presence (montague.lit's route names it) and learns his caps over s2s.
    const caps = n1.server.service<CapsService>('caps')!;
    await until(() => caps.remoteResources('romeo@montague.lit', 'nurse@capulet.lit').some((r) => r.jid === 'romeo@montague.lit/pep'), 'n1 knows what romeo/pep wants', 30_000);
    const publish = (c: RawClient, id: string) => c.iq(`<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='${NODE}'><item id='${id}'><v xmlns='urn:test'/></item></publish></pubsub></iq>`, 20_000);
    assert.equal((await publish(juliet, 'from-n1')).attrs.type, 'result');
    assert.equal((await publish(nurse, 'from-holder')).attrs.type, 'result');
    const a = await romeoPep.waitStanza((e) => eventItem(e) === 'from-n1', 30_000);
    assert.equal(a.attrs.from, 'juliet@capulet.lit');
    const b = await romeoPep.waitStanza((e) => eventItem(e) === 'from-holder', 30_000);
    assert.equal(b.attrs.from, 'nurse@capulet.lit');
  });

  it('bounces with an error when the holder does not answer on the bus', { timeout: 120_000 }, async () => {
    child!.process.kill('SIGSTOP');
    try {
      juliet.send(`<message to='romeo@montague.lit/orchard' type='chat' id='stopped'><body>anyone?</body></message>`);
      const err = await juliet.waitStanza((e) => e.name === 'message' && e.attrs.id === 'stopped' && e.attrs.type === 'error', 60_000);
      assert.equal(condition(err), 'remote-server-timeout');
    } finally {
      child!.process.kill('SIGCONT');
    }
  });

  it('moves the link to n1 when the holder is killed, and delivery carries on', { timeout: 120_000 }, async () => {
    // Directed presence (RFC 6121 §4.6) from the holder's user to two entities without a subscription, one
    // on n1 and one remote: when her node dies they must learn she is gone (§4.6.3), from the survivor.
    benvolio = await login(n1.port, 'benvolio@capulet.lit', 'square');
    mercutio = await login(mon!.port, 'mercutio@montague.lit', 'street');
    nurse.send(`<presence to='benvolio@capulet.lit/square'/>`);
    nurse.send(`<presence to='mercutio@montague.lit/street'/>`);
    const from = 'nurse@capulet.lit/chamber';
    await benvolio.waitStanza((e) => e.name === 'presence' && e.attrs.from === from && e.attrs.type === undefined, 30_000);
    await mercutio.waitStanza((e) => e.name === 'presence' && e.attrs.from === from && e.attrs.type === undefined, 30_000);
    const exited = new Promise((r) => child!.process.once('exit', r));
    child!.process.kill('SIGKILL');
    await exited;
    // NATS notices the dead connection a moment after the process is gone: a stanza handed over in that moment
    // is bounced (remote-server-timeout) rather than lost. Send again after such an error, never after silence.
    let n = 0;
    await until(async () => {
      const id = `after-${n++}`;
      juliet.send(`<message to='romeo@montague.lit/orchard' type='chat' id='${id}'><body>still there?</body></message>`);
      const bounced = (e: Element) => e.attrs.id === id && e.attrs.type === 'error';
      await until(() => romeo.stanzas.some(body(id)) || juliet.stanzas.some(bounced), `${id} delivered or bounced`, 60_000);
      return romeo.stanzas.some(body(id));
    }, 'a message gets through after the holder died', 90_000);
    assert.equal(n1.server.s2s!.status().outbound.filter((l) => l.remote === 'montague.lit' && l.authenticated).length, 1);
    await until(() => inboundFromCapulet() === 1, 'montague.lit sees one stream from capulet.lit again', 30_000);
    romeo.send(`<message to='juliet@capulet.lit/balcony' type='chat' id='back'><body>yes</body></message>`);
    await juliet.waitStanza(body('back'), 30_000);
  });

  it("tells the holder's users' directed-presence contacts they are gone, local and remote", { timeout: 120_000 }, async () => {
    const from = 'nurse@capulet.lit/chamber';
    // n1 ends the dead node's sessions once its lease has run out.
    await benvolio.waitStanza((e) => e.name === 'presence' && e.attrs.from === from && e.attrs.type === 'unavailable', 60_000);
    await mercutio.waitStanza((e) => e.name === 'presence' && e.attrs.from === from && e.attrs.type === 'unavailable', 60_000);
  });
});
