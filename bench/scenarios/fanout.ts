// fanout: one publisher and S subscribers (10/100/500), each with a mutual presence subscription (RFC 6121
// handshake over the wire) and XEP-0115 caps advertising NODE+notify. The publisher keeps up to 4 items
// "in flight" (published but not yet received by every subscriber). Latency = publish sent → last
// subscriber's notification; notifications/s over the whole run. Check: every subscriber got exactly one
// notification per item.
import { Meter, latencyStats, type Result } from '../report.ts';
import { NS_PUBSUB, closeAll, connectUsers, ensureMutual, isResult, payload, publishFirst, publishIq, sendPresence, waitUntil, type ScenarioCtx, exactlyOnceProblems } from './common.ts';
import { everyPublishOptions, itemPayload, keyNodeOptions } from './workload.ts';

/** Items in flight of the legacy scenario; the real workload runs the windows given (1 and 16). */
const LEGACY_WINDOW = 4;
const FANOUT_NODE = 'urn:pepkeys:bench:fanout-keys';

export async function fanoutScenario(ctx: ScenarioCtx, sizes: number[], windows: number[] = [1, 16]): Promise<Result[]> {
  const out: Result[] = [];
  // Every subscriber any size needs, at once, while the accounts are still new (see provisionMutual).
  const most = Math.max(...sizes);
  if (ctx.target.provisionMutual && (await ctx.target.provisionMutual('fpub', Array.from({ length: most }, (_, i) => `fsub${i}`)))) {
    ctx.log(`${ctx.target.name}: rosters of fpub and fsub0..${most - 1} written directly (mutual subscriptions)`);
    // Prosody's mod_pep asks a client's own caps on its first presence; when that answer comes back for a
    // caps hash it did not know yet, it also subscribes the client's *bare* JID to every contact's PEP
    // (the "is_self" shortcut), so 500 subscribers logging in at once with a new hash and a ready-made
    // roster would each get every notification twice (bare and full JID). One connection without contacts
    // teaches it the hash first, which is what a server that has seen the client before has anyway.
    const [primer] = await connectUsers(ctx, [{ user: 'fcaps', resource: 'primer', caps: [`${FANOUT_NODE}+notify`] }]);
    sendPresence(primer!);
    if (!(await waitUntil(() => primer!.discoAnswered > 0, 30000))) ctx.log(`${ctx.target.name}: caps primer was not asked for its caps`);
    await waitUntil(() => false, 500);
    closeAll([primer!]);
  }
  for (const n of sizes) {
    if (ctx.workload === 'legacy') out.push(await fanoutOnce(ctx, n, LEGACY_WINDOW));
    else for (const w of windows) out.push(await fanoutOnce(ctx, n, w));
  }
  return out;
}

async function fanoutOnce(ctx: ScenarioCtx, subs: number, WINDOW: number): Promise<Result> {
  const seconds = ctx.quick ? 2 : 5;
  const real = ctx.workload === 'real';
  const maxItems = ctx.quick ? 200 : Math.min(20000, Math.floor(4e6 / subs));
  const node = real ? FANOUT_NODE : `urn:pepkeys:bench:fanout`;
  const problems: string[] = [];
  const t0 = performance.now();
  const [pub] = await connectUsers(ctx, [{ user: 'fpub', resource: `r${ctx.run}-${subs}-${WINDOW}` }]);
  const p = pub!;
  sendPresence(p);
  const subConns = await connectUsers(ctx, Array.from({ length: subs }, (_, i) => ({ user: `fsub${i}`, resource: `r${ctx.run}-${subs}-${WINDOW}`, caps: [`${node}+notify`] })));
  for (const s of subConns) sendPresence(s);
  const t1 = performance.now();
  await ensureMutual(ctx, subConns.map((s) => [s, p]));
  // Setup times, so a slow target's setup shows where it goes (Prosody rewrites the publisher's roster
  // file on every subscription change).
  ctx.log(`${ctx.target.name} fan-out ${subs} w${WINDOW}: sessions ${((t1 - t0) / 1000).toFixed(1)} s, subscriptions ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  // Presence again now that every subscription exists, so caps reach the publisher's side everywhere.
  for (const s of subConns) sendPresence(s, '<status>ready</status>');

  const prefix = `f${ctx.tag}x${ctx.run}x${subs}x${WINDOW}x`;
  const warmId = `warm${ctx.tag}x${ctx.run}x${subs}x${WINDOW}`;
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
  // Real: the warm-up publish carries the options (and creates the node on the first run).
  const notes: string[] = [];
  let accepted: Record<string, string> = {};
  if (real) accepted = await publishFirst(p, node, warmId, keyNodeOptions('presence', 200), notes, itemPayload('real', p.bare, 0));
  else {
    const w = await p.iq('f-warm', publishIq('f-warm', node, warmId, payload('warm')));
    if (!isResult(w)) throw new Error(`${ctx.target.name}: fan-out warm-up publish failed: ${w.slice(0, 300)}`);
  }
  const t2 = performance.now();
  if (!(await waitUntil(() => warm >= subs, 30000))) problems.push(`warm-up reached ${warm} of ${subs} subscribers`);
  ctx.log(`${ctx.target.name} fan-out ${subs} w${WINDOW}: warm-up ${((performance.now() - t2) / 1000).toFixed(1)} s`);
  await waitUntil(() => false, 300); // let stragglers (e.g. last-item pushes) drain

  const opts = everyPublishOptions(ctx.workload, accepted);
  const pre = `<iq type='set' id='f`;
  const mid = `'><pubsub xmlns='${NS_PUBSUB}'><publish node='${node}'><item id='${prefix}`;
  const posts = [0, 1].map((k) => `'>${real ? itemPayload('real', p.bare, k) : payload('F')}</item></publish>${opts}</pubsub></iq>`);
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
        p.iqCb(`f${seq}`, `${pre}${seq}${mid}${seq}${posts[seq & 1]}`, (el) => {
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
  problems.push(...exactlyOnceProblems(counts, sent, subs));
  if (ackErrors) problems.push(`${ackErrors} publish errors`);
  const errs = subConns.reduce((a, s) => a + s.errors, 0);
  if (errs) problems.push(`${errs} subscriber connections failed`);
  closeAll([p, ...subConns]);
  return {
    target: ctx.target.name,
    scenario: 'fanout',
    variant: real ? `subscribers=${subs} window=${WINDOW}` : `legacy subscribers=${subs}`,
    metric: 'notifications/s',
    value: received / m.seconds,
    ...latencyStats(lat),
    extra: { items: sent, itemsPerSecond: Math.round(lat.length / m.seconds), window: WINDOW, ...(notes.length ? { notes: notes.join('; ') } : {}) },
    valid: problems.length === 0,
    problems,
    run: ctx.run,
    ...m,
  };
}
