// A PEP notification for a contact on another cluster node that cannot get there (its node does not
// answer: the bus is down) used to vanish without a trace. It is now counted in the metrics
// (pepkeys_cluster_undeliverable_total, kind headline) and logged, and the publish itself still succeeds.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { clusterAvailability, startClusterEnv, type ClusterEnv } from '../helpers/cluster.ts';
import { captureLogger, type LogLine } from '../helpers/log-capture.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { until } from '../helpers/until.ts';
import { ServerMetrics } from '../../src/server/metrics/server-metrics.ts';
import type { CapsService } from '../../src/server/modules/caps/index.ts';

const PUBSUB = 'http://jabber.org/protocol/pubsub';
const EVENT = 'http://jabber.org/protocol/pubsub#event';
const NODE = 'urn:xmpp:test:undeliverable';
const SERIES = 'pepkeys_cluster_undeliverable_total{kind="headline",reason="unreachable",outcome="dropped"}';
const availability = clusterAvailability();

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('cross-node delivery failures of PEP notifications', { skip: availability === 'skip' }, () => {
  let env: ClusterEnv | undefined;
  let metrics: ServerMetrics | undefined;
  const log = captureLogger('info');
  const clients: RawClient[] = [];

  before(async () => {
    env = await startClusterEnv({
      ids: ['n1', 'n2'],
      users: { 'juliet@localhost': 'pw', 'romeo@localhost': 'pw' },
      cluster: { heartbeat_ms: 100, lease_ms: 30_000, request_timeout_ms: 500 },
      logger: (id) => (id === 'n1' ? log.logger : undefined),
    });
    await env.nodes[0]!.storage.roster.putItem('juliet@localhost', { jid: 'romeo@localhost', subscription: 'both', groups: [] });
    await env.nodes[0]!.storage.roster.putItem('romeo@localhost', { jid: 'juliet@localhost', subscription: 'both', groups: [] });
    metrics = new ServerMetrics(env.nodes[0]!.server);
  });
  after(async () => {
    metrics?.detach();
    for (const c of clients) c.destroy();
    await env?.stop();
  });

  it('counts and logs a notification to a node that does not answer', { timeout: 120_000 }, async () => {
    const [n1, n2] = env!.nodes as [NonNullable<ClusterEnv['nodes'][0]>, NonNullable<ClusterEnv['nodes'][0]>];
    const juliet = await RawClient.connect(n1.port);
    const romeo = await RawClient.connect(n2.port);
    clients.push(juliet, romeo);
    await juliet.login('juliet@localhost', 'pw', 'balcony');
    await romeo.login('romeo@localhost', 'pw', 'orchard');
    romeo.sendPresenceWithCaps([`${NODE}+notify`]);
    const caps = n1.server.service<CapsService>('caps')!;
    await until(() => caps.features('romeo@localhost/orchard')?.has(`${NODE}+notify`) === true, 'n1 sees what romeo wants', 30_000);
    const publish = (id: string) => juliet.iq(`<iq type='set'><pubsub xmlns='${PUBSUB}'><publish node='${NODE}'><item id='${id}'><v xmlns='urn:test'/></item></publish></pubsub></iq>`, 20_000);

    assert.equal((await publish('reaches')).attrs.type, 'result');
    await romeo.waitStanza((e) => e.getChild('event', EVENT)?.getChild('items')?.getChild('item')?.attrs.id === 'reaches', 20_000);
    assert.equal(sample(await metrics!.scrape(), SERIES), 0);

    await env!.nats.stop();
    await until(() => n1.server.cluster!.status().bus === 'disconnected', 'n1 notices the outage');
    assert.equal((await publish('lost')).attrs.type, 'result', 'the publish is not the failure');
    await until(async () => sample(await metrics!.scrape(), SERIES) === 1, 'the dropped notification is counted', 30_000);
    const line = log.lines.find((l: LogLine) => l.msg === 'a stanza for a session on another cluster node was dropped');
    assert.ok(line, 'a log line names the drop');
    assert.equal(line.to, 'romeo@localhost/orchard');
    assert.equal(line.kind, 'headline');
    assert.equal(line.reason, 'unreachable');
    await env!.nats.start();
  });
});
