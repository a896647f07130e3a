// websocket: the login and idle scenarios over RFC 7395 instead of TCP, on the target's WebSocket endpoint
// (pepkeys: /xmpp-websocket on its HTTP listener; Prosody: mod_websocket). Run beside `login` and `idle`
// for the TCP figures of the same process: `--scenario login,ws-login,idle,ws-idle`.
// ws-login: 20 loops connecting, SCRAM-SHA-1, bind, <close/>; logins/s and connect→bound latency.
// ws-idle: N bound sessions over N/10 accounts, roster fetched; KB of server RSS per session, every session
// answering a ping at the end.
import { Meter, procRssKB, type Result } from '../report.ts';
import { account, sleep } from '../targets/common.ts';
import { WsConn } from '../load/ws-conn.ts';
import type { ScenarioCtx } from './common.ts';
import { loginLoops } from './login.ts';

function urlOf(ctx: ScenarioCtx): string {
  const url = ctx.target.wsUrl;
  if (!url) throw new Error(`${ctx.target.name} has no WebSocket endpoint in the bench`);
  return url;
}

export function wsLoginScenario(ctx: ScenarioCtx): Promise<Result[]> {
  const url = urlOf(ctx);
  return loginLoops(ctx, 'ws-login', (user, resource) =>
    new WsConn({ url, domain: ctx.target.domain, user, password: account(user).password, resource: `w${resource}`, timeoutMs: 30000 }));
}

export async function wsIdleScenario(ctx: ScenarioCtx, sizes: number[]): Promise<Result[]> {
  const out: Result[] = [];
  for (const n of sizes) out.push(await wsIdleOnce(ctx, n));
  return out;
}

async function wsIdleOnce(ctx: ScenarioCtx, n: number): Promise<Result> {
  const url = urlOf(ctx);
  const perAccount = 10;
  const users = Array.from({ length: Math.ceil(n / perAccount) }, (_, i) => `idle${i}`);
  await ctx.target.ensureAccounts(users.map(account));
  await sleep(1000);
  const pid = ctx.target.pid();
  const before = procRssKB(pid);
  const problems: string[] = [];
  const meter = new Meter(pid);
  meter.start();
  const conns = Array.from({ length: n }, (_, i) => new WsConn({ url, domain: ctx.target.domain, user: users[Math.floor(i / perAccount)]!, password: account('x').password, resource: `wi${ctx.run}x${i}`, timeoutMs: 60000 }));
  let next = 0;
  let opened = 0;
  await Promise.all(Array.from({ length: 25 }, async () => {
    while (next < conns.length) {
      const c = conns[next++]!;
      try {
        await c.open();
        opened++;
        const id = c.newId('roster');
        await c.iq(id, `<iq xmlns='jabber:client' type='get' id='${id}'><query xmlns='jabber:iq:roster'/></iq>`, 60000);
      } catch (e) {
        if (problems.length < 3) problems.push(`session failed: ${(e as Error).message.slice(0, 200)}`);
      }
    }
  }));
  await sleep(2000);
  const after = procRssKB(pid);
  let pongs = 0;
  await Promise.all(conns.filter((c) => !c.closed).map((c) => {
    const id = c.newId('ping');
    return c.iq(id, `<iq xmlns='jabber:client' type='get' id='${id}' to='${ctx.target.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`, 60000).then(
      (el) => void (/type=['"]result['"]/.test(el) && pongs++),
      () => undefined,
    );
  }));
  const m = meter.stop();
  if (pongs !== n) problems.push(`${n - pongs} of ${n} sessions did not answer a ping`);
  for (const c of conns) c.close();
  await sleep(1000);
  return {
    target: ctx.target.name, scenario: 'ws-idle', variant: `sessions=${n}`, metric: 'KB/session', value: (after - before) / n,
    extra: { rssBeforeMB: Math.round(before / 1024), rssAfterMB: Math.round(after / 1024), opened, pongs },
    valid: problems.length === 0, problems, run: ctx.run, ...m,
  };
}
