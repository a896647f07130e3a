// `pepkeys s2s status` and `pepkeys check s2s DOMAIN` against two running servers (each with its data
// directory and admin socket) federating on loopback with static routes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRunningServer, type RunningServer } from '../server/admin/running-server.ts';
import { RawClient } from '../helpers/raw-client.ts';

describe('pepkeys s2s status and pepkeys check s2s', () => {
  let cap: RunningServer;
  let mon: RunningServer;
  const clients: RawClient[] = [];
  before(async () => {
    const s2s = { s2s: { listen: ['127.0.0.1:0'] } };
    cap = await startRunningServer(['capulet.lit'], s2s);
    mon = await startRunningServer(['montague.lit'], s2s);
    const port = (t: RunningServer) => t.s2sPort;
    cap.server.s2s!.routes['montague.lit'] = `127.0.0.1:${port(mon)}`;
    mon.server.s2s!.routes['capulet.lit'] = `127.0.0.1:${port(cap)}`;
    cap.server.s2s!.routes['verona.lit'] = '127.0.0.1:1';
    await cap.addUser('juliet@capulet.lit', 'pw');
    await mon.addUser('romeo@montague.lit', 'pw');
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await cap?.stop();
    await mon?.stop();
  });

  it('says when there is no connection yet', async () => {
    const r = await cap.cli(['s2s', 'status']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'no server-to-server connections\n');
  });

  it('lists the link both ways once a stanza crossed: direction, dialback, queue, age', async () => {
    const juliet = await RawClient.connect(cap.port);
    clients.push(juliet);
    await juliet.login('juliet@capulet.lit', 'pw', 'balcony');
    const romeo = await RawClient.connect(mon.port);
    clients.push(romeo);
    await romeo.login('romeo@montague.lit', 'pw', 'orchard');
    juliet.send(`<message to='romeo@montague.lit/orchard' id='m1'><body>hi</body></message>`);
    await romeo.waitStanza((e) => e.attrs.id === 'm1', 10_000);
    const json = await cap.cli(['s2s', 'status', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const out = JSON.parse(json.stdout);
    assert.equal(out.enabled, true);
    const link = out.links.find((l: { direction: string; remote: string }) => l.direction === 'outbound' && l.remote === 'montague.lit');
    assert.deepEqual({ ...link, ageSeconds: typeof link.ageSeconds }, { direction: 'outbound', local: 'capulet.lit', remote: 'montague.lit', authenticated: true, method: 'dialback', queued: 0, ageSeconds: 'number' });
    const inbound = JSON.parse((await mon.cli(['s2s', 'status', '--json'])).stdout).links.find((l: { direction: string }) => l.direction === 'inbound');
    assert.equal(inbound.remote, 'capulet.lit');
    assert.equal(inbound.method, 'dialback');
    const text = await cap.cli(['s2s', 'status']);
    assert.match(text.stdout, /^DOMAIN +DIRECTION +AUTH +QUEUED +AGE\nmontague\.lit +out \(from capulet\.lit\) +dialback +0 +\d+s$/m);
  });

  it('checks a working peer step by step and exits 0', async () => {
    const r = await cap.cli(['check', 's2s', 'montague.lit']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ ok +resolve +montague\.lit → 127\.0\.0\.1:\d+ \(static route/);
    assert.match(r.stdout, /^ ok +connect +connected to 127\.0\.0\.1:\d+$/m);
    assert.match(r.stdout, /^ ok +stream +stream opened .*offered: STARTTLS \(required\)/m);
    assert.match(r.stdout, /^ ok +starttls +TLS established: TLSv1\.[23]/m);
    // The test servers' certificates are self-signed: a warning, dialback still proves the domain.
    assert.match(r.stdout, /^warn +certificate +certificate not verifiable/m);
    assert.match(r.stdout, /^ ok +dialback +montague\.lit accepted capulet\.lit/m);
    assert.equal(lines.at(-1), 'montague.lit: federation works');
  });

  it('reports the step that fails and exits 1: nothing listens at the address', async () => {
    const r = await cap.cli(['check', 's2s', 'verona.lit', '--json']);
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout);
    assert.equal(out.ok, false);
    assert.deepEqual(out.steps.map((s: { step: string; ok: boolean }) => [s.step, s.ok]), [['resolve', true], ['connect', false]]);
    assert.match(out.steps[1].text, /ECONNREFUSED/);
  });

  it('refuses to check a domain served here', async () => {
    const r = await cap.cli(['check', 's2s', 'capulet.lit']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /capulet\.lit is served here/);
  });
});
