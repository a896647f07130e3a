// fanout: one publisher and S subscribers (10/100/500), each with a mutual presence subscription (RFC 6121
// handshake over the wire) and XEP-0115 caps advertising NODE+notify. The publisher keeps up to 4 items
// "in flight" (published but not yet received by every subscriber). Latency = publish sent → last
// subscriber's notification; notifications/s over the whole run. Check: every subscriber got exactly one
// notification per item.
import { Meter, latencyStats, type Result } from '../report.ts';
import { NS_PUBSUB, closeAll, connectUsers, ensureMutual, isResult, payload, publishIq, sendPresence, waitUntil, type ScenarioCtx } from './common.ts';

const WINDOW = 4;

export async function fanoutScenario(ctx: ScenarioCtx, sizes: number[]): Promise<Result[]> {
  const out: Result[] = [];
  for (const n of sizes) out.push(await fanoutOnce(ctx, n));
  return out;
}

async function fanoutOnce(ctx: ScenarioCtx, subs: number): Promise<Result> {
  const seconds = ctx.quick ? 2 : 5;
  const maxItems = ctx.quick ? 200 : 2000;
  const node = `urn:pepkeys:bench:fanout`;
  const problems: string[] = [];
  const [pub] = await connectUsers(ctx, [{ user: 'fpub', resource: `r${ctx.run}-${subs}` }]);
  const p = pub!;
  sendPresence(p);
  const subConns = await connectUsers(ctx, Array.from({ length: subs }, (_, i) => ({ user: `fsub${i}`, resource: `r${ctx.run}-${subs}`, caps: [`${node}+notify`] })));
  for (const s of subConns) sendPresence(s);
  await ensureMutual(ctx, subConns.map((s) => [s, p]));
  // Presence again now that every subscription exists, so caps reach the publisher's side everywhere.
  for (const s of subConns) sendPresence(s, '<status>ready</status>');

  const prefix = `f${ctx.tag}x${ctx.run}x${subs}x`;
  const warmId = `warm${ctx.tag}x${ctx.run}x${subs}`;
  // counts[seq * subs + i]: notifications of item seq received by subscriber i
  const counts = new Uint8Array(maxItems * subs);
  const remaining = new Int32Array(maxItems).fill(subs);
  const sentAt = new Float64Array(maxItems);
  const lat: number[] = [];
  let warm = 0;
  let received = 0;
  let inflight = 0;
  let wake: (() => void) | undefined;
  subConns.forEach((s, i) => {
    s.onMessage = (el) => {
      const k = el.indexOf(prefix);
      if (k < 0) {
        if (el.includes(warmId)) warm++;
        return;
      }
      let j = k + prefix.length;
      let seq = 0;
      for (let c = el.charCodeAt(j); c >= 48 && c <= 57; c = el.charCodeAt(++j)) seq = seq * 10 + (c - 48);
      if (seq >= maxItems) return;
      const slot = seq * subs + i;
      if (counts[slot]!++ === 0) {
        received++;
        if (--remaining[seq] === 0) {
          lat.push(performance.now() - sentAt[seq]!);
          inflight--;
          wake?.();
        }
      } else received++;
    };
  });

  // Warm-up item: every subscriber's caps must be known before measuring.
  const w = await p.iq('f-warm', publishIq('f-warm', node, warmId, payload('warm')));
  if (!isResult(w)) throw new Error(`${ctx.target.name}: fan-out warm-up publish failed: ${w.slice(0, 300)}`);
  if (!(await waitUntil(() => warm >= subs, 30000))) problems.push(`warm-up reached ${warm} of ${subs} subscribers`);
  await waitUntil(() => false, 300); // let stragglers (e.g. last-item pushes) drain

  const body = payload('F');
  const pre = `<iq type='set' id='f`;
  const mid = `'><pubsub xmlns='${NS_PUBSUB}'><publish node='${node}'><item id='${prefix}`;
  const post = `'>${body}</item></publish></pubsub></iq>`;
  let sent = 0;
  let ackErrors = 0;
  const meter = new Meter(ctx.target.pid());
  meter.start();
  const deadline = performance.now() + seconds * 1000;
  await new Promise<void>((resolve) => {
    const hard = setTimeout(() => resolve(), seconds * 1000 + 30000);
    const pump = () => {
      while (inflight < WINDOW && sent < maxItems && performance.now() < deadline) {
        const seq = sent++;
        inflight++;
        sentAt[seq] = performance.now();
        p.iqCb(`f${seq}`, `${pre}${seq}${mid}${seq}${post}`, (el) => {
          if (!isResult(el) && ackErrors++ < 3) problems.push(`publish error: ${el.slice(0, 200)}`);
        });
      }
      if (inflight === 0) {
        clearTimeout(hard);
        resolve();
      }
    };
    wake = pump;
    pump();
  });
  const m = meter.stop();
  // Duplicates may still be on their way: give them a moment, then check exactly-once.
  await waitUntil(() => false, 200);
  let missing = 0;
  let dups = 0;
  for (let seq = 0; seq < sent; seq++) {
    for (let i = 0; i < subs; i++) {
      const n = counts[seq * subs + i]!;
      if (n === 0) missing++;
      else if (n > 1) dups++;
    }
  }
  if (missing) problems.push(`${missing} notifications missing`);
  if (dups) problems.push(`${dups} duplicate notifications`);
  if (ackErrors) problems.push(`${ackErrors} publish errors`);
  const errs = subConns.reduce((a, s) => a + s.errors, 0);
  if (errs) problems.push(`${errs} subscriber connections failed`);
  closeAll([p, ...subConns]);
  return {
    target: ctx.target.name,
    scenario: 'fanout',
    variant: `subscribers=${subs}`,
    metric: 'notifications/s',
    value: received / m.seconds,
    ...latencyStats(lat),
    extra: { items: sent, itemsPerSecond: Math.round(lat.length / m.seconds), window: WINDOW },
    valid: problems.length === 0,
    problems,
    run: ctx.run,
    ...m,
  };
}
