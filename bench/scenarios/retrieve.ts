// retrieve: C concurrent fetchers (other accounts, window 1 each) asking one account's open PEP node for one
// item by id. Requests/s and p50/p99. Check: every answer is a result carrying the requested item.
import { Meter, latencyStats, type Result } from '../report.ts';
import { NS_PUBSUB, closeAll, connectUsers, isResult, payload, publishFirst, publishIq, type ScenarioCtx } from './common.ts';
import { everyPublishOptions, itemPayload, keyNodeOptions, payloadMarker } from './workload.ts';

/** Real workload: 10 and 100 fetchers over key items; legacy: 20 (quick) / 50 fetchers over <entry/> items. */
export async function retrieveScenario(ctx: ScenarioCtx, fetcherCounts?: number[]): Promise<Result[]> {
  const counts = fetcherCounts ?? (ctx.workload === 'legacy' ? [ctx.quick ? 20 : 50] : [10, 100]);
  const out: Result[] = [];
  for (const n of counts) out.push(...(await retrieveOnce(ctx, n)));
  return out;
}

async function retrieveOnce(ctx: ScenarioCtx, fetchers: number): Promise<Result[]> {
  const seconds = ctx.quick ? 2 : 5;
  const real = ctx.workload === 'real';
  const marker = payloadMarker(ctx.workload);
  const maxRequests = 500000;
  const K = 10;
  const node = `urn:pepkeys:bench:retrieve:${ctx.tag}:${ctx.run}:${fetchers}`;
  const [owner] = await connectUsers(ctx, [{ user: 'rowner', resource: `r${ctx.run}` }]);
  const o = owner!;
  const notes: string[] = [];
  const accepted = await publishFirst(o, node, 'i0', real ? keyNodeOptions('open', 20) : { 'pubsub#access_model': 'open', 'pubsub#max_items': '20' }, notes, real ? itemPayload('real', o.bare, 0) : payload('i0'));
  const opts = everyPublishOptions(ctx.workload, accepted);
  for (let k = 1; k < K; k++) {
    const r = await o.iq(`pre${k}`, publishIq(`pre${k}`, node, `i${k}`, real ? itemPayload('real', o.bare, k) : payload(k), opts));
    if (!isResult(r)) throw new Error(`${ctx.target.name}: retrieve setup publish failed`);
  }
  const conns = await connectUsers(ctx, Array.from({ length: fetchers }, (_, i) => ({ user: `rget${i}`, resource: `r${ctx.run}` })));
  const owner_ = `${o.bare}`;
  const problems: string[] = [];
  const lat: number[] = [];
  let done = 0;
  let bad = 0;
  let issued = 0;
  const meter = new Meter(ctx.target.pid());
  meter.start();
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    conns.map(
      (c, ci) =>
        new Promise<void>((resolve) => {
          let seq = 0;
          const hard = setTimeout(resolve, seconds * 1000 + 30000);
          const next = () => {
            if (performance.now() >= deadline || issued >= maxRequests) {
              clearTimeout(hard);
              return resolve();
            }
            issued++;
            const k = (seq + ci) % K;
            const id = `g${seq++}`;
            const start = performance.now();
            c.iqCb(id, `<iq type='get' id='${id}' to='${owner_}'><pubsub xmlns='${NS_PUBSUB}'><items node='${node}'><item id='i${k}'/></items></pubsub></iq>`, (el) => {
              lat.push(performance.now() - start);
              if (isResult(el) && (el.includes(`id='i${k}'`) || el.includes(`id="i${k}"`)) && el.includes(marker)) done++;
              else if (bad++ < 3) problems.push(`bad answer: ${el.slice(0, 200)}`);
              next();
            });
          };
          next();
        }),
    ),
  );
  const m = meter.stop();
  if (bad) problems.push(`${bad} requests failed`);
  closeAll([o, ...conns]);
  return [
    {
      target: ctx.target.name,
      scenario: 'retrieve',
      variant: `${real ? '' : 'legacy '}fetchers=${fetchers}`,
      metric: 'requests/s',
      value: done / m.seconds,
      ...latencyStats(lat),
      extra: { requests: issued, ...(notes.length ? { notes: notes.join('; ') } : {}) },
      valid: problems.length === 0,
      problems,
      run: ctx.run,
      ...m,
    },
  ];
}
