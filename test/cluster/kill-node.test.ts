// kill -9 of a cluster node during publish load. Node n1 runs in this process; node n2 is a `pepkeys serve`
// child process on the same PostgreSQL and NATS (both started here). Juliet publishes PEP items through n2
// with several in flight; n2 is SIGKILLed mid-load. Then: every publish n2 acknowledged is in PostgreSQL;
// Romeo, on n1, sees Juliet go unavailable (within the lease: the wait is bounded, not timed); Juliet logs
// in again on n1 and carries on, and Romeo gets her next item.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Storage } from '../../src/storage/types.ts';
import { clusterAvailability, startClusterEnv, type ClusterEnv } from '../helpers/cluster.ts';
import { freePort } from '../helpers/nats.ts';
import type { TestServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { until } from '../helpers/until.ts';
import type { Element } from '../../src/xml/index.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'src/cli/main.ts');
const PUBSUB = 'http://jabber.org/protocol/pubsub';
const NODE = 'urn:xmpp:test:load';
const EVENT = 'http://jabber.org/protocol/pubsub#event';
const WINDOW = 8;

const availability = clusterAvailability();

describe('kill -9 of a cluster node during publish load', { skip: availability === 'skip' }, () => {
  let env: ClusterEnv | undefined;
  let n1: TestServer | undefined;
  let child: ChildProcess | undefined;
  let dir: string | undefined;
  let n2Port = 0;
  let output = '';
  let storage: Storage;
  const clients: RawClient[] = [];

  before(async () => {
    const cluster = { heartbeat_ms: 200, lease_ms: 1500 };
    env = await startClusterEnv({ ids: ['n1'], users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' }, cluster });
    const { url, nats } = env;
    n1 = env.nodes[0]!;
    storage = n1.storage;
    await storage.roster.putItem('juliet@localhost', { jid: 'romeo@localhost', subscription: 'both', groups: [] });
    await storage.roster.putItem('romeo@localhost', { jid: 'juliet@localhost', subscription: 'both', groups: [] });

    dir = mkdtempSync(join(tmpdir(), 'pepkeys-kill-node-'));
    n2Port = await freePort();
    writeFileSync(join(dir, 'pepkeys.toml'), [
      '[c2s]', 'tls_listen = []', '',
      '[limits]', 'stanzas_per_second = 0', 'bytes_per_second = 0', 'max_connections_per_ip = 0', '',
      '[storage]', 'driver = "postgres"', `url = "${url}"`, '',
      '[cluster]', 'enabled = true', 'node_id = "n2"', `bus_url = "${nats.url}"`, `heartbeat_ms = ${cluster.heartbeat_ms}`, `lease_ms = ${cluster.lease_ms}`, '',
    ].join('\n'));
    const c = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--config', join(dir, 'pepkeys.toml'), '--data', join(dir, 'data'), '--host', 'localhost',
      '--listen', `127.0.0.1:${n2Port}`, '--insecure-plain-auth', '--log-level', 'warn'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child = c;
    await until(() => {
      if (c.exitCode !== null) throw new Error(`n2 exited: ${output}`);
      return n1!.server.cluster!.status().nodes.length === 2;
    }, 'n1 sees n2', 90_000);
  });

  after(async () => {
    for (const c of clients) c.destroy();
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await env?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function login(port: number, user: string, resource: string): Promise<RawClient> {
    const c = await RawClient.connect(port);
    clients.push(c);
    await c.login(`${user}@localhost`, 'pw', resource);
    // Available, with caps that ask for the load node's notifications.
    c.respond((e) => e.name === 'iq' && e.getChild('query')?.attrs.xmlns === 'http://jabber.org/protocol/disco#info', (e) =>
      `<iq type='result' id='${e.attrs.id}' to='${e.attrs.from}'><query xmlns='http://jabber.org/protocol/disco#info' node='${e.getChild('query')!.attrs.node ?? ''}'><identity category='client' type='pc'/><feature var='${NODE}+notify'/></query></iq>`);
    c.send(`<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='urn:test' ver='notverifiable='/></presence>`);
    return c;
  }

  const publish = (id: string) => `<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='${NODE}'><item id='${id}'><entry xmlns='urn:test'>${id}</entry></item></publish></pubsub></iq>`;

  it('keeps every acknowledged item, shows Juliet unavailable to Romeo, and Juliet carries on on another node', { timeout: 240_000 }, async () => {
    const romeo = await login(n1!.port, 'romeo', 'orchard');
    await until(() => n1!.server.sessions.get('romeo@localhost/orchard')?.available === true, 'romeo available on n1');
    const juliet = await login(n2Port, 'juliet', 'balcony');
    await romeo.waitStanza((e) => e.name === 'presence' && e.attrs.from === 'juliet@localhost/balcony' && e.attrs.type === undefined, 20_000);

    // Publish load: WINDOW in flight; n2 is killed once 30 are acknowledged.
    const acked: string[] = [];
    let next = 0;
    let dead = false;
    const died = juliet.closed.then(() => void (dead = true));
    const lanes = Array.from({ length: WINDOW }, async () => {
      while (!dead && next < 200) {
        const id = `item-${next++}`;
        const r: Element | undefined = await Promise.race([juliet.iq(publish(id), 20_000).catch(() => undefined), died.then(() => undefined)]);
        if (r?.attrs.type === 'result') acked.push(id);
        else if (r) throw new Error(`publish refused: ${r.toString()}`);
      }
    });
    await until(() => acked.length >= 30, '30 acknowledged publishes', 60_000);
    const exited = new Promise((r) => child!.once('exit', r));
    child!.kill('SIGKILL');
    await exited;
    await Promise.all(lanes);

    // Romeo's node learns of the death from the lease and ends n2's sessions on their behalf.
    await romeo.waitStanza((e) => e.name === 'presence' && e.attrs.from === 'juliet@localhost/balcony' && e.attrs.type === 'unavailable', 30_000);
    await until(() => n1!.server.cluster!.status().nodes.length === 1, 'n2 gone from the cluster');

    const stored = new Set((await storage.pubsub.getItems('juliet@localhost', NODE)).map((i) => i.id));
    const lost = acked.filter((id) => !stored.has(id));
    assert.deepEqual(lost, [], `acknowledged items missing after kill -9 (acknowledged ${acked.length})`);

    // Juliet reconnects, to the surviving node, and carries on.
    const again = await login(n1!.port, 'juliet', 'balcony');
    await until(() => n1!.server.sessions.get('juliet@localhost/balcony')?.available === true, 'juliet available on n1');
    const r = await again.iq(publish('after-crash'), 20_000);
    assert.equal(r.attrs.type, 'result');
    const ev = await romeo.waitStanza((e) => e.name === 'message' && e.getChild('event', EVENT)?.getChild('items')?.getChild('item')?.attrs.id === 'after-crash', 20_000);
    assert.equal(ev.attrs.from, 'juliet@localhost');
  });
});
