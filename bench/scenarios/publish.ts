// publish: one publisher, a window of W outstanding publishes (W = 1 and 16), durable items on a fresh PEP
// node with max_items 200. Ack latency p50/p99 and items/s. Check: every acknowledged item still held by the
// node (the last 200, which is what max_items keeps) is retrievable with its payload; no publish failed.
import { Meter, latencyStats, type Result } from '../report.ts';
import { NS_PUBSUB, closeAll, connectUsers, isResult, itemIds, payload, publishFirst, type ScenarioCtx } from './common.ts';
import { everyPublishOptions, itemPayload, keyNodeOptions, payloadMarker } from './workload.ts';

const MAX_ITEMS = 200;

export async function publishScenario(ctx: ScenarioCtx, windows = [1, 16]): Promise<Result[]> {
  const out: Result[] = [];
  for (const window of windows) out.push(await publishOnce(ctx, window));
  return out;
}

async function publishOnce(ctx: ScenarioCtx, window: number): Promise<Result> {
  const seconds = ctx.quick ? 2 : 5;
  const maxItems = 200000;
  const [pub] = await connectUsers(ctx, [{ user: 'pub0', resource: `w${window}` }]);
  const c = pub!;
  const node = `urn:pepkeys:bench:publish:${ctx.tag}:${ctx.run}:${window}`;
  const problems: string[] = [];
  // Creates the node with its configuration (publish-options on a new node configure it, XEP-0060 §7.1.5).
  const notes: string[] = [];
  const real = ctx.workload === 'real';
  const fields = real ? keyNodeOptions('presence', MAX_ITEMS) : { 'pubsub#max_items': String(MAX_ITEMS), 'pubsub#persist_items': 'true' };
  const accepted = await publishFirst(c, node, 'init', fields, notes, real ? itemPayload('real', c.bare, 0) : payload('init'));
  // Pre-serialised: everything but the sequence number (real: two payloads, RSA for even, Ed25519 for odd).
  const opts = everyPublishOptions(ctx.workload, accepted);
  const [pre, mid] = [`<iq type='set' id='p`, `'><pubsub xmlns='${NS_PUBSUB}'><publish node='${node}'><item id='i`];
  const posts = [0, 1].map((k) => `'>${real ? itemPayload('real', c.bare, k) : payload('N')}</item></publish>${opts}</pubsub></iq>`);
  const lat: number[] = [];
  const acked: number[] = [];
  let sent = 0;
  let inflight = 0;
  let errors = 0;
  const meter = new Meter(ctx.target.pid());
  meter.start();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (inflight < window && sent < maxItems && performance.now() < deadline) {
        const seq = sent++;
        inflight++;
        const start = performance.now();
        c.iqCb(`p${seq}`, `${pre}${seq}${mid}${seq}${posts[seq & 1]}`, (el) => {
          inflight--;
          if (isResult(el)) {
            lat.push(performance.now() - start);
            acked.push(seq);
          } else if (errors++ < 3) problems.push(`publish error: ${el.slice(0, 200)}`);
          pump();
        });
      }
      if (inflight === 0) resolve();
    };
    pump();
    // Bounded: whatever is outstanding 30 s after the deadline counts as lost.
    setTimeout(() => resolve(), seconds * 1000 + 30000).unref();
  });
  const m = meter.stop();
  if (inflight > 0) problems.push(`${inflight} publishes never acknowledged`);
  // Correctness: retrieve the node; every acknowledged item that max_items keeps must be there.
  const items = await c.iq('p-check', `<iq type='get' id='p-check'><pubsub xmlns='${NS_PUBSUB}'><items node='${node}' max_items='${MAX_ITEMS}'/></pubsub></iq>`);
  const have = new Set(itemIds(items));
  acked.sort((a, b) => a - b);
  const kept = acked.slice(-MAX_ITEMS);
  const missing = kept.filter((s) => !have.has(`i${s}`));
  if (missing.length) problems.push(`${missing.length} of the last ${kept.length} acknowledged items not retrievable (e.g. i${missing[0]})`);
  if (!items.includes(real ? payloadMarker('real') : 'item N')) problems.push('retrieved items lack their payload');
  closeAll([c]);
  return {
    target: ctx.target.name,
    scenario: 'publish',
    variant: `${real ? '' : 'legacy '}window=${window}`,
    metric: 'items/s',
    value: acked.length / m.seconds,
    ...latencyStats(lat),
    extra: { acked: acked.length, errors, ...(notes.length ? { notes: notes.join('; ') } : {}) },
    valid: problems.length === 0,
    problems,
    run: ctx.run,
    ...m,
  };
}
