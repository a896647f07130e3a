// What handing outbound federation to the link's holder costs: two capulet.lit nodes (PostgreSQL + NATS, in
// this process) and montague.lit (a single server, in this process too), one link capulet.lit → montague.lit
// held by one node. Messages to Romeo from a user on the holder (straight onto the link) and from a user on
// the other node (over the bus to the holder first): burst rate and one-at-a-time latency.
//   node --import tsx bench/cluster/s2s-forward.ts [--burst 5000] [--samples 500]
import { parseArgs } from 'node:util';
import { startClusterEnv } from '../../test/helpers/cluster.ts';
import { startTestServer } from '../../test/helpers/server.ts';
import { RawClient } from '../../test/helpers/raw-client.ts';
import { linkHolder } from '../../src/server/s2s/cluster-links.ts';
import { randomBytes } from 'node:crypto';

const { values } = parseArgs({ options: { burst: { type: 'string', default: '5000' }, samples: { type: 'string', default: '500' } } });
const BURST = Number(values.burst);
const SAMPLES = Number(values.samples);

const env = await startClusterEnv({
  ids: ['n1', 'n2'], hosts: ['capulet.lit'], users: { 'juliet@capulet.lit': 'pw', 'nurse@capulet.lit': 'pw' },
  saslSecret: randomBytes(32), config: { s2s: { listen: ['127.0.0.1:0'] }, limits: { stanzas_per_second: 0, bytes_per_second: 0 } },
});
const mon = await startTestServer({ hosts: ['montague.lit'], users: { 'romeo@montague.lit': 'pw' }, config: { s2s: { listen: ['127.0.0.1:0'], stanza_rate: 1e6, stanza_burst: 1e6 }, limits: { stanzas_per_second: 0, bytes_per_second: 0 } } });
try {
  for (const n of env.nodes) n.server.s2s!.routes['montague.lit'] = `127.0.0.1:${mon.s2sPort}`;
  mon.server.s2s!.routes['capulet.lit'] = `127.0.0.1:${env.nodes[0]!.s2sPort}`;
  const holder = linkHolder(['n1', 'n2'], 'capulet.lit', 'montague.lit')!;
  const onHolder = env.nodes[holder === 'n1' ? 0 : 1]!;
  const other = env.nodes[holder === 'n1' ? 1 : 0]!;
  const login = async (port: number, jid: string) => {
    const c = await RawClient.connect(port);
    await c.login(jid, 'pw', 'bench');
    return c;
  };
  const romeo = await login(mon.port, 'romeo@montague.lit');
  const senders = { holder: await login(onHolder.port, 'juliet@capulet.lit'), forwarded: await login(other.port, 'nurse@capulet.lit') };
  let seen = 0;
  let waiting: { id: string; done: () => void } | undefined;
  // Counted as they arrive, not queued (a burst would make the client's queue search quadratic).
  romeo.respond((e) => {
    if (e.name !== 'message') return false;
    seen++;
    if (waiting && e.attrs.id === waiting.id) waiting.done();
    return true;
  }, () => '');
  const msg = (id: string) => `<message to='romeo@montague.lit/bench' type='chat' id='${id}'><body>x</body></message>`;
  const one = (c: RawClient, id: string) => new Promise<void>((resolve) => {
    waiting = { id, done: resolve };
    c.send(msg(id));
  });
  // Warm up: the link and dialback, both senders' paths.
  await one(senders.holder, 'w1');
  await one(senders.forwarded, 'w2');
  const q = (xs: number[], p: number) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
  for (const [name, c] of Object.entries(senders)) {
    const lat: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t = performance.now();
      await one(c, `${name}-l${i}`);
      lat.push(performance.now() - t);
    }
    const start = seen;
    const t0 = performance.now();
    const last = new Promise<void>((resolve) => (waiting = { id: `${name}-b${BURST - 1}`, done: resolve }));
    for (let i = 0; i < BURST; i++) c.send(msg(`${name}-b${i}`));
    await last;
    const secs = (performance.now() - t0) / 1000;
    console.log(`${name.padEnd(9)} latency p50 ${q(lat, 0.5).toFixed(2)} ms p99 ${q(lat, 0.99).toFixed(2)} ms; burst ${BURST} in ${secs.toFixed(2)} s = ${Math.round((seen - start) / secs)} msg/s`);
  }
  console.log(`inbound streams from capulet.lit at montague.lit: ${mon.server.s2s!.status().inbound.filter((s) => s.domains.includes('capulet.lit')).length}`);
  romeo.destroy();
  senders.holder.destroy();
  senders.forwarded.destroy();
} finally {
  await mon.stop();
  await env.stop();
}
