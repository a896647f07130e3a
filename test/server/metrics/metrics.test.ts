// /metrics, /healthz and /readyz of a server started as `pepkeys serve` starts it (startServer, SQLite on
// disk, the HTTP listener of http.listen): a real failed login, logins, a burst of PEP publishes and their
// notifications move the counters by exactly what was done.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, parseConfig, deriveCredentials, type XmppServer } from '../../../src/server/index.ts';
import type { CapsService } from '../../../src/server/modules/caps/index.ts';
import { RawClient, NS_HEADER } from '../../helpers/raw-client.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const EVENT = 'http://jabber.org/protocol/pubsub#event';
const NODE = 'urn:example:mood';

/** The value of one sample of the exposition, e.g. sample(text, 'pepkeys_stanzas_in_total{kind="iq"}'); 0 when absent. */
function sample(text: string, series: string): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    if (line.slice(0, i) === series) return Number(line.slice(i + 1));
  }
  return 0;
}

describe('metrics and health endpoints', () => {
  let dir: string;
  let server: XmppServer;
  let port: number;
  let base: string;
  const clients: RawClient[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pepkeys-metrics-'));
    const config = parseConfig({
      hosts: ['localhost'],
      data_dir: dir,
      log_level: 'silent',
      storage: { sync: 'normal' },
      c2s: { listen: ['127.0.0.1:0'], require_tls: false, insecure_plain_auth: true },
      limits: { auth_failure_delay_ms: 0 },
      http: { listen: ['127.0.0.1:0'] },
    });
    const started = await startServer(config);
    server = started.server;
    port = started.addresses.c2s[0]!.port;
    base = `http://127.0.0.1:${started.http[0]!.port}`;
    for (const u of ['owner', 'friend']) await server.storage.accounts.create(`${u}@localhost`, deriveCredentials('pw', 4096));
    await server.storage.roster.putItem('owner@localhost', { jid: 'friend@localhost', subscription: 'both', groups: [] });
    await server.storage.roster.putItem('friend@localhost', { jid: 'owner@localhost', subscription: 'both', groups: [] });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const scrape = async () => {
    const r = await fetch(`${base}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    return r.text();
  };

  async function login(user: string, resource: string, notify: boolean): Promise<RawClient> {
    const c = await RawClient.connect(port);
    clients.push(c);
    await c.login(`${user}@localhost`, 'pw', resource);
    if (!notify) return c;
    c.sendPresenceWithCaps([`${NODE}+notify`]);
    const caps = server.service<CapsService>('caps')!;
    for (let i = 0; i < 200 && !caps.features(`${user}@localhost/${resource}`); i++) await new Promise((r) => setTimeout(r, 10));
    return c;
  }

  it('answers /healthz and /readyz with 200 once started, and 404 elsewhere', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(await ready.text(), 'ready\n');
    assert.equal((await fetch(`${base}/nothing`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  });

  it('counts a wrong password as bad-credentials (other failures are counted by their SASL condition)', async () => {
    const before = await scrape();
    const c = await RawClient.connect(port);
    clients.push(c);
    c.send(NS_HEADER('localhost'));
    await c.waitStanza((e) => e.local === 'features');
    c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0owner\0wrong').toString('base64')}</auth>`);
    await c.waitStanza((e) => e.local === 'failure');
    const after = await scrape();
    const series = 'pepkeys_auth_failures_total{reason="bad-credentials"}';
    assert.equal(sample(after, series) - sample(before, series), 1);
  });

  it('counts sessions, stanzas in and out by kind, publishes, notifications and storage commits', async () => {
    const publisher = await login('owner', 'pub', false);
    const ownerWatch = await login('owner', 'watch', true);
    const friendWatch = await login('friend', 'watch', true);
    // The caps disco#info round trips above are over: everything from here on is the burst.
    const before = await scrape();
    assert.equal(sample(before, 'pepkeys_sessions{host="localhost"}'), 3);

    // Three publishes in one write: they share a commit, and each watcher gets its three notifications in
    // one write (the PEP outbox), which must still count as three messages.
    const ids = ['p1', 'p2', 'p3'];
    publisher.send(ids.map((id) => `<iq type='set' id='${id}'><pubsub xmlns='${PUBSUB}'><publish node='${NODE}'><item id='${id}'><mood xmlns='${NODE}'>${id}</mood></item></publish></pubsub></iq>`).join(''));
    for (const id of ids) assert.equal((await publisher.waitStanza((e) => e.attrs.id === id)).attrs.type, 'result');
    const events = (c: RawClient) => c.stanzas.filter((e) => e.name === 'message' && e.getChild('event', EVENT));
    for (const c of [ownerWatch, friendWatch]) {
      for (let i = 0; i < 300 && events(c).length < 3; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(events(c).length, 3);
    }
    const after = await scrape();
    const delta = (series: string) => sample(after, series) - sample(before, series);

    assert.equal(delta('pepkeys_stanzas_in_total{kind="iq"}'), 3);
    assert.equal(delta('pepkeys_stanzas_in_total{kind="message"}'), 0);
    assert.equal(delta('pepkeys_stanzas_out_total{kind="iq"}'), 3);
    assert.equal(delta('pepkeys_stanzas_out_total{kind="message"}'), 6);
    assert.equal(delta('pepkeys_stanzas_out_total{kind="presence"}'), 0);
    assert.equal(delta('pepkeys_pep_published_total'), 3);
    assert.equal(delta('pepkeys_pep_notifications_total'), 6);
    assert.ok(delta('pepkeys_storage_commit_seconds_count') >= 1, 'the publishes were committed');
    assert.equal(sample(after, 'pepkeys_sessions{host="localhost"}'), 3);
    assert.ok(sample(after, 'pepkeys_connections') >= 3);
    assert.match(after, /^nodejs_eventloop_lag_seconds \d/m);
    assert.match(after, /^# TYPE pepkeys_storage_commit_seconds histogram$/m);

    ownerWatch.destroy();
    for (let i = 0; i < 200 && server.sessions.size > 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(sample(await scrape(), 'pepkeys_sessions{host="localhost"}'), 2);
  });
});
