// idle: N sessions (1k; 10k in full runs) held open — each authenticated (SCRAM-SHA-1), bound, roster
// fetched, available — spread over N/10 accounts (10 resources each). KB of server RSS per session =
// (RSS with the sessions − RSS before) / N. Check: every session still answers: each sends an XEP-0199 ping
// to the server and must get the result.
import { Conn, openAll } from '../load/conn.ts';
import { Meter, procRssKB, type Result } from '../report.ts';
import { account, sleep } from '../targets/common.ts';
import { sendPresence, waitUntil, type ScenarioCtx } from './common.ts';

export async function idleScenario(ctx: ScenarioCtx, sizes: number[]): Promise<Result[]> {
  const out: Result[] = [];
  for (const n of sizes) out.push(await idleOnce(ctx, n));
  return out;
}

async function idleOnce(ctx: ScenarioCtx, n: number): Promise<Result> {
  const perAccount = 10;
  const users = Array.from({ length: Math.ceil(n / perAccount) }, (_, i) => `idle${i}`);
  await ctx.target.ensureAccounts(users.map(account));
  await sleep(1000);
  const pid = ctx.target.pid();
  const before = procRssKB(pid);
  const problems: string[] = [];
  const meter = new Meter(pid);
  meter.start();
  const conns = Array.from({ length: n }, (_, i) => new Conn({ port: ctx.target.port, domain: ctx.target.domain, user: users[Math.floor(i / perAccount)]!, password: account('x').password, resource: `i${ctx.run}x${i}`, timeoutMs: 60000 }));
  let opened = 0;
  try {
    await openAll(conns, 25);
    opened = n;
  } catch (e) {
    problems.push(`could not open all sessions: ${(e as Error).message.slice(0, 200)}`);
    opened = conns.filter((c) => !c.closed && c.socket).length;
  }
  const loginSeconds = (performance.now() - 0) / 1000;
  void loginSeconds;
  // roster + initial presence, paced
  let rosters = 0;
  for (let i = 0; i < conns.length; i += 500) {
    await Promise.all(
      conns.slice(i, i + 500).filter((c) => !c.closed).map((c) => {
        const id = c.newId('roster');
        return c.iq(id, `<iq type='get' id='${id}'><query xmlns='jabber:iq:roster'/></iq>`, 60000).then(() => {
          rosters++;
          sendPresence(c);
        }, () => undefined);
      }),
    );
  }
  await sleep(2000);
  const after = procRssKB(pid);
  // Every session must still answer.
  let pongs = 0;
  const pingAll = conns.filter((c) => !c.closed).map((c) => {
    const id = c.newId('ping');
    return c.iq(id, `<iq type='get' id='${id}' to='${ctx.target.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`, 60000).then(
      (el) => {
        if (el.includes("type='result'") || el.includes('type="result"')) pongs++;
      },
      () => undefined,
    );
  });
  await Promise.all(pingAll);
  const m = meter.stop();
  if (pongs !== n) problems.push(`${n - pongs} of ${n} sessions did not answer a ping`);
  for (const c of conns) c.close();
  await waitUntil(() => false, 1000);
  return {
    target: ctx.target.name,
    scenario: 'idle',
    variant: `sessions=${n}`,
    metric: 'KB/session',
    value: (after - before) / n,
    extra: { rssBeforeMB: Math.round(before / 1024), rssAfterMB: Math.round(after / 1024), opened, rosters, pongs },
    valid: problems.length === 0,
    problems,
    run: ctx.run,
    ...m,
  };
}
