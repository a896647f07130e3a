// login: C concurrent loops, each connecting, authenticating with SCRAM-SHA-1, binding a resource and closing.
// Logins/s and p50/p99 of connect→bound. (The generator caches SaltedPassword per salt, so its own cost per
// login is a few HMACs; the server's is whatever its SCRAM implementation does.)
import { Conn } from '../load/conn.ts';
import { Meter, latencyStats, type Result } from '../report.ts';
import { account } from '../targets/common.ts';
import type { ScenarioCtx } from './common.ts';

export function loginScenario(ctx: ScenarioCtx): Promise<Result[]> {
  return loginLoops(ctx, 'login', (user, resource) =>
    new Conn({ port: ctx.target.port, domain: ctx.target.domain, user, password: account(user).password, resource: `l${resource}`, sasl: 'SCRAM-SHA-1', timeoutMs: 30000 }));
}

/** A connection the loops open (connect, authenticate, bind) and close; TCP here, WebSocket in ws-login. */
export interface LoginConn {
  open(): Promise<unknown>;
  close(): void;
}

/** The login loops over any transport: `connect(user, resource)` makes one connection, not yet opened. */
export async function loginLoops(ctx: ScenarioCtx, scenario: string, connect: (user: string, resource: string) => LoginConn): Promise<Result[]> {
  const seconds = ctx.quick ? 2 : 5;
  const loops = 20;
  const maxLogins = 100000;
  const users = Array.from({ length: loops }, (_, i) => `login${i}`);
  await ctx.target.ensureAccounts(users.map(account));
  const problems: string[] = [];
  const lat: number[] = [];
  let ok = 0;
  let failed = 0;
  let issued = 0;
  const meter = new Meter(ctx.target.pid());
  meter.start();
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    users.map(async (user, li) => {
      for (let n = 0; performance.now() < deadline && issued < maxLogins; n++) {
        issued++;
        const c = connect(user, `${ctx.run}x${li}x${n}`);
        const start = performance.now();
        try {
          await c.open();
          lat.push(performance.now() - start);
          ok++;
        } catch (e) {
          if (failed++ < 3) problems.push(`login failed: ${(e as Error).message.slice(0, 200)}`);
        }
        c.close();
      }
    }),
  );
  const m = meter.stop();
  if (failed) problems.push(`${failed} logins failed`);
  return [
    {
      target: ctx.target.name,
      scenario,
      variant: `loops=${loops}`,
      metric: 'logins/s',
      value: ok / m.seconds,
      ...latencyStats(lat),
      extra: { logins: ok },
      valid: problems.length === 0,
      problems,
      run: ctx.run,
      ...m,
    },
  ];
}
