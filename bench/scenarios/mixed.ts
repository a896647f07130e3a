// mixed: U users in a ring of mutual presence subscriptions, each running one operation at a time for a
// bounded time: 40% chat message to its neighbour (done when the neighbour receives it), 20% presence change,
// 20% publish to its own PEP node (done at the ack), 20% retrieval of the neighbour's last item (presence
// access model). Ops/s and p50/p99 over all operations. Check: every message arrived, every IQ succeeded.
import { Meter, latencyStats, type Result } from '../report.ts';
import { NS_PUBSUB, closeAll, connectUsers, ensureMutual, isResult, payload, publishFirst, publishIq, sendPresence, type ScenarioCtx } from './common.ts';

export async function mixedScenario(ctx: ScenarioCtx): Promise<Result[]> {
  const seconds = ctx.quick ? 3 : 8;
  const U = ctx.quick ? 20 : 50;
  const node = 'urn:pepkeys:bench:mixed';
  const conns = await connectUsers(ctx, Array.from({ length: U }, (_, i) => ({ user: `mix${i}`, resource: `r${ctx.run}`, caps: [`${node}+notify`] })));
  for (const c of conns) sendPresence(c);
  await ensureMutual(ctx, conns.map((c, i) => [c, conns[(i + 1) % U]!]));
  const notes: string[] = [];
  for (const c of conns) await publishFirst(c, node, 'current', {}, notes);
  const problems: string[] = [];
  const lat: number[] = [];
  const waitingMsg = new Map<string, () => void>();
  for (const c of conns) {
    c.onMessage = (el) => {
      if (!el.includes('<body>')) return; // PEP notifications are expected too; only chat is tracked
      const k = /<body>([^<]+)<\/body>/.exec(el)?.[1];
      const cb = k ? waitingMsg.get(k) : undefined;
      if (cb) {
        waitingMsg.delete(k!);
        cb();
      }
    };
  }
  let ops = 0;
  let failures = 0;
  const counts = { message: 0, presence: 0, publish: 0, retrieve: 0 };
  const meter = new Meter(ctx.target.pid());
  meter.start();
  const deadline = performance.now() + seconds * 1000;
  const fail = (what: string) => {
    if (failures++ < 3) problems.push(what);
  };
  await Promise.all(
    conns.map(async (c, i) => {
      const peer = conns[(i + 1) % U]!;
      for (let seq = 0; performance.now() < deadline && seq < 100000; seq++) {
        const r = (seq * 7 + i) % 10;
        const start = performance.now();
        if (r < 4) {
          const key = `m${ctx.tag}x${i}x${seq}`;
          const got = new Promise<boolean>((resolve) => {
            const t = setTimeout(() => resolve(false), 10000);
            waitingMsg.set(key, () => (clearTimeout(t), resolve(true)));
          });
          c.write(`<message to='${peer.bare}' type='chat' id='${key}'><body>${key}</body></message>`);
          if (!(await got)) fail(`message ${key} not delivered`);
          counts.message++;
        } else if (r < 6) {
          c.write(`<presence>${seq % 2 ? '<show>away</show>' : ''}${c.capsElement()}</presence>`);
          counts.presence++;
        } else if (r < 8) {
          const id = c.newId('pub');
          const el = await c.iq(id, publishIq(id, node, 'current', payload(seq)), 30000).catch((e: Error) => e.message);
          if (!isResult(el)) fail(`publish failed: ${el.slice(0, 200)}`);
          counts.publish++;
        } else {
          const id = c.newId('get');
          const el = await c.iq(id, `<iq type='get' id='${id}' to='${peer.bare}'><pubsub xmlns='${NS_PUBSUB}'><items node='${node}' max_items='1'/></pubsub></iq>`, 30000).catch((e: Error) => e.message);
          if (!isResult(el) || !el.includes('<item')) fail(`retrieve failed: ${el.slice(0, 200)}`);
          counts.retrieve++;
        }
        lat.push(performance.now() - start);
        ops++;
      }
    }),
  );
  const m = meter.stop();
  if (failures) problems.push(`${failures} operations failed`);
  closeAll(conns);
  return [
    {
      target: ctx.target.name,
      scenario: 'mixed',
      variant: `users=${U}`,
      metric: 'ops/s',
      value: ops / m.seconds,
      ...latencyStats(lat),
      extra: { ...counts, ...(notes.length ? { notes: notes.join('; ') } : {}) },
      valid: problems.length === 0,
      problems,
      run: ctx.run,
      ...m,
    },
  ];
}
